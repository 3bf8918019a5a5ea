#include "alerts/alert.h"

#include <array>
#include <utility>

namespace perfguard {

namespace {

template <class E, std::size_t N>
std::optional<E> parse_name(const std::array<const char*, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (text == names[i]) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<const char*, 3> kSeverities = {"info", "warning", "critical"};
constexpr std::array<const char*, 4> kStates = {"open", "acknowledged", "snoozed", "resolved"};
constexpr std::array<const char*, 10> kRules = {
    "threshold",   "baseline",      "anomaly", "degradation", "prediction",
    "consecutive", "rollback_rate", "failure", "health",      "manual_recovery",
};

}  // namespace

const char* to_string(Severity severity) {
  return kSeverities[static_cast<std::size_t>(severity)];
}
std::optional<Severity> parse_severity(std::string_view text) {
  return parse_name<Severity>(kSeverities, text);
}

const char* to_string(AlertState state) {
  return kStates[static_cast<std::size_t>(state)];
}
std::optional<AlertState> parse_alert_state(std::string_view text) {
  return parse_name<AlertState>(kStates, text);
}

const char* to_string(AlertRuleKind rule) {
  return kRules[static_cast<std::size_t>(rule)];
}
std::optional<AlertRuleKind> parse_alert_rule(std::string_view text) {
  return parse_name<AlertRuleKind>(kRules, text);
}

}  // namespace perfguard
