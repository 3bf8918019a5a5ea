// Removing old steps (perf-baseline prune).

#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

Result<PruneCounts> SqliteStore::prune_steps(std::int64_t before_us, bool dry_run) {
  constexpr std::string_view kWhat = "cannot prune the recorded steps";
  // The spans go first, explicitly, so the foreign keys need no checking: with them on, each
  // deleted step looked for its spans again (half the time of a prune).
  sql::ForeignKeysOff foreign_keys_off(db_);
  // Under the write lock even for a dry run, so the counts are those a real run would remove.
  sql::WriteTransaction tx(db_);
  if (!tx.begin()) return sql::error(db_, path_, kWhat);
  // The row tables, not the views (which join every row to its name): a prune of half a
  // million steps is a few times faster.
  sql::Statement count =
      sql::prepare(db_,
                   "SELECT count(*), coalesce(sum((SELECT count(*) FROM span_rows AS p"
                   " WHERE p.step_id = s.id)), 0)"
                   " FROM step_rows AS s WHERE s.started_us < ?1");
  if (!count) return sql::error(db_, path_, kWhat);
  sqlite3_bind_int64(count.get(), 1, before_us);
  if (sqlite3_step(count.get()) != SQLITE_ROW) return sql::error(db_, path_, kWhat);
  PruneCounts counts{sqlite3_column_int64(count.get(), 0), sqlite3_column_int64(count.get(), 1)};
  count.reset();
  if (dry_run || counts.steps == 0) return counts;  // the transaction rolls back

  // Spans first, explicitly: the ON DELETE CASCADE needs foreign_keys on.
  sql::Statement spans = sql::prepare(db_,
                                      "DELETE FROM span_rows WHERE step_id IN"
                                      " (SELECT id FROM step_rows WHERE started_us < ?1)");
  sql::Statement steps = sql::prepare(db_, "DELETE FROM step_rows WHERE started_us < ?1");
  if (!spans || !steps) return sql::error(db_, path_, kWhat);
  for (sqlite3_stmt* stmt : {spans.get(), steps.get()}) {
    sqlite3_bind_int64(stmt, 1, before_us);
    if (sqlite3_step(stmt) != SQLITE_DONE) return sql::error(db_, path_, kWhat);
    sqlite3_reset(stmt);
  }
  if (!tx.commit()) return sql::error(db_, path_, kWhat);
  fold_log(counts.steps >= kBulkRecords);
  return counts;
}

}  // namespace perfguard
