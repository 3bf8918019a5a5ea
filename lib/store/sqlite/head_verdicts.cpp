// The commits a repository's newest steps left HEAD at, and what those steps say of each:
// perf-recover's last known good commit is the newest on HEAD's history with runs, none of
// them breached or failed, and no unresolved critical alert on any.

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "store/sqlite/heads.h"
#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

namespace {

constexpr std::string_view kWhat = "cannot read the recorded commits";

}  // namespace

Result<std::vector<HeadVerdict>> SqliteStore::head_verdicts(const std::string& repo) {
  sql::ReadTransaction tx(db_);
  // The store's newest steps only, whatever their place: a recovery reads this, and a store
  // of a million steps of other repositories must not make it wait.
  sql::Statement steps =
      sql::prepare(db_,
                   "SELECT s.trace_id, n.name, s.status, s.started_us,"
                   " CASE WHEN s.head_after = x'' THEN s.head_before ELSE s.head_after END"
                   " FROM step_rows AS s JOIN names AS n ON n.id = s.name_id"
                   " WHERE s.id > (SELECT coalesce(max(id), 0) FROM step_rows) - ?2"
                   " AND s.context_id IN (SELECT id FROM contexts WHERE repo = ?1)");
  // The runs that unresolved critical alerts of this repository (or of every one) fired on.
  sql::Statement alerted = sql::prepare(
      db_,
      "SELECT r.trace_id, r.step FROM alert_runs AS r JOIN alerts AS a ON a.id = r.alert_id"
      " WHERE a.state < 3 AND a.severity = 2 AND a.repo IN (?1, '')");
  if (!tx.ok() || !steps || !alerted) return sql::error(db_, path_, kWhat);

  std::set<std::pair<std::int64_t, std::string>> alerted_runs;
  sql::bind_text(alerted.get(), 1, repo);
  int rc;
  while ((rc = sqlite3_step(alerted.get())) == SQLITE_ROW) {
    alerted_runs.emplace(sqlite3_column_int64(alerted.get(), 0),
                         sql::column_text(alerted.get(), 1));
  }
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kWhat);

  std::map<std::string, HeadVerdict> by_head;
  sql::bind_text(steps.get(), 1, repo);
  sqlite3_bind_int64(steps.get(), 2, kHeadVerdictsExamined);
  while ((rc = sqlite3_step(steps.get())) == SQLITE_ROW) {
    std::string head = sql::column_head(steps.get(), 4);
    if (head.empty()) continue;
    HeadVerdict& v = by_head[head];
    v.head = head;
    ++v.runs;
    if (sqlite3_column_int(steps.get(), 2) != 0) ++v.not_ok;
    v.last_us = std::max<std::int64_t>(v.last_us, sqlite3_column_int64(steps.get(), 3));
    if (alerted_runs.count(
            {sqlite3_column_int64(steps.get(), 0), sql::column_text(steps.get(), 1)})) {
      v.alerted = true;
    }
  }
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kWhat);
  std::vector<HeadVerdict> out;
  out.reserve(by_head.size());
  for (auto& [head, verdict] : by_head) out.push_back(std::move(verdict));
  return out;
}

}  // namespace perfguard
