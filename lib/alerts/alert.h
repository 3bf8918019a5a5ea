#pragma once
// An alert: what perf-alerts raises when a rule's condition holds, and what people own until
// it is dealt with. Its rule, severity and state, the scope it concerns, and its history.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perfguard {

// In this order: a level compares with another (info < warning < critical).
enum class Severity { info, warning, critical };
const char* to_string(Severity severity);
std::optional<Severity> parse_severity(std::string_view text);

// open → acknowledged or snoozed → resolved. A snooze that has run out counts as open.
enum class AlertState { open, acknowledged, snoozed, resolved };
const char* to_string(AlertState state);
std::optional<AlertState> parse_alert_state(std::string_view text);

// The rules, as perfguard.toml's [alerts.<rule>] tables and the store name them.
enum class AlertRuleKind {
  threshold,
  baseline,
  anomaly,
  degradation,
  prediction,
  consecutive,
  rollback_rate,
  failure,
  health,
  manual_recovery,  // perf-recover --auto: a recovery waits for a person
};
const char* to_string(AlertRuleKind rule);
std::optional<AlertRuleKind> parse_alert_rule(std::string_view text);

// What one alert is about: one rule on one step (or, for health, one figure) in one
// repository and branch. While an alert with the same key is unresolved, the rule firing
// again bumps that alert instead of opening another.
struct AlertKey {
  AlertRuleKind rule = AlertRuleKind::threshold;
  std::string step;    // commit, rollback, …; for health, the figure's name
  std::string repo;    // the work tree's path
  std::string branch;  // "" when detached

  friend bool operator==(const AlertKey&, const AlertKey&) = default;
};

struct Alert {
  std::int64_t id = 0;
  AlertKey key;
  Severity severity = Severity::warning;
  AlertState state = AlertState::open;
  std::string summary;  // one line: "commit took 1.42s, over its 1s threshold"
  // The figures behind it, in the rule's unit (seconds for timings, a count otherwise).
  std::optional<double> value;
  std::optional<double> limit;
  std::int64_t first_seen_us = 0;
  std::int64_t last_seen_us = 0;
  std::int64_t count = 1;  // how many times the rule fired while it was unresolved
  std::optional<std::int64_t> snoozed_until_us;
  std::string acknowledged_by;  // state acknowledged
  std::optional<std::int64_t> resolved_us;
  std::string host;  // where it was first raised

  // Whether it still asks for attention at `now_us`: open, or snoozed and the snooze over.
  bool is_active(std::int64_t now_us) const {
    if (state == AlertState::open) return true;
    return state == AlertState::snoozed && snoozed_until_us && *snoozed_until_us <= now_us;
  }
};

// One transition of an alert, kept for ever: opened, escalated, acknowledged, snoozed,
// reopened, resolved.
struct AlertEvent {
  std::int64_t alert_id = 0;
  std::int64_t at_us = 0;
  std::string by;                  // a person, or "perfguard" for what a rule did by itself
  std::optional<AlertState> from;  // none when the alert was opened
  AlertState to = AlertState::open;
  Severity severity = Severity::warning;
  std::string note;
};

}  // namespace perfguard
