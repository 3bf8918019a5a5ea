#pragma once
// Internal to the SQLite engine: an alerts row's columns, in the order read_alert reads them,
// for every statement that reads alerts (alerts.cpp, outbox.cpp).

#include <sqlite3.h>

#include <algorithm>
#include <optional>
#include <string_view>

#include "alerts/alert.h"
#include "store/sqlite/sql.h"

namespace perfguard {

inline constexpr std::string_view kAlertColumns =
    "id, rule, step, repo, branch, severity, state, summary, value, limit_value, first_seen_us,"
    " last_seen_us, count, snoozed_until_us, acknowledged_by, resolved_us, host";

inline std::optional<double> column_optional_real(sqlite3_stmt* s, int col) {
  if (sql::column_is_null(s, col)) return std::nullopt;
  return sqlite3_column_double(s, col);
}

// The alert whose columns (kAlertColumns' order) start at `first`.
inline Alert read_alert(sqlite3_stmt* s, int first = 0) {
  Alert a;
  a.id = sqlite3_column_int64(s, first + 0);
  a.key.rule = parse_alert_rule(sql::column_text(s, first + 1)).value_or(AlertRuleKind::threshold);
  a.key.step = sql::column_text(s, first + 2);
  a.key.repo = sql::column_text(s, first + 3);
  a.key.branch = sql::column_text(s, first + 4);
  a.severity = static_cast<Severity>(std::clamp(sqlite3_column_int(s, first + 5), 0, 2));
  a.state = static_cast<AlertState>(std::clamp(sqlite3_column_int(s, first + 6), 0, 3));
  a.summary = sql::column_text(s, first + 7);
  a.value = column_optional_real(s, first + 8);
  a.limit = column_optional_real(s, first + 9);
  a.first_seen_us = sqlite3_column_int64(s, first + 10);
  a.last_seen_us = sqlite3_column_int64(s, first + 11);
  a.count = sqlite3_column_int64(s, first + 12);
  a.snoozed_until_us = sql::column_optional(s, first + 13);
  a.acknowledged_by = sql::column_text(s, first + 14);
  a.resolved_us = sql::column_optional(s, first + 15);
  a.host = sql::column_text(s, first + 16);
  return a;
}

}  // namespace perfguard
