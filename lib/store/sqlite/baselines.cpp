// The baselines table.

#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

namespace {

using sql::Statement;

constexpr std::string_view kColumns =
    "id, step, scope, repo, branch, active, computed_us, window_us, n, min_us, p50_us, p75_us,"
    " p90_us, p95_us, p99_us, max_us, mean_us, stddev_us, mad_us, multiplier, min_change, reason,"
    " replaces_id, method";
constexpr std::string_view kReadWhat = "cannot read the baselines";
constexpr std::string_view kWriteWhat = "cannot store the baselines";

Baseline read_baseline(sqlite3_stmt* s) {
  Baseline b;
  b.id = sqlite3_column_int64(s, 0);
  b.key.step = sql::column_text(s, 1);
  b.key.scope = parse_baseline_scope(sql::column_text(s, 2)).value_or(BaselineScope::all);
  b.key.repo = sql::column_text(s, 3);
  b.key.branch = sql::column_text(s, 4);
  b.active = sqlite3_column_int(s, 5) != 0;
  b.computed_us = sqlite3_column_int64(s, 6);
  b.window = Duration::micros(sqlite3_column_int64(s, 7));
  Summary& m = b.summary;
  m.n = sqlite3_column_int64(s, 8);
  double* fields[] = {&m.min, &m.p50, &m.p75,  &m.p90,    &m.p95,
                      &m.p99, &m.max, &m.mean, &m.stddev, &m.mad};
  for (int i = 0; i < 10; ++i) *fields[i] = sql::column_real(s, 9 + i);
  b.multiplier = sqlite3_column_double(s, 19);
  b.min_change = sqlite3_column_double(s, 20);
  b.reason = sql::column_text(s, 21);
  if (!sql::column_is_null(s, 22)) b.replaces_id = sqlite3_column_int64(s, 22);
  m.method = parse_summary_method(sql::column_text(s, 23)).value_or(SummaryMethod::exact);
  return b;
}

class SqliteBaselineUpdate final : public BaselineUpdate {
 public:
  SqliteBaselineUpdate(sqlite3* db, const std::filesystem::path& path) : db_(db), path_(path) {}
  Result<std::optional<Baseline>> active(const BaselineKey& key) override;
  Result<std::int64_t> activate(const Baseline& baseline) override;

 private:
  sqlite3* db_;
  const std::filesystem::path& path_;
};

Result<std::optional<Baseline>> SqliteBaselineUpdate::active(const BaselineKey& key) {
  Statement s = sql::prepare(db_, "SELECT " + std::string(kColumns) +
                                      " FROM baselines WHERE active AND step = ?1 AND scope = ?2"
                                      " AND repo = ?3 AND branch = ?4");
  if (!s) return sql::error(db_, path_, kReadWhat);
  sql::bind_text(s.get(), 1, key.step);
  sql::bind_text(s.get(), 2, to_string(key.scope));
  sql::bind_text(s.get(), 3, key.repo);
  sql::bind_text(s.get(), 4, key.branch);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return std::optional<Baseline>(read_baseline(s.get()));
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kReadWhat);
  return std::optional<Baseline>();
}

Result<std::int64_t> SqliteBaselineUpdate::activate(const Baseline& b) {
  if (b.replaces_id) {
    Statement off =
        sql::prepare(db_, "UPDATE baselines SET active = 0, deactivated_us = ?2 WHERE id = ?1");
    if (!off) return sql::error(db_, path_, kWriteWhat);
    sqlite3_bind_int64(off.get(), 1, *b.replaces_id);
    sqlite3_bind_int64(off.get(), 2, b.computed_us);
    if (sqlite3_step(off.get()) != SQLITE_DONE) return sql::error(db_, path_, kWriteWhat);
  }
  Statement s = sql::prepare(
      db_,
      "INSERT INTO baselines (step, scope, repo, branch, active, computed_us, window_us, n,"
      " min_us, p50_us, p75_us, p90_us, p95_us, p99_us, max_us, mean_us, stddev_us, mad_us,"
      " multiplier, min_change, reason, replaces_id, method) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6,"
      " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)");
  if (!s) return sql::error(db_, path_, kWriteWhat);
  sql::bind_text(s.get(), 1, b.key.step);
  sql::bind_text(s.get(), 2, to_string(b.key.scope));
  sql::bind_text(s.get(), 3, b.key.repo);
  sql::bind_text(s.get(), 4, b.key.branch);
  sqlite3_bind_int64(s.get(), 5, b.computed_us);
  sqlite3_bind_int64(s.get(), 6, b.window.us);
  const Summary& m = b.summary;
  sqlite3_bind_int64(s.get(), 7, m.n);
  const double fields[] = {m.min, m.p50, m.p75,  m.p90,    m.p95,
                           m.p99, m.max, m.mean, m.stddev, m.mad};
  for (int i = 0; i < 10; ++i) sql::bind_real(s.get(), 8 + i, fields[i]);
  sqlite3_bind_double(s.get(), 18, b.multiplier);
  sqlite3_bind_double(s.get(), 19, b.min_change);
  sql::bind_text(s.get(), 20, b.reason);
  if (b.replaces_id) sqlite3_bind_int64(s.get(), 21, *b.replaces_id);
  sql::bind_text(s.get(), 22, to_string(m.method));
  if (sqlite3_step(s.get()) != SQLITE_DONE) return sql::error(db_, path_, kWriteWhat);
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
}

}  // namespace

Status SqliteStore::update_baselines(const std::function<Status(BaselineUpdate&)>& update) {
  sql::WriteTransaction tx(db_, writers_);
  if (!tx.begin()) return sql::error(db_, path_, kWriteWhat);
  SqliteBaselineUpdate baselines(db_, path_);
  if (Status s = update(baselines); !s) return s;
  if (!tx.commit()) return sql::error(db_, path_, kWriteWhat);
  fold_log(false);
  return {};
}

Result<std::vector<Baseline>> SqliteStore::active_baselines(const std::string& step) {
  Statement s = sql::prepare(db_, "SELECT " + std::string(kColumns) +
                                      " FROM baselines WHERE active AND (?1 = '' OR step = ?1)"
                                      " ORDER BY step, scope, repo, branch");
  if (!s) return sql::error(db_, path_, kReadWhat);
  sql::bind_text(s.get(), 1, step);
  std::vector<Baseline> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(read_baseline(s.get()));
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kReadWhat);
  return out;
}

}  // namespace perfguard
