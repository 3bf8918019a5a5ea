// The notifications outbox of the shared store, as the SQLite engine's (store/sqlite/
// outbox.cpp): a claim holds the notifications due for one sender for a while.

#include "store/postgres/alert_rows.h"
#include "store/postgres/postgres_engine.h"

namespace perfguard {

namespace {

constexpr std::string_view kWhat = "cannot update the notifications outbox";

}  // namespace

Result<std::vector<PendingNotification>> PostgresStore::claim_notifications(std::int64_t now_us,
                                                                            std::int64_t lease_us,
                                                                            int limit,
                                                                            bool ignore_backoff) {
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  if (Status s = begin_locking_alerts(tx, kWhat); !s) return s.error();
  auto rows = c.exec(kWhat,
                     "SELECT n.id, n.event, n.channel, n.attempts, a." +
                         std::string(kAlertColumns) +  // "a.id, rule, …": only id is in both
                         " FROM notifications AS n JOIN alerts AS a ON a.id = n.alert_id"
                         " WHERE n.sent_us IS NULL AND NOT n.gave_up"
                         " AND ($3 OR n.next_attempt_us <= $1)"
                         " AND (n.claimed_until_us IS NULL OR n.claimed_until_us <= $1)"
                         " ORDER BY n.id LIMIT $2",
                     pq::Params().add(now_us).add(limit).add(ignore_backoff));
  if (!rows) return rows.error();
  std::vector<PendingNotification> out;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < rows->size(); ++i) {
    PendingNotification p;
    p.id = rows->int64(i, 0);
    p.event = rows->text(i, 1);
    p.channel = rows->text(i, 2);
    p.attempts = static_cast<int>(rows->int64(i, 3));
    p.alert = read_alert(*rows, i, 4);
    ids.push_back(p.id);
    out.push_back(std::move(p));
  }
  if (!ids.empty()) {
    auto claimed = c.exec(kWhat,
                          "UPDATE notifications SET claimed_until_us = $2"
                          " WHERE id = ANY($1::bigint[])",
                          pq::Params().add_array(ids).add(now_us + lease_us));
    if (!claimed) return claimed.error();
  }
  if (Status s = tx.commit(kWhat); !s) return s.error();
  return out;
}

Status PostgresStore::finish_notification(std::int64_t id, const NotificationResult& result,
                                          std::int64_t now_us) {
  pq::Params p;
  p.add(id).add(result.sent).add(result.give_up).add(result.retry_at_us).add(now_us);
  p.add(result.error);
  auto done = connection_->exec(
      kWhat,
      "UPDATE notifications SET attempts = attempts + 1, claimed_until_us = NULL,"
      " sent_us = CASE WHEN $2 THEN $5::bigint END, gave_up = $3,"
      " next_attempt_us = coalesce($4, next_attempt_us), last_error = $6 WHERE id = $1",
      p);
  if (!done) return done.error();
  return {};
}

Result<std::int64_t> PostgresStore::pending_notifications(std::int64_t now_us) {
  auto rows = connection_->exec(kWhat,
                                "SELECT count(*) FROM notifications WHERE sent_us IS NULL AND"
                                " NOT gave_up AND next_attempt_us <= $1",
                                pq::Params().add(now_us));
  if (!rows) return rows.error();
  return rows->int64(0, 0);
}

}  // namespace perfguard
