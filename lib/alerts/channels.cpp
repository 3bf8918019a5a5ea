#include "alerts/channels.h"

#include "core/sha1.h"

namespace perfguard {

std::string webhook_channel_key(const WebhookSpec& webhook) {
  Sha1 sha;
  sha.update(webhook.url);
  auto digest = sha.finish();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key = "webhook:";
  for (int i = 0; i < 6; ++i) {
    key += kHex[digest[i] >> 4];
    key += kHex[digest[i] & 15];
  }
  return key;
}

std::vector<NotifyChannel> notify_channels(const Config& config) {
  std::vector<NotifyChannel> out;
  if (config.notify) out.push_back({"notify", Severity::info});
  for (const WebhookSpec& hook : config.alerts.webhooks) {
    out.push_back({webhook_channel_key(hook), hook.min_severity});
  }
  return out;
}

AlertApplyOptions apply_options(const Config& config, const std::string& host,
                                std::int64_t now_us) {
  AlertApplyOptions options;
  options.now_us = now_us;
  options.host = host;
  options.resolve_after = config.alerts.resolve_after;
  options.channels = notify_channels(config);
  return options;
}

}  // namespace perfguard
