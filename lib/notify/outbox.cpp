#include "notify/outbox.h"

#include <algorithm>

#include "notify/deliver.h"
#include "notify/message.h"

namespace perfguard {

namespace {

// How long a sender holds what it claimed: longer than any one delivery may take.
constexpr std::int64_t kLeaseUs = 10LL * 60 * 1000000;
// Claimed at a time: a sender killed half-way leaves at most this many for the lease.
constexpr int kBatch = 20;
constexpr int kAllAtOnce = 100000;

const Webhook* webhook_for(const Config& config, const std::string& channel) {
  for (const Webhook& hook : config.alerts.webhooks) {
    if (channel_key(hook) == channel) return &hook;
  }
  return nullptr;
}

}  // namespace

Result<std::vector<OutboxAttempt>> flush_outbox(Store& store, const Config& config,
                                                std::int64_t now_us, bool all) {
  std::vector<OutboxAttempt> attempts;
  for (;;) {
    // With `all`, one pass over everything pending: what fails again waits for its backoff.
    auto claimed = store.claim_notifications(now_us, kLeaseUs, all ? kAllAtOnce : kBatch, all);
    if (!claimed) return claimed.error();
    if (claimed->empty()) break;
    for (const PendingNotification& p : *claimed) {
      OutboxAttempt a{p.alert.id, p.event, p.channel};
      NotificationResult result;
      auto event = parse_notify_event(p.event).value_or(NotifyEvent::opened);
      Result<Delivery> delivery = make_error(ExitCode::usage, "");
      if (p.channel == kNotifyCommandChannel && config.notify) {
        delivery = run_notify_command(*config.notify, alert_document(event, p.alert, now_us),
                                      config.alerts.notify_timeout);
      } else if (const Webhook* hook = webhook_for(config, p.channel)) {
        delivery = post_webhook(*hook, webhook_body(*hook, event, p.alert, now_us));
      } else {
        delivery = make_error(ExitCode::usage, p.channel + " is no longer configured");
      }
      if (!delivery) {
        result.give_up = true;
        result.error = delivery.error().message;
      } else if (delivery->delivered) {
        result.sent = true;
      } else if (delivery->permanent()) {
        result.give_up = true;
        result.error = delivery->message;
      } else {
        Duration wait = retry_delay(p.attempts + 1);
        if (delivery->retry_after) wait = std::max(wait, *delivery->retry_after);
        result.retry_at_us = now_us + wait.us;
        result.error = delivery->message;
      }
      a.sent = result.sent;
      a.gave_up = result.give_up;
      a.message = delivery ? delivery->message : delivery.error().message;
      if (auto s = store.finish_notification(p.id, result, now_us); !s) return s.error();
      attempts.push_back(std::move(a));
    }
    if (all) break;
  }
  return attempts;
}

}  // namespace perfguard
