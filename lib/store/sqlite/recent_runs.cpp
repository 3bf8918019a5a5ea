// The runs the alert rules read: the newest runs of one step in one repository (and branch),
// found hour by hour, newest hour first, through the step's hourly rollups (there is no index
// on time or place: rollups.h), among the step's last kRecentRunsExamined runs, so that
// reading the last few runs costs a few hours' rows however large the store is.

#include <algorithm>

#include "store/sqlite/rollups.h"
#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

namespace {

constexpr std::string_view kWhat = "cannot read the recent runs";

// The most runs of the step one read looks at, whatever their place: a branch with a short
// history in a store that holds a long one of other places must not cost a scan of all of it
// (this is read as every step is recorded). 2,000 rows take about 0.3 ms.
constexpr std::int64_t kRecentRunsExamined = 2000;

// Ids of one hour at most this far apart are read as one range (steps of other names
// recorded between them are skipped by the read).
constexpr std::int64_t kHourIdGap = 16;

}  // namespace

Result<std::vector<RecentRun>> SqliteStore::recent_runs(const RunQuery& q) {
  std::vector<RecentRun> out;
  if (q.limit <= 0) return out;
  sql::ReadTransaction tx(db_);
  RecentRunStatements& kept = recent_run_statements_;
  sql::Reused name(db_, kept.name, "SELECT id FROM names WHERE name = ?1");
  sql::Reused contexts(db_, kept.contexts,
                       "SELECT id FROM contexts WHERE repo = ?1 AND (?2 IS NULL OR branch = ?2)");
  sql::Reused hours(db_, kept.hours,
                    "SELECT hour, first_id, last_id, stale, ids FROM step_hours"
                    " WHERE name_id = ?1 AND hour >= ?2 ORDER BY hour DESC");
  // The hour's steps only: its id ranges may hold other hours' (rollups.h).
  sql::Reused rows(db_, kept.rows,
                   "SELECT trace_id, started_us, duration_us, status, threshold_us,"
                   " context_id FROM step_rows WHERE id BETWEEN ?1 AND ?2"
                   " AND name_id = ?3 AND started_us >= ?4"
                   " AND started_us / 3600000000 = ?5");
  if (!tx.ok() || !name || !contexts || !hours || !rows) return sql::error(db_, path_, kWhat);
  sql::bind_text(name.get(), 1, q.step);
  int rc = sqlite3_step(name.get());
  if (rc == SQLITE_DONE) return out;  // never recorded
  if (rc != SQLITE_ROW) return sql::error(db_, path_, kWhat);
  const std::int64_t name_id = sqlite3_column_int64(name.get(), 0);

  // The places (contexts) whose runs count: usually a handful.
  std::vector<std::int64_t> places;
  sql::bind_text(contexts.get(), 1, q.repo);
  if (q.branch) sql::bind_text(contexts.get(), 2, *q.branch);
  while ((rc = sqlite3_step(contexts.get())) == SQLITE_ROW) {
    places.push_back(sqlite3_column_int64(contexts.get(), 0));
  }
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kWhat);
  if (places.empty()) return out;
  std::sort(places.begin(), places.end());

  sqlite3_bind_int64(hours.get(), 1, name_id);
  sqlite3_bind_int64(hours.get(), 2, hour_of(std::max<std::int64_t>(q.since_us, 0)));
  sqlite3_bind_int64(rows.get(), 3, name_id);
  sqlite3_bind_int64(rows.get(), 4, q.since_us);
  // Hour by hour, newest first; each hour's steps whole (they need not have been recorded in
  // the order they started), newest first, as the shared store orders them: the runs examined
  // are the step's newest, wherever they ran, the same in every engine.
  std::vector<std::pair<RecentRun, std::int64_t>> hour_runs;  // with the run's place
  std::int64_t examined = 0;
  while (static_cast<int>(out.size()) < q.limit && examined < kRecentRunsExamined &&
         (rc = sqlite3_step(hours.get())) == SQLITE_ROW) {
    // Close ids only: steps recorded out of time order spread an hour's ids over the table,
    // and its few steps cost a few lookups rather than a scan of everything between them.
    IdRanges ranges;
    if (!row_ranges(hours.get(), 1, ranges, kHourIdGap)) {
      return sql::error(path_, kWhat, "a damaged rollup row");
    }
    const std::int64_t hour = sqlite3_column_int64(hours.get(), 0);
    hour_runs.clear();
    for (const auto& [first, last] : ranges) {
      sqlite3_reset(rows.get());
      sqlite3_bind_int64(rows.get(), 1, first);
      sqlite3_bind_int64(rows.get(), 2, last);
      sqlite3_bind_int64(rows.get(), 5, hour);
      int r;
      while ((r = sqlite3_step(rows.get())) == SQLITE_ROW) {
        RecentRun run;
        run.trace_id = static_cast<std::uint64_t>(sqlite3_column_int64(rows.get(), 0));
        run.started_us = sqlite3_column_int64(rows.get(), 1);
        run.duration_us = sqlite3_column_int64(rows.get(), 2);
        run.status = status_from_code(sqlite3_column_int(rows.get(), 3));
        run.threshold_us = sql::column_optional(rows.get(), 4);
        hour_runs.emplace_back(run, sqlite3_column_int64(rows.get(), 5));
      }
      if (r != SQLITE_DONE) return sql::error(db_, path_, kWhat);
    }
    std::sort(hour_runs.begin(), hour_runs.end(),
              [](const auto& a, const auto& b) { return newer(a.first, b.first); });
    for (const auto& [run, place] : hour_runs) {
      if (static_cast<int>(out.size()) >= q.limit || examined >= kRecentRunsExamined) break;
      ++examined;
      if (std::binary_search(places.begin(), places.end(), place)) out.push_back(run);
    }
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sql::error(db_, path_, kWhat);
  return out;
}

}  // namespace perfguard
