#include "alerts/channels.h"

namespace perfguard {

std::vector<NotifyChannel> notify_channels(const Config& config) {
  std::vector<NotifyChannel> out;
  if (config.notify) out.push_back({std::string(kNotifyCommandChannel), Severity::info});
  for (const Webhook& hook : config.alerts.webhooks) {
    out.push_back({channel_key(hook), hook.min_severity});
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
