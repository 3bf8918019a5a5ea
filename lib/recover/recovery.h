#pragma once
// The recovery: one trace whose root is the step `recover`, its parts child spans: preflight,
// snapshot, rollback, validate, restart, health, record. perf-recover runs it; the snapshot and the
// rollback are perf-rollback's own (steps/rollback_step.h), so an undo is the same too.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/duration.h"
#include "core/result.h"
#include "git/repository.h"
#include "recover/target.h"
#include "safety/snapshot.h"
#include "steps/rollback_step.h"
#include "trace/record.h"

namespace perfguard {

// How the recovery ended, in the order of the parts: the first that went wrong.
enum class RecoveryOutcome { healthy, rollback_failed, restart_failed, health_failed };
const char* to_string(RecoveryOutcome outcome);  // "healthy", "rollback failed", …

struct RecoveryOptions {
  RecoveryTarget target;
  RollbackOptions rollback;  // target, thresholds, timeouts, force, output, snapshot reason
  // plan_rollback's plan for `rollback` with the target, made a moment ago with nothing
  // asked since: the tree is then scanned once. None: the rollback plans.
  std::optional<RollbackPlan> plan;
  Duration threshold = Duration::seconds(10);
  std::optional<Duration> timeout;  // the whole recovery's hard limit (timeouts.recover)
  std::optional<CommandSpec> restart, health;
  Duration restart_timeout = Duration::seconds(5);
  std::optional<Duration> health_timeout;  // unset: what is left of the threshold
  Duration health_interval = Duration::millis(250);
  bool verify = false;     // `git fsck --connectivity-only` after the validation
  bool warn_only = false;  // a breach exits 0 (an emergency enforces no threshold)
  std::string mode;        // manual, emergency or auto: a label of the record
  StreamMode service_output = StreamMode::capture;  // the restart's and health check's
};

struct RecoveryRun {
  StepRecord record;  // the step "recover"
  std::optional<Snapshot> snapshot;
  RecoveryOutcome outcome = RecoveryOutcome::healthy;
  std::string failure;         // which part went wrong and why, one line; empty when healthy
  std::string service_output;  // the restart's output and the last health check's, trimmed
  int health_tries = 0;
  std::chrono::steady_clock::time_point started;  // the root span's start
  bool warn_only = false;
};

// Snapshots, rolls back to the target and validates (perf-rollback's parts), then runs the
// restart command and the health check (tried every health_interval until it passes or its
// time runs out). `started` is when the preflight began: it is the root span's start. A
// refusal or a bad target is an error, and nothing has changed; anything that goes wrong
// after the snapshot is in the run's outcome and status.
Result<RecoveryRun> run_recovery(const Repository& repo, RecoveryOptions options,
                                 std::chrono::steady_clock::time_point started,
                                 std::int64_t started_us);

// The last part, `record`: from the end of the others until now, when the store is open and
// its write lock held (or the journal is to be written). The write itself, well under a
// millisecond, cannot be timed in the record it writes. The root then ends now, and a
// recovery that the wait took past its threshold is a breach.
void close_record_span(const RecoveryRun& run, StepRecord& record);

}  // namespace perfguard
