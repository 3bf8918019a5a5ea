#pragma once
// Delivering one message through one channel, and saying exactly what happened, so that the
// outbox can record it, retry with backoff what may yet succeed, and give up on what cannot.
//
// A delivery can be sent twice but never reported as sent when it was not: an answer lost
// after the receiver acted (a connection reset, a timeout after the request was read) is a
// retryable failure. PagerDuty deduplicates the repeat by its dedup_key; a Slack channel or
// a command may see the message twice, which is better than never.

#include <optional>
#include <string>

#include "config/config.h"
#include "core/duration.h"
#include "core/result.h"
#include "notify/channel.h"

namespace perfguard {

struct Delivery {
  bool delivered = false;  // a 2xx answer; the command exited with 0
  // Not delivered, and trying again later may succeed: a 5xx, 408 or 429 answer, a timeout,
  // a connection refused or reset, a name that did not resolve, an interrupt, a command that
  // failed, was killed or could not be started. Not delivered and not retryable (permanent):
  // any other 3xx or 4xx answer (redirects are not followed), a TLS certificate that does
  // not verify. A permanent failure needs a change of configuration.
  bool retryable = false;
  bool timed_out = false;               // no answer or exit within the timeout
  std::optional<int> http_status;       // the answer's status, when there was one
  std::optional<int> exit_code;         // the command's exit status (128+signal when killed)
  std::optional<Duration> retry_after;  // a Retry-After the server sent: wait at least this
  Duration elapsed;                     // from the start of the attempt to its end
  // One line for the outbox's record and for people, without a secret (for a webhook, the
  // URL as redact_url() shows it, never its path, query or user, nor the routing key):
  //   delivered to https://hooks.slack.com (HTTP 200)
  //   https://events.pagerduty.com answered HTTP 400: {"status":"invalid event",…}
  //   https://hooks.example.com did not answer within 10s
  //   notify command exited with 3: smtp: connection refused
  std::string message;

  bool permanent() const { return !delivered && !retryable; }
};

// POSTs `body` to the webhook with libcurl: Content-Type application/json; its timeout for
// connecting and for the whole request; redirects not followed; http and https only; TLS
// peer and host verified against the system's CA store; proxies as curl's environment
// variables say (https_proxy, no_proxy, …). An interrupt (received_interrupt()) abandons the
// request within a second: retryable. An error (usage) when the webhook fails
// check_webhook(), or when libcurl cannot be set up (step_failed): nothing was sent.
Result<Delivery> post_webhook(const Webhook& webhook, const std::string& body);

// Runs the `[alerts] notify` command through the runner with `json` (alert_document()) on
// its stdin, its stdout discarded and its stderr captured; killed (its process group: TERM,
// then KILL) at `timeout`. Delivered when it exits with 0; otherwise the message quotes the
// last line it wrote to stderr. An error (usage) only for an empty command.
Result<Delivery> run_notify_command(const CommandSpec& command, const std::string& json,
                                    Duration timeout);

// How long the outbox waits before the next attempt, after `attempts` failed ones: 30 s,
// then doubling (1 min, 2 min, 4 min, 8 min, 16 min, 32 min) up to 1 h, then every hour.
// 0 for no failed attempt yet. Deterministic (no jitter); a server's Retry-After, when
// longer, wins.
Duration retry_delay(int attempts);

}  // namespace perfguard
