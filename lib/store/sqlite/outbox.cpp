// The notifications outbox: rows waiting to be sent, claimed by one sender at a time for a
// lease (two senders at once never both send a row), and marked sent, retried later or given
// up once the attempt is over.

#include <algorithm>

#include "store/sqlite/alert_rows.h"
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
  sql::WriteTransaction tx(db_, writers_);
  if (!tx.begin()) return sql::error(db_, path_, kWhat);
  Statement s = sql::prepare(
      db_,
      "SELECT n.id, n.event, n.channel, n.attempts, a." +
          std::string(kAlertColumns) +  // "a.id, rule, …": only id is in both tables
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
    p.alert = read_alert(s.get(), 4);
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
