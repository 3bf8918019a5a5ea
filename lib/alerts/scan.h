#pragma once
// Evaluating every rule on the newest run of every step, repository and branch recorded
// lately, and applying what they find: `perf-alerts scan`, and `perf-baseline import` once
// its records are in. A run is judged once (Store::apply_findings), so it is idempotent.

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "store/store.h"

namespace perfguard {

struct ScanResult {
  std::size_t runs_judged = 0;
  std::vector<AlertChange> changes;
};

// The runs started at or after `since_us` are judged. Nothing when [alerts] enabled is false.
Result<ScanResult> scan_alerts(Store& store, const Config& config, const std::string& host,
                               std::int64_t now_us, std::int64_t since_us);

}  // namespace perfguard
