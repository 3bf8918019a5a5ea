#include "baseline/baseline.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "core/clock.h"
#include "store/sql.h"
#include "store/step_hours.h"

namespace perfguard {

namespace {

using sql::Statement;

constexpr std::string_view kColumns =
    "id, step, scope, repo, branch, active, computed_us, window_us, n, min_us, p50_us, p75_us,"
    " p90_us, p95_us, p99_us, max_us, mean_us, stddev_us, mad_us, multiplier, min_change, reason,"
    " replaces_id";

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
  return b;
}

// The largest relative move of p50..p99 from `from` to `to`.
PercentileMove largest_move(const Summary& from, const Summary& to) {
  const std::tuple<const char*, double, double> ps[] = {{"p50", from.p50, to.p50},
                                                        {"p75", from.p75, to.p75},
                                                        {"p90", from.p90, to.p90},
                                                        {"p95", from.p95, to.p95},
                                                        {"p99", from.p99, to.p99}};
  PercentileMove best;
  bool first = true;
  for (auto [name, a, b] : ps) {
    double change = a != 0   ? (b - a) / a
                    : b == a ? 0
                             : std::copysign(std::numeric_limits<double>::infinity(), b - a);
    if (first || std::fabs(change) > std::fabs(best.change)) {
      best = {name, a, b, change};
      first = false;
    }
  }
  return best;
}

struct Group {
  std::vector<std::int64_t> durations;  // of the completed runs
  std::int64_t failures = 0;
};

// The window's completed durations, grouped by baseline key and sorted. Read from the steps
// themselves, not the rollups: a baseline's percentiles are exact.
Result<std::map<std::tuple<std::string, std::string, std::string>, Group>> gather(
    Store& store, const ComputeOptions& o, std::int64_t since_us) {
  std::map<std::tuple<std::string, std::string, std::string>, Group> groups;
  auto samples = read_step_samples(store, o.step, since_us, o.scope != BaselineScope::all);
  if (!samples) return samples.error();
  for (StepSample& s : *samples) {
    std::string repo = o.scope == BaselineScope::all ? "" : std::move(s.repo);
    std::string branch = o.scope == BaselineScope::branch ? std::move(s.branch) : "";
    Group& g = groups[{s.step, std::move(repo), std::move(branch)}];
    if (is_completed(s.status)) {
      g.durations.push_back(s.duration_us);
    } else {
      ++g.failures;
    }
  }
  for (auto& [key, g] : groups) std::sort(g.durations.begin(), g.durations.end());
  return groups;
}

Result<std::optional<Baseline>> find_active(sqlite3* db, const std::filesystem::path& path,
                                            const BaselineKey& key) {
  Statement s = sql::prepare(db, "SELECT " + std::string(kColumns) +
                                     " FROM baselines WHERE active AND step = ?1 AND scope = ?2"
                                     " AND repo = ?3 AND branch = ?4");
  if (!s) return sql::error(db, path, "cannot read the baselines");
  sql::bind_text(s.get(), 1, key.step);
  sql::bind_text(s.get(), 2, to_string(key.scope));
  sql::bind_text(s.get(), 3, key.repo);
  sql::bind_text(s.get(), 4, key.branch);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return std::optional<Baseline>(read_baseline(s.get()));
  if (rc != SQLITE_DONE) return sql::error(db, path, "cannot read the baselines");
  return std::optional<Baseline>();
}

// Inserts the baseline (active), deactivating the one it replaces. Returns its id, 0 on error.
std::int64_t insert_baseline(sqlite3* db, const Baseline& b) {
  if (b.replaces_id) {
    Statement off =
        sql::prepare(db, "UPDATE baselines SET active = 0, deactivated_us = ?2 WHERE id = ?1");
    if (!off) return 0;
    sqlite3_bind_int64(off.get(), 1, *b.replaces_id);
    sqlite3_bind_int64(off.get(), 2, b.computed_us);
    if (sqlite3_step(off.get()) != SQLITE_DONE) return 0;
  }
  Statement s = sql::prepare(
      db,
      "INSERT INTO baselines (step, scope, repo, branch, active, computed_us, window_us, n,"
      " min_us, p50_us, p75_us, p90_us, p95_us, p99_us, max_us, mean_us, stddev_us, mad_us,"
      " multiplier, min_change, reason, replaces_id) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8,"
      " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)");
  if (!s) return 0;
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
  if (sqlite3_step(s.get()) != SQLITE_DONE) return 0;
  return sqlite3_last_insert_rowid(db);
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

const char* to_string(BaselineOutcome outcome) {
  switch (outcome) {
    case BaselineOutcome::stored:
      return "stored";
    case BaselineOutcome::replaced:
      return "replaced";
    case BaselineOutcome::kept:
      return "kept";
    case BaselineOutcome::too_few_samples:
      return "too_few_samples";
  }
  return "kept";
}

Result<std::vector<ComputeResult>> compute_baselines(Store& store, const ComputeOptions& o) {
  const std::int64_t now = o.now_us ? o.now_us : now_unix_us();
  auto groups = gather(store, o, now - o.window.us);
  if (!groups) return groups.error();
  // A step asked for by name is reported even with no run in the window (0 of the needed).
  if (!o.step.empty() && o.scope == BaselineScope::all) (*groups)[{o.step, "", ""}];

  std::vector<ComputeResult> results;
  for (auto& [key, group] : *groups) {
    ComputeResult r;
    r.key = {std::get<0>(key), o.scope, std::get<1>(key), std::get<2>(key)};
    r.summary = summarize(group.durations);
    r.failures = group.failures;
    results.push_back(std::move(r));
  }

  // Decide and write under the write lock, so two computations at once cannot both replace
  // the same baseline.
  sqlite3* db = store.handle();
  constexpr std::string_view kWhat = "cannot store the baselines";
  sql::WriteTransaction tx(db);
  if (!tx.begin()) return sql::error(db, store.path(), kWhat);
  for (ComputeResult& r : results) {
    auto previous = find_active(db, store.path(), r.key);
    if (!previous) return previous.error();
    r.previous = *previous;
    if (r.previous) {
      r.baseline_id = r.previous->id;
      if (r.summary.n > 0) r.largest_move = largest_move(r.previous->summary, r.summary);
    }
    if (r.summary.n < o.min_samples) {
      r.outcome = BaselineOutcome::too_few_samples;
      continue;
    }
    Baseline b;
    b.key = r.key;
    b.summary = r.summary;
    b.computed_us = now;
    b.window = o.window;
    b.multiplier = o.multiplier;
    b.min_change = o.min_change;
    if (!r.previous) {
      b.reason = "first";
      r.outcome = BaselineOutcome::stored;
    } else if (o.force) {
      b.reason = "forced";
      r.outcome = BaselineOutcome::replaced;
    } else if (std::fabs(r.largest_move->change) > o.min_change) {
      b.reason = "moved";
      r.outcome = BaselineOutcome::replaced;
    } else {
      r.outcome = BaselineOutcome::kept;
      continue;
    }
    if (r.previous) b.replaces_id = r.previous->id;
    r.baseline_id = insert_baseline(db, b);
    if (r.baseline_id == 0) return sql::error(db, store.path(), kWhat);
  }
  if (!tx.commit()) return sql::error(db, store.path(), kWhat);
  return results;
}

Result<std::vector<Baseline>> active_baselines(Store& store, const std::string& step) {
  sqlite3* db = store.handle();
  Statement s = sql::prepare(db, "SELECT " + std::string(kColumns) +
                                     " FROM baselines WHERE active AND (?1 = '' OR step = ?1)"
                                     " ORDER BY step, scope, repo, branch");
  if (!s) return sql::error(db, store.path(), "cannot read the baselines");
  sql::bind_text(s.get(), 1, step);
  std::vector<Baseline> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(read_baseline(s.get()));
  if (rc != SQLITE_DONE) return sql::error(db, store.path(), "cannot read the baselines");
  return out;
}

std::optional<Duration> threshold_for(const Thresholds& t, std::string_view step) {
  if (step == "commit") return t.commit;
  if (step == "rollback") return t.rollback;
  if (step == "validate") return t.validate;
  if (step == "recover") return t.recover;
  return std::nullopt;
}

std::vector<BaselineHeadroom> with_headroom(const std::vector<Baseline>& baselines,
                                            const Thresholds& thresholds) {
  std::vector<BaselineHeadroom> out;
  for (const Baseline& b : baselines) {
    BaselineHeadroom h{b, threshold_for(thresholds, b.key.step), std::nullopt, std::nullopt};
    if (h.threshold && !std::isnan(b.summary.p99)) {
      double t = static_cast<double>(h.threshold->us);
      h.headroom_us = t - b.summary.p99;
      if (t > 0) h.headroom_pct = *h.headroom_us / t * 100.0;
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace perfguard
