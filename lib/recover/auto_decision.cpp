#include "recover/auto_decision.h"

#include <algorithm>
#include <array>
#include <climits>
#include <ctime>
#include <functional>

#include "core/duration.h"
#include "store/step_reads.h"

namespace perfguard {

namespace {

// The steps perfguard records, each of which a run of breaches can trigger on.
constexpr std::array<const char*, 4> kRecordedSteps{"commit", "rollback", "validate", "recover"};

// A recovery, for the cooldown and the hourly limit: a `recover` step recorded in the
// repository, on any branch and whatever its status (a failed or killed recovery still
// touched the work tree and the service), by --auto or by a person.
constexpr const char* kRecoveryStep = "recover";

RecoverAction action_for(const RecoverConfig& config, Severity severity) {
  switch (severity) {
    case Severity::critical:
      return config.automatic.critical;
    case Severity::warning:
      return config.automatic.warning;
    case Severity::info:
      return config.automatic.info;
  }
  return RecoverAction::none;
}

// As the threshold and consecutive rules count them: over the threshold, or killed at the
// timeout. A failed or interrupted run is not a breach and ends a run of breaches.
bool breached(StepStatus status) {
  return status == StepStatus::breach || status == StepStatus::timeout;
}

// A time for people, in UTC as everywhere in perfguard: "15:04:12Z", with the date when it is
// not the day of `now_us`.
std::string clock_text(std::int64_t at_us, std::int64_t now_us) {
  auto day_of = [](std::int64_t us) { return us / (24 * kHourUs); };
  std::time_t t = static_cast<std::time_t>(at_us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf,
                day_of(at_us) == day_of(now_us) ? "%H:%M:%SZ" : "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string times_text(std::int64_t n) {
  return n == 1 ? std::string("once") : std::to_string(n) + " times";
}

// The alerts that are triggers: open (a snooze that has run out is open again; an
// acknowledged or snoozed alert is owned by a person), of a rule a rollback can fix, in this
// repository on any branch.
//
// Every rule keys its alert by the repository of the run it judged (lib/alerts/rules.cpp;
// "whole repository" rules only leave the branch out) and health by the repository it
// measured, so no rule raises an alert for the whole store. An alert with an empty repo is
// about runs recorded outside any repository (imported benchmarks, for one): a rollback of
// this repository cannot fix it, so it is no trigger here, as `perf-alerts check` does not
// count it either. The match is exact: a context without a repository sees only those.
Status add_alert_triggers(Store& store, const RunContext& context, std::int64_t now_us,
                          std::int64_t after_us, std::vector<AutoTrigger>& out) {
  AlertQuery query;
  query.state = AlertState::open;
  query.now_us = now_us;
  query.repo = context.repo;
  auto alerts = store.alerts(query);
  if (!alerts) return alerts.error();
  for (const Alert& a : *alerts) {
    if (!rollback_can_fix(a.key.rule) || a.key.repo != context.repo || !a.is_active(now_us) ||
        a.last_seen_us <= after_us) {
      continue;
    }
    AutoTrigger t;
    t.why = "alert #" + std::to_string(a.id) + " " + to_string(a.key.rule) + " on " + a.key.step +
            (a.summary.empty() ? "" : ": " + a.summary);
    t.severity = a.severity;
    t.alert_id = a.id;
    t.step = a.key.step;
    out.push_back(std::move(t));
  }
  return {};
}

// A run of breaches: the newest `runs` runs of a step in this repository all breached. On any
// branch, as the alerts are, in the order they ran: a rollback acts on the work tree, and the
// work tree's last runs are what it is like now, whichever branch was checked out.
Status add_breach_triggers(Store& store, const RunContext& context, std::int64_t runs,
                           std::int64_t after_us, std::vector<AutoTrigger>& out) {
  for (const char* step : kRecordedSteps) {
    RunQuery query;
    query.step = step;
    query.repo = context.repo;
    query.since_us = after_us + 1;
    query.limit = static_cast<int>(runs);
    auto recent = store.recent_runs(query);
    if (!recent) return recent.error();
    if (static_cast<std::int64_t>(recent->size()) < runs ||
        !std::all_of(recent->begin(), recent->end(),
                     [](const RecentRun& r) { return breached(r.status); })) {
      continue;
    }
    AutoTrigger t;
    t.why = std::string(step) + " breached its threshold " + times_text(runs) +
            (runs == 1 ? "" : " in a row");
    t.severity = Severity::critical;  // as the issue has it: a run of breaches is critical
    t.step = step;
    out.push_back(std::move(t));
  }
  return {};
}

// Why an automatic recovery may not run now, and when it may.
struct Hold {
  std::string reason;
  std::optional<std::int64_t> until_us;  // none: not while the configuration stands
};

// When the last recovery of this repository started (0: never). What was seen before it is
// what that recovery answered: an alert still open from then, or the breaches that led to
// it, must not send the repository back again and again, a commit further each time.
Result<std::int64_t> last_recovery_us(Store& store, const RunContext& context) {
  RunQuery query;
  query.step = kRecoveryStep;
  query.repo = context.repo;
  query.limit = 20;  // the latest start among a few, as an import can store them out of order
  auto recent = store.recent_runs(query);
  if (!recent) return recent.error();
  std::int64_t last_us = 0;
  for (const RecentRun& r : *recent) last_us = std::max(last_us, r.started_us);
  return last_us;
}

// The cooldown: no automatic recovery within `cooldown` of the start of the last recovery.
// Zero: none.
Result<std::optional<Hold>> cooldown_hold(Store& store, const RecoverConfig& config,
                                          const RunContext& context, std::int64_t now_us) {
  const Duration cooldown = config.automatic.cooldown;
  if (cooldown.us <= 0) return std::optional<Hold>();
  RunQuery query;
  query.step = kRecoveryStep;
  query.repo = context.repo;
  query.since_us = now_us - cooldown.us;
  // Newest first by when they were stored, which an imported record can upset: the latest
  // start among a few.
  query.limit = 20;
  auto recent = store.recent_runs(query);
  if (!recent) return recent.error();
  if (recent->empty()) return std::optional<Hold>();
  std::int64_t last_us = 0;
  for (const RecentRun& r : *recent) last_us = std::max(last_us, r.started_us);
  // A recovery stamped later than now (another host's clock) was just now.
  const std::int64_t ago_us = std::max<std::int64_t>(now_us - last_us, 0);
  if (ago_us >= cooldown.us) return std::optional<Hold>();
  const std::int64_t until_us = now_us - ago_us + cooldown.us;
  Hold hold;
  // Whole seconds: "4m ago", not "4m0.123s ago".
  hold.reason = "cooldown: the last recovery was " +
                format_duration(Duration::seconds(ago_us / 1000000)) + " ago, the cooldown is " +
                format_duration(cooldown) + " (next possible at " + clock_text(until_us, now_us) +
                ")";
  hold.until_us = until_us;
  return std::optional<Hold>(std::move(hold));
}

// The hourly limit: no automatic recovery once `max_per_hour` recoveries started in the last
// hour (zero: never automatically).
Result<std::optional<Hold>> rate_hold(Store& store, const RecoverConfig& config,
                                      const RunContext& context, std::int64_t now_us) {
  const std::int64_t max = std::max<std::int64_t>(config.automatic.max_per_hour, 0);
  RunQuery query;
  query.step = kRecoveryStep;
  query.repo = context.repo;
  query.since_us = now_us - kHourUs;
  query.limit = static_cast<int>(std::min<std::int64_t>(max + 1, INT_MAX));
  auto recent = store.recent_runs(query);
  if (!recent) return recent.error();
  const auto count = static_cast<std::int64_t>(recent->size());
  if (count < max) return std::optional<Hold>();
  Hold hold;
  hold.reason = std::string("rate limit: ") + (count > max ? "more than " : "") +
                std::to_string(max) + (max == 1 ? " recovery" : " recoveries") +
                " in the last hour (at most " + std::to_string(max) + ")";
  if (max > 0) {
    // Possible again once the max-th newest has left the hour.
    std::vector<std::int64_t> starts;
    for (const RecentRun& r : *recent) starts.push_back(r.started_us);
    std::sort(starts.begin(), starts.end(), std::greater<>());
    const std::int64_t until_us = starts[static_cast<std::size_t>(max - 1)] + kHourUs;
    hold.reason += "; next possible at " + clock_text(until_us, now_us);
    hold.until_us = until_us;
  }
  return std::optional<Hold>(std::move(hold));
}

}  // namespace

bool rollback_can_fix(AlertRuleKind rule) {
  switch (rule) {
    case AlertRuleKind::threshold:
    case AlertRuleKind::baseline:
    case AlertRuleKind::anomaly:
    case AlertRuleKind::consecutive:
    case AlertRuleKind::failure:
      return true;
    case AlertRuleKind::degradation:
    case AlertRuleKind::prediction:
    case AlertRuleKind::rollback_rate:
    case AlertRuleKind::health:
    case AlertRuleKind::manual_recovery:
      return false;
  }
  return false;
}

std::optional<AlertFinding> manual_recovery_finding(const AutoDecision& decision,
                                                    const RunContext& context,
                                                    std::int64_t now_us) {
  if (decision.held_back) return std::nullopt;
  AlertFinding f;
  f.key = AlertKey{AlertRuleKind::manual_recovery, kRecoveryStep, context.repo, ""};
  f.firing = decision.action == RecoverAction::manual;
  if (f.firing && !decision.triggers.empty()) f.severity = decision.triggers.front().severity;
  f.summary = f.firing ? "a recovery waits for a person (perf-recover --yes): " + decision.reason
                       : "no recovery waits for a person";
  // Each decision is a run of its own, judged once.
  f.runs.push_back(RunRef{0, kRecoveryStep, now_us, 0, StepStatus::ok});
  return f;
}

Result<AutoDecision> decide_auto(Store& store, const RecoverConfig& config,
                                 const RunContext& context, std::int64_t now_us) {
  AutoDecision d;
  const std::int64_t runs = std::max<std::int64_t>(config.automatic.consecutive, 1);
  auto after = last_recovery_us(store, context);
  if (!after) return after.error();
  if (auto s = add_alert_triggers(store, context, now_us, *after, d.triggers); !s) {
    return s.error();
  }
  if (auto s = add_breach_triggers(store, context, runs, *after, d.triggers); !s) {
    return s.error();
  }
  // Most severe first; among equals, alerts (most severe and most recent first, as the store
  // lists them) before runs of breaches, in the order of the steps.
  std::stable_sort(
      d.triggers.begin(), d.triggers.end(),
      [](const AutoTrigger& a, const AutoTrigger& b) { return a.severity > b.severity; });

  if (d.triggers.empty()) {
    d.reason = "no trigger: no open alert on the rules a rollback can fix, and no step breached " +
               times_text(runs) + (runs == 1 ? "" : " in a row") +
               (*after ? " since the last recovery" : "");
    return d;
  }

  // The most severe trigger decides.
  const AutoTrigger& top = d.triggers.front();
  const char* level = to_string(top.severity);
  const std::string head = std::string(level) + " " + top.why;
  const RecoverAction wanted = action_for(config, top.severity);
  if (wanted == RecoverAction::none) {
    d.reason = head + " ([recover.auto] " + level + " is \"none\": nothing to do)";
    return d;
  }
  if (wanted == RecoverAction::manual) {
    // Not held back by the cooldown or the hourly limit: telling people is cheap, and a
    // person who decides to recover is not bound by them.
    d.action = RecoverAction::manual;
    d.reason = head + " ([recover.auto] " + level + " is \"manual\": a person decides)";
    return d;
  }

  // An automatic recovery: not too soon after the last one, nor too many in the hour. When
  // both hold it back, the one that lasts longer is the reason.
  auto cooldown = cooldown_hold(store, config, context, now_us);
  if (!cooldown) return cooldown.error();
  auto rate = rate_hold(store, config, context, now_us);
  if (!rate) return rate.error();
  const Hold* hold = cooldown->has_value() ? &**cooldown : nullptr;
  if (rate->has_value() && (!hold || !(*rate)->until_us || ((*rate)->until_us > hold->until_us))) {
    hold = &**rate;
  }
  if (hold) {
    d.held_back = true;
    d.reason = hold->reason;
    return d;
  }
  d.action = RecoverAction::automatic;
  d.reason = head;
  return d;
}

}  // namespace perfguard
