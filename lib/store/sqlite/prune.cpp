// Removing old steps (perf-baseline prune).

#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

Result<PruneCounts> SqliteStore::prune_steps(std::int64_t before_us, bool dry_run) {
  constexpr std::string_view kWhat = "cannot prune the recorded steps";
  // Under the write lock even for a dry run, so the counts are those a real run would remove.
  sql::WriteTransaction tx(db_, writers_);
  if (!tx.begin()) return sql::error(db_, path_, kWhat);
  // The row tables, not the views (which join every row to its name): a prune of half a
  // million steps is a few times faster. A step's spans are a key range (schema.h).
  sql::Statement count =
      sql::prepare(db_,
                   "SELECT count(*), coalesce(sum((SELECT count(*) FROM span_rows AS p"
                   " WHERE p.id BETWEEN s.id * 256 AND s.id * 256 + 255)"
                   " + (SELECT count(*) FROM span_rows_more AS p WHERE p.step_id = s.id)), 0)"
                   " FROM step_rows AS s WHERE s.started_us < ?1");
  if (!count) return sql::error(db_, path_, kWhat);
  sqlite3_bind_int64(count.get(), 1, before_us);
  if (sqlite3_step(count.get()) != SQLITE_ROW) return sql::error(db_, path_, kWhat);
  PruneCounts counts{sqlite3_column_int64(count.get(), 0), sqlite3_column_int64(count.get(), 1)};
  count.reset();
  if (dry_run || counts.steps == 0) return counts;  // the transaction rolls back

  // Each deleted step's spans go with it (trigger step_rows_spans_deleted).
  sql::Statement steps = sql::prepare(db_, "DELETE FROM step_rows WHERE started_us < ?1");
  if (!steps) return sql::error(db_, path_, kWhat);
  sqlite3_bind_int64(steps.get(), 1, before_us);
  if (sqlite3_step(steps.get()) != SQLITE_DONE) return sql::error(db_, path_, kWhat);
  steps.reset();
  if (!tx.commit()) return sql::error(db_, path_, kWhat);
  fold_log(counts.steps >= kBulkRecords);
  return counts;
}

}  // namespace perfguard
