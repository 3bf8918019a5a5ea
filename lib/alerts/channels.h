#pragma once
// Where alerts go, as the outbox names them (notify/channel.h: channel_key): `notify` for
// the [alerts] notify command, `webhook:<format>:<16 hex digits>` for a webhook, so that a
// queued notification still finds its webhook when the list in perfguard.toml is reordered,
// and finds none (and is given up) when its webhook is removed. The URL itself, which may
// hold a secret, is never stored.

#include <string>
#include <vector>

#include "config/config.h"
#include "store/alerts.h"

namespace perfguard {

// The channels configured: the notify command (every severity) and each webhook (from its
// min_severity on).
std::vector<NotifyChannel> notify_channels(const Config& config);

// How the findings of one evaluation are applied: now, on this host, with the configured
// self-resolution and channels.
AlertApplyOptions apply_options(const Config& config, const std::string& host, std::int64_t now_us);

}  // namespace perfguard
