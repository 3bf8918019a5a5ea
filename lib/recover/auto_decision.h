#pragma once
// What `perf-recover --auto` does now: recover, tell people and wait for a person, or nothing.
// It acts only on a trigger (an open alert of a rule a rollback can fix, or a step that
// breached its threshold several times in a row), as [recover.auto] maps the most severe
// trigger's severity to an action, and only outside the cooldown and under the hourly limit.
// Reads the store; changes nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "config/config.h"
#include "core/result.h"
#include "store/store.h"
#include "trace/record.h"

namespace perfguard {

// One reason to recover.
struct AutoTrigger {
  // One line: "alert #17 threshold on commit: commit took 1.5s, over its 1s threshold", or
  // "commit breached its threshold 3 times in a row".
  std::string why;
  Severity severity = Severity::critical;
  std::optional<std::int64_t> alert_id;  // none for a run of breaches
  std::string step;
};

struct AutoDecision {
  RecoverAction action = RecoverAction::none;  // what to do now
  std::vector<AutoTrigger> triggers;           // every trigger found, most severe first
  // One line for people: why this action ("critical alert #17 threshold on commit: …",
  // "no trigger: …", "cooldown: the last recovery was 4m ago, …", "rate limit: …").
  std::string reason;
  // The most severe trigger asks for a recovery, but the cooldown or the hourly limit held it
  // back (action is then none): perf-recover refuses for safety.
  bool held_back = false;
};

// Whether a rollback can fix what an alert of `rule` is about: a slow, stuck or failing step
// now (threshold, baseline, anomaly, consecutive, failure), and not a trend (degradation,
// prediction), the rate of rollbacks itself, or the repository's size (health).
bool rollback_can_fix(AlertRuleKind rule);

// What a decision tells the alerts (rule manual_recovery, on the step `recover`, about the
// whole repository): a manual one fires, as severe as the trigger that asked for it, so that
// the alert's channels tell people that a recovery waits for one of them; a decision that
// needs nobody (no trigger, nothing to do, or a recovery starting) counts towards resolving
// it; one held back by the cooldown or the hourly limit says nothing.
std::optional<AlertFinding> manual_recovery_finding(const AutoDecision& decision,
                                                    const RunContext& context, std::int64_t now_us);

// Decides from the store, as of `now_us`: the open alerts of `context.repo`, the newest runs
// of the recorded steps (commit, rollback, validate, recover) there for a run of breaches,
// and the `recover` steps recorded there for the cooldown and the hourly limit. An error
// only when the store cannot be read.
Result<AutoDecision> decide_auto(Store& store, const RecoverConfig& config,
                                 const RunContext& context, std::int64_t now_us);

}  // namespace perfguard
