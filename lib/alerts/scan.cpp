#include "alerts/scan.h"

#include "alerts/channels.h"
#include "alerts/rules.h"

namespace perfguard {

Result<ScanResult> scan_alerts(Store& store, const Config& config, const std::string& host,
                               std::int64_t now_us, std::int64_t since_us) {
  ScanResult result;
  if (!config.alerts.enabled) return result;
  if (auto rolled = store.catch_up_rollups(); !rolled) return rolled.error();
  auto runs = runs_to_scan(store, since_us);
  if (!runs) return runs.error();
  result.runs_judged = runs->size();
  AlertRules rules(store, config.alerts, config.thresholds, now_us);
  std::vector<AlertFinding> findings;
  for (const JudgedRun& run : *runs) {
    auto found = rules.evaluate(run, Evaluation::scan);
    if (!found) return found.error();
    std::move(found->begin(), found->end(), std::back_inserter(findings));
  }
  auto changes = store.apply_findings(findings, apply_options(config, host, now_us));
  if (!changes) return changes.error();
  result.changes = std::move(*changes);
  return result;
}

}  // namespace perfguard
