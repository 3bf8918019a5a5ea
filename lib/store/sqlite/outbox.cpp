// The notifications outbox: rows waiting to be sent, claimed by one sender at a time for a
// lease (two senders at once never both send a row), and marked sent, retried later or given
// up once the attempt is over.

#include <algorithm>

#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

namespace {

using sql::Statement;

constexpr std::string_view kWhat = "cannot update the notifications outbox";

}  // namespace

Result<std::vector<PendingNotification>> SqliteStore::claim_notifications(std::int64_t now_us,
                                                                          std::int64_t lease_us,
                                                                          int limit,
                                                                          bool ignore_backoff) {
  sql::WriteTransaction tx(db_);
  if (!tx.begin()) return sql::error(db_, path_, kWhat);
  Statement s = sql::prepare(
      db_,
      "SELECT n.id, n.event, n.channel, n.attempts, a.id, a.rule, a.step, a.repo, a.branch,"
      " a.severity, a.state, a.summary, a.value, a.limit_value, a.first_seen_us,"
      " a.last_seen_us, a.count, a.snoozed_until_us, a.acknowledged_by, a.resolved_us, a.host"
      " FROM notifications AS n JOIN alerts AS a ON a.id = n.alert_id"
      " WHERE n.sent_us IS NULL AND NOT n.gave_up AND (?3 OR n.next_attempt_us <= ?1)"
      " AND (n.claimed_until_us IS NULL OR n.claimed_until_us <= ?1)"
      " ORDER BY n.id LIMIT ?2");
  Statement claim =
      sql::prepare(db_, "UPDATE notifications SET claimed_until_us = ?2 WHERE id = ?1");
  if (!s || !claim) return sql::error(db_, path_, kWhat);
  sqlite3_bind_int64(s.get(), 1, now_us);
  sqlite3_bind_int(s.get(), 2, limit);
  sqlite3_bind_int(s.get(), 3, ignore_backoff ? 1 : 0);
  std::vector<PendingNotification> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    PendingNotification p;
    p.id = sqlite3_column_int64(s.get(), 0);
    p.event = sql::column_text(s.get(), 1);
    p.channel = sql::column_text(s.get(), 2);
    p.attempts = sqlite3_column_int(s.get(), 3);
    Alert& a = p.alert;
    sqlite3_stmt* r = s.get();
    a.id = sqlite3_column_int64(r, 4);
    a.key.rule = parse_alert_rule(sql::column_text(r, 5)).value_or(AlertRuleKind::threshold);
    a.key.step = sql::column_text(r, 6);
    a.key.repo = sql::column_text(r, 7);
    a.key.branch = sql::column_text(r, 8);
    a.severity = static_cast<Severity>(std::clamp(sqlite3_column_int(r, 9), 0, 2));
    a.state = static_cast<AlertState>(std::clamp(sqlite3_column_int(r, 10), 0, 3));
    a.summary = sql::column_text(r, 11);
    if (!sql::column_is_null(r, 12)) a.value = sqlite3_column_double(r, 12);
    if (!sql::column_is_null(r, 13)) a.limit = sqlite3_column_double(r, 13);
    a.first_seen_us = sqlite3_column_int64(r, 14);
    a.last_seen_us = sqlite3_column_int64(r, 15);
    a.count = sqlite3_column_int64(r, 16);
    a.snoozed_until_us = sql::column_optional(r, 17);
    a.acknowledged_by = sql::column_text(r, 18);
    a.resolved_us = sql::column_optional(r, 19);
    a.host = sql::column_text(r, 20);
    out.push_back(std::move(p));
  }
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kWhat);
  for (const PendingNotification& p : out) {
    sqlite3_reset(claim.get());
    sqlite3_bind_int64(claim.get(), 1, p.id);
    sqlite3_bind_int64(claim.get(), 2, now_us + lease_us);
    if (sqlite3_step(claim.get()) != SQLITE_DONE) return sql::error(db_, path_, kWhat);
  }
  if (!tx.commit()) return sql::error(db_, path_, kWhat);
  return out;
}

Status SqliteStore::finish_notification(std::int64_t id, const NotificationResult& result,
                                        std::int64_t now_us) {
  Statement s = sql::prepare(
      db_,
      "UPDATE notifications SET attempts = attempts + 1, claimed_until_us = NULL,"
      " sent_us = CASE WHEN ?2 THEN ?5 END, gave_up = ?3,"
      " next_attempt_us = coalesce(?4, next_attempt_us), last_error = ?6 WHERE id = ?1");
  if (!s) return sql::error(db_, path_, kWhat);
  sqlite3_bind_int64(s.get(), 1, id);
  sqlite3_bind_int(s.get(), 2, result.sent ? 1 : 0);
  sqlite3_bind_int(s.get(), 3, result.give_up ? 1 : 0);
  sql::bind_optional(s.get(), 4, result.retry_at_us);
  sqlite3_bind_int64(s.get(), 5, now_us);
  sql::bind_text(s.get(), 6, result.error);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return sql::error(db_, path_, kWhat);
  return {};
}

Result<std::int64_t> SqliteStore::pending_notifications(std::int64_t now_us) {
  Statement s = sql::prepare(db_,
                             "SELECT count(*) FROM notifications WHERE sent_us IS NULL AND NOT"
                             " gave_up AND next_attempt_us <= ?1");
  if (!s) return sql::error(db_, path_, kWhat);
  sqlite3_bind_int64(s.get(), 1, now_us);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return sql::error(db_, path_, kWhat);
  return sqlite3_column_int64(s.get(), 0);
}

}  // namespace perfguard
