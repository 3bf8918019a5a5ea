#pragma once
// Sending what the store's notifications outbox holds: each notification claimed (so that
// two senders at once never both send it), delivered through its channel (the notify
// command, or the webhook whose channel_key it names), and then marked sent, retried later
// with backoff (retry_delay, or a Retry-After the server asked for), or given up (a
// permanent failure, or a channel no longer configured). A notification is marked sent only
// after its channel took it; one whose sender died is claimed again when its lease runs out.

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "store/store.h"

namespace perfguard {

struct OutboxAttempt {
  std::int64_t alert_id = 0;
  std::string event;
  std::string channel;  // as the outbox names it (no secret)
  bool sent = false;
  bool gave_up = false;
  std::string message;  // the delivery's one line
};

// Sends the notifications due at `now_us` (with `all`, every pending one, whatever its
// backoff says: perf-alerts notify --retry).
Result<std::vector<OutboxAttempt>> flush_outbox(Store& store, const Config& config,
                                                std::int64_t now_us, bool all);

}  // namespace perfguard
