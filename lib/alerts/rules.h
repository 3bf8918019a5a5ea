#pragma once
// The alert rules (perf-alerts(1) says when each fires): threshold, baseline, anomaly,
// degradation, prediction, consecutive, rollback rate and failure, evaluated on one judged
// run of a step. Each gives a finding for its key: firing, or clear (which counts towards
// the alert resolving itself), or none when it has nothing to say about the run (too few
// samples, a run that failed before it could be timed). The store applies the findings
// (Store::apply_findings); the rules only read it.

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "store/store.h"

namespace perfguard {

// The run the rules judge: a step as it was just recorded, or the newest of its step in one
// repository and branch when perf-alerts scan evaluates everything.
struct JudgedRun {
  std::string step;
  std::string repo;
  std::string branch;
  RecentRun run;
};

JudgedRun judged_run(const StepRecord& record);

// When the rules run. On record, the window rules (degradation, prediction), which move by
// the hour, are evaluated only for the first run of a step in its hour; a scan evaluates
// every rule.
enum class Evaluation { on_record, scan };

class AlertRules {
 public:
  // `thresholds` give the prediction rule the limit a step's p95 is heading for when its
  // runs do not carry one.
  AlertRules(Store& store, const AlertsConfig& config, const Thresholds& thresholds,
             std::int64_t now_us)
      : store_(store), config_(config), thresholds_(thresholds), now_us_(now_us) {}

  // The findings of every enabled rule on `run`.
  Result<std::vector<AlertFinding>> evaluate(const JudgedRun& run, Evaluation when);

 private:
  Store& store_;
  const AlertsConfig& config_;
  const Thresholds& thresholds_;
  std::int64_t now_us_;
};

// Evaluates the rules on every run of `records` (Evaluation::on_record), for
// Store::record's evaluate callback.
Result<std::vector<AlertFinding>> evaluate_records(Store& store, const Config& config,
                                                   const std::vector<StepRecord>& records,
                                                   std::int64_t now_us);

// The newest run of every step, repository and branch that ran since `since_us`, as
// perf-alerts scan judges them.
Result<std::vector<JudgedRun>> runs_to_scan(Store& store, std::int64_t since_us);

}  // namespace perfguard
