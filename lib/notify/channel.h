#pragma once
// Where an alert's notifications go: the `[alerts] notify` command, or a webhook
// (`[[alerts.webhook]]`), and the key under which the outbox keeps each one's deliveries.

#include <optional>
#include <string>
#include <string_view>

#include "alerts/alert.h"
#include "core/duration.h"
#include "core/result.h"

namespace perfguard {

// What a webhook is sent (notify/message.h builds each):
//   json       perfguard's own alert document, as the notify command gets it on stdin
//   slack      a Slack incoming-webhook message ({"text": …})
//   pagerduty  a PagerDuty Events API v2 event (trigger or resolve)
enum class WebhookFormat { json, slack, pagerduty };
const char* to_string(WebhookFormat format);
std::optional<WebhookFormat> parse_webhook_format(std::string_view text);

struct Webhook {
  // http:// or https://. Its path and query often hold a secret (Slack's are the
  // credential): no message shows more of it than redact_url() does.
  std::string url;
  WebhookFormat format = WebhookFormat::json;
  // Events about alerts below this severity are not sent here (a test message always is).
  Severity min_severity = Severity::warning;
  std::string routing_key;                   // pagerduty: the integration key; a secret too
  Duration timeout = Duration::seconds(10);  // to connect, and for the whole request
};

// Whether `webhook` can be used: an http or https URL that names a host, without spaces or
// control characters; a routing key for pagerduty; a positive timeout. The message never
// quotes the URL beyond redact_url() nor the routing key. A usage error.
Status check_webhook(const Webhook& webhook);

// The part of a URL that is safe to show: `scheme://host[:port]`, lowercased; no user,
// password, path, query or fragment. `(an invalid URL)` when it has no scheme or host.
std::string redact_url(std::string_view url);

// Channel keys: what the outbox stores with each pending notification, so that a retry
// goes to the same place and a delivery is recorded once per channel. Stable across runs
// and across the order of the configuration; no secret can be read back from them.
//
//   notify                        the [alerts] notify command (there is one)
//   webhook:<format>:<16 hex>     a webhook: the first 64 bits of the SHA-1 of its URL and
//                                 routing key, e.g. webhook:slack:3f9a0c61d2e4b785
//
// A webhook whose URL or routing key changes is a new channel: notifications still queued
// for the old key have no channel any more.
inline constexpr std::string_view kNotifyCommandChannel = "notify";
std::string channel_key(const Webhook& webhook);

}  // namespace perfguard
