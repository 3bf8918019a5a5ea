#include "notify/channel.h"

#include <array>
#include <cstdio>

#include "core/sha1.h"
#include "notify/url.h"

namespace perfguard {

namespace {

constexpr std::array<const char*, 3> kFormats = {"json", "slack", "pagerduty"};

}  // namespace

const char* to_string(WebhookFormat format) {
  return kFormats[static_cast<std::size_t>(format)];
}

std::optional<WebhookFormat> parse_webhook_format(std::string_view text) {
  for (std::size_t i = 0; i < kFormats.size(); ++i) {
    if (text == kFormats[i]) return static_cast<WebhookFormat>(i);
  }
  return std::nullopt;
}

Status check_webhook(const Webhook& webhook) {
  const auto parts = split_url(webhook.url);
  if (!parts || (parts->scheme != "http" && parts->scheme != "https")) {
    return make_error(ExitCode::usage,
                      "webhook url is not an http:// or https:// URL with a host (not shown: "
                      "it may hold a secret): check [[alerts.webhook]] url");
  }
  for (char ch : webhook.url) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) {
      return make_error(ExitCode::usage, "webhook url for " + parts->origin() +
                                             " holds a space or a control character: "
                                             "percent-encode it (%20)");
    }
  }
  if (webhook.format == WebhookFormat::pagerduty && webhook.routing_key.empty()) {
    return make_error(ExitCode::usage, "pagerduty webhook for " + parts->origin() +
                                           " has no routing_key: set it to the integration "
                                           "key of the PagerDuty service");
  }
  if (webhook.timeout.us <= 0) {
    return make_error(ExitCode::usage, "webhook timeout for " + parts->origin() +
                                           " must be longer than 0 (e.g. \"10s\")");
  }
  return {};
}

std::string redact_url(std::string_view url) {
  const auto parts = split_url(url);
  return parts ? parts->origin() : "(an invalid URL)";
}

std::string channel_key(const Webhook& webhook) {
  Sha1 sha;
  sha.update(webhook.url);
  sha.update(std::string_view("\n", 1));
  sha.update(webhook.routing_key);
  const auto digest = sha.finish();
  std::string key = "webhook:";
  key += to_string(webhook.format);
  key += ':';
  char hex[3];
  for (std::size_t i = 0; i < 8; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", digest[i]);
    key += hex;
  }
  return key;
}

}  // namespace perfguard
