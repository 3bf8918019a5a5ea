#include "store/baselines.h"

#include <sqlite3.h>

#include <cmath>
#include <limits>
#include <unordered_map>

#include "store/sql.h"
#include "store/step_hours.h"
#include "store/store.h"

namespace perfguard {

namespace {

using sql::Statement;

constexpr std::string_view kColumns =
    "id, step, scope, repo, branch, active, computed_us, window_us, n, min_us, p50_us, p75_us,"
    " p90_us, p95_us, p99_us, max_us, mean_us, stddev_us, mad_us, multiplier, min_change, reason,"
    " replaces_id, method";
constexpr std::string_view kReadWhat = "cannot read the baselines";
constexpr std::string_view kWriteWhat = "cannot store the baselines";

// A NaN (no value) is stored as NULL and read back as NaN.
void bind_real(sqlite3_stmt* s, int index, double v) {
  if (std::isnan(v)) {
    sqlite3_bind_null(s, index);
  } else {
    sqlite3_bind_double(s, index, v);
  }
}

double column_real(sqlite3_stmt* s, int col) {
  return sql::column_is_null(s, col) ? std::numeric_limits<double>::quiet_NaN()
                                     : sqlite3_column_double(s, col);
}

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
  for (int i = 0; i < 10; ++i) *fields[i] = column_real(s, 9 + i);
  b.multiplier = sqlite3_column_double(s, 19);
  b.min_change = sqlite3_column_double(s, 20);
  b.reason = sql::column_text(s, 21);
  if (!sql::column_is_null(s, 22)) b.replaces_id = sqlite3_column_int64(s, 22);
  m.method = parse_summary_method(sql::column_text(s, 23)).value_or(SummaryMethod::exact);
  return b;
}

}  // namespace

const char* to_string(BaselineScope scope) {
  switch (scope) {
    case BaselineScope::all:
      return "all";
    case BaselineScope::repo:
      return "repo";
    case BaselineScope::branch:
      return "branch";
  }
  return "all";
}

std::optional<BaselineScope> parse_baseline_scope(std::string_view text) {
  for (auto s : {BaselineScope::all, BaselineScope::repo, BaselineScope::branch}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

Result<std::optional<Baseline>> BaselineUpdate::active(const BaselineKey& key) {
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

Result<std::int64_t> BaselineUpdate::activate(const Baseline& b) {
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
  for (int i = 0; i < 10; ++i) bind_real(s.get(), 8 + i, fields[i]);
  sqlite3_bind_double(s.get(), 18, b.multiplier);
  sqlite3_bind_double(s.get(), 19, b.min_change);
  sql::bind_text(s.get(), 20, b.reason);
  if (b.replaces_id) sqlite3_bind_int64(s.get(), 21, *b.replaces_id);
  sql::bind_text(s.get(), 22, to_string(m.method));
  if (sqlite3_step(s.get()) != SQLITE_DONE) return sql::error(db_, path_, kWriteWhat);
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
}

Status Store::update_baselines(const std::function<Status(BaselineUpdate&)>& update) {
  sql::WriteTransaction tx(db_);
  if (!tx.begin()) return sql::error(db_, path_, kWriteWhat);
  BaselineUpdate baselines(db_, path_);
  if (Status s = update(baselines); !s) return s;
  if (!tx.commit()) return sql::error(db_, path_, kWriteWhat);
  fold_log(false);
  return {};
}

Result<std::vector<Baseline>> Store::active_baselines(const std::string& step) {
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

Status for_each_window_run(Store& store, const std::string& step, std::int64_t since_us,
                           const std::function<void(const WindowRun&)>& visit) {
  constexpr std::string_view kWhat = "cannot read the recorded steps";
  sqlite3* db = sql::connection(store);
  sql::ReadTransaction read(db);
  if (!read.ok()) return sql::error(db, store.path(), kWhat);
  auto ranges = step_id_ranges(store, step, since_us);
  if (!ranges) return ranges.error();
  if (ranges->empty()) return {};
  // Names and contexts are few: read once, not joined to every run.
  std::unordered_map<std::int64_t, std::string> names;
  std::optional<std::int64_t> only;
  {
    Statement n = sql::prepare(db, "SELECT id, name FROM names");
    if (!n) return sql::error(db, store.path(), kWhat);
    int rc;
    while ((rc = sqlite3_step(n.get())) == SQLITE_ROW) {
      auto [it, added] =
          names.emplace(sqlite3_column_int64(n.get(), 0), sql::column_text(n.get(), 1));
      if (!step.empty() && it->second == step) only = it->first;
    }
    if (rc != SQLITE_DONE) return sql::error(db, store.path(), kWhat);
  }
  std::unordered_map<std::int64_t, std::pair<std::string, std::string>> contexts;
  {
    Statement c = sql::prepare(db, "SELECT id, repo, branch FROM contexts");
    if (!c) return sql::error(db, store.path(), kWhat);
    int rc;
    while ((rc = sqlite3_step(c.get())) == SQLITE_ROW) {
      contexts.emplace(sqlite3_column_int64(c.get(), 0),
                       std::pair{sql::column_text(c.get(), 1), sql::column_text(c.get(), 2)});
    }
    if (rc != SQLITE_DONE) return sql::error(db, store.path(), kWhat);
  }
  Statement s = sql::prepare(db,
                             "SELECT name_id, context_id, duration_us, status FROM step_rows"
                             " WHERE id BETWEEN ?1 AND ?2 AND started_us >= ?3"
                             " AND (?4 IS NULL OR name_id = ?4)");
  if (!s) return sql::error(db, store.path(), kWhat);
  static const std::string kNone;
  for (const auto& [first, last] : *ranges) {
    sqlite3_stmt* r = s.get();
    sqlite3_reset(r);
    sqlite3_bind_int64(r, 1, first);
    sqlite3_bind_int64(r, 2, last);
    sqlite3_bind_int64(r, 3, since_us);
    if (only) sqlite3_bind_int64(r, 4, *only);
    int rc;
    while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
      const std::int64_t name_id = sqlite3_column_int64(r, 0);
      const std::int64_t context_id = sqlite3_column_int64(r, 1);
      auto name = names.find(name_id);
      auto context = contexts.find(context_id);
      const bool known = context != contexts.end();
      visit({name_id, context_id, name != names.end() ? name->second : kNone,
             known ? context->second.first : kNone, known ? context->second.second : kNone,
             sqlite3_column_int64(r, 2), status_from_code(sqlite3_column_int(r, 3))});
    }
    if (rc != SQLITE_DONE) return sql::error(db, store.path(), kWhat);
  }
  return {};
}

}  // namespace perfguard
