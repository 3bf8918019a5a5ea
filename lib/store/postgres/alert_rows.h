#pragma once
// Internal to the PostgreSQL engine: an alerts row's columns, in the order read_alert reads
// them, for every statement that reads alerts (alerts.cpp, outbox.cpp), and the lock under
// which alerts change.

#include <algorithm>
#include <optional>
#include <string_view>

#include "alerts/alert.h"
#include "store/postgres/pq.h"

namespace perfguard {

inline constexpr std::string_view kAlertColumns =
    "id, rule, step, repo, branch, severity, state, summary, value, limit_value, first_seen_us,"
    " last_seen_us, count, snoozed_until_us, acknowledged_by, resolved_us, host";

// An advisory lock every change of the alerts and the outbox takes first, as the SQLite
// file's write lock orders them: two evaluations cannot both open the same alert.
inline constexpr std::int64_t kAlertsLock = 0x7066676402;

inline std::optional<double> optional_real(const pq::Rows& r, int row, int col) {
  if (r.null(row, col)) return std::nullopt;
  return r.real(row, col);
}

// The alert whose columns (kAlertColumns' order) start at `first`.
inline Alert read_alert(const pq::Rows& r, int row, int first = 0) {
  Alert a;
  a.id = r.int64(row, first + 0);
  a.key.rule = parse_alert_rule(r.text(row, first + 1)).value_or(AlertRuleKind::threshold);
  a.key.step = r.text(row, first + 2);
  a.key.repo = r.text(row, first + 3);
  a.key.branch = r.text(row, first + 4);
  a.severity = static_cast<Severity>(std::clamp<std::int64_t>(r.int64(row, first + 5), 0, 2));
  a.state = static_cast<AlertState>(std::clamp<std::int64_t>(r.int64(row, first + 6), 0, 3));
  a.summary = r.text(row, first + 7);
  a.value = optional_real(r, row, first + 8);
  a.limit = optional_real(r, row, first + 9);
  a.first_seen_us = r.int64(row, first + 10);
  a.last_seen_us = r.int64(row, first + 11);
  a.count = r.int64(row, first + 12);
  a.snoozed_until_us = r.optional_int64(row, first + 13);
  a.acknowledged_by = r.text(row, first + 14);
  a.resolved_us = r.optional_int64(row, first + 15);
  a.host = r.text(row, first + 16);
  return a;
}

// Begins `tx` holding the alerts' lock, in one round trip.
inline Status begin_locking_alerts(pq::Transaction& tx, std::string_view what) {
  auto locked =
      tx.begin_with(what, "SELECT pg_advisory_xact_lock(" + std::to_string(kAlertsLock) + ")");
  if (!locked) return locked.error();
  return {};
}

}  // namespace perfguard
