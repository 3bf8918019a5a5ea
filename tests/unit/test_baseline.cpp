#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "baseline/baseline.h"
#include "baseline/queries.h"
#include "baseline/render.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sql.h"
#include "store/store.h"
#include "store_engines.h"
#include "support.h"

using namespace perfguard;
using perfguard::test::FreshStore;
using perfguard::test::TempDir;

namespace {

constexpr std::int64_t kHour = 3600LL * 1000000;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kNow = 1795447812000000;  // 2026-11-23T15:30:12Z

StepRecord run(std::uint64_t trace, const std::string& name, std::int64_t start_us,
               std::int64_t duration_us, StepStatus status = StepStatus::ok,
               const std::string& repo = "/src/app", const std::string& branch = "main") {
  StepRecord r;
  r.trace_id = trace;
  r.step = name;
  r.root.name = name;
  r.root.start_us = start_us;
  r.root.duration = Duration::micros(duration_us);
  r.status = status;
  r.context.repo = repo;
  r.context.branch = branch;
  return r;
}

Store open_store(const std::filesystem::path& path) {
  auto store = Store::open(StoreOptions{path});
  REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().message));
  return std::move(store.value());
}

std::string one(Store& store, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(sql::connection(store), sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const unsigned char* t = sqlite3_column_text(stmt, 0);
  std::string v = t ? reinterpret_cast<const char*>(t) : "NULL";
  sqlite3_finalize(stmt);
  return v;
}

// percentile_cont by its definition, on a copy: rank (n-1)p between the two closest ranks.
double reference_percentile(std::vector<std::int64_t> x, double p) {
  std::sort(x.begin(), x.end());
  double rank = static_cast<double>(x.size() - 1) * p;
  auto lo = static_cast<std::size_t>(std::floor(rank));
  auto hi = static_cast<std::size_t>(std::ceil(rank));
  return static_cast<double>(x[lo]) +
         (rank - static_cast<double>(lo)) * static_cast<double>(x[hi] - x[lo]);
}

ComputeOptions options_at(std::int64_t now) {
  ComputeOptions o;
  o.now_us = now;
  return o;
}

// `n` completed commits in the last day, durations from `base` up, plus `failures` failed.
std::vector<StepRecord> commits(int n, std::int64_t base, int failures = 0,
                                std::uint64_t first_trace = 1) {
  std::vector<StepRecord> out;
  for (int i = 0; i < n + failures; ++i) {
    out.push_back(run(first_trace + static_cast<std::uint64_t>(i), "commit",
                      kNow - kDay + i * 60000000LL, base + (i * 7919) % 1000,
                      i < n ? StepStatus::ok : StepStatus::failed));
  }
  return out;
}

}  // namespace

TEST_CASE("compute stores a first baseline with exact statistics of the completed runs") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  auto records = commits(40, 50000, 3);
  records.push_back(run(999, "commit", kNow - 8 * kDay, 1));  // outside the 7-day window
  records[5].status = StepStatus::breach;                     // a breach still counts
  REQUIRE(store.record(records).ok());

  auto results = compute_baselines(store, options_at(kNow));
  REQUIRE(results.ok());
  REQUIRE(results->size() == 1);
  const ComputeResult& r = results->front();
  CHECK(r.outcome == BaselineOutcome::stored);
  CHECK(r.key.step == "commit");
  CHECK(r.key.scope == BaselineScope::all);
  CHECK(r.failures == 3);
  CHECK_FALSE(r.previous.has_value());
  CHECK(r.baseline_id > 0);

  std::vector<std::int64_t> d;
  for (int i = 0; i < 40; ++i) d.push_back(records[static_cast<std::size_t>(i)].root.duration.us);
  const Summary& s = r.summary;
  CHECK(s.n == 40);
  CHECK(s.min == reference_percentile(d, 0));
  CHECK(s.max == reference_percentile(d, 1));
  for (auto [p, got] :
       {std::pair{0.5, s.p50}, {0.75, s.p75}, {0.9, s.p90}, {0.95, s.p95}, {0.99, s.p99}}) {
    CAPTURE(p);
    CHECK(got == doctest::Approx(reference_percentile(d, p)));
  }
  CHECK(s.mean == doctest::Approx(mean(d)));
  CHECK(s.stddev == doctest::Approx(sample_stddev(d)));
  std::vector<std::int64_t> dev;
  for (auto v : d) dev.push_back(static_cast<std::int64_t>(std::llround(2 * std::fabs(v - s.p50))));
  CHECK(s.mad == doctest::Approx(reference_percentile(dev, 0.5) / 2));

  auto active = store.active_baselines();
  REQUIRE(active.ok());
  REQUIRE(active->size() == 1);
  const Baseline& b = active->front();
  CHECK(b.id == r.baseline_id);
  CHECK(b.summary.p99 == doctest::Approx(s.p99));
  CHECK(b.summary.mad == doctest::Approx(s.mad));
  CHECK(b.window == Duration::seconds(7 * 86400));
  CHECK(b.multiplier == 2.0);
  CHECK(b.reason == "first");
  CHECK(b.computed_us == kNow);
  CHECK(fresh.one("SELECT n || ' ' || reason FROM active_baselines") == "40 first");
  CHECK(s.method == SummaryMethod::exact);
  CHECK(b.summary.method == SummaryMethod::exact);
  CHECK(fresh.one("SELECT method FROM active_baselines") == "exact");
}

TEST_CASE("compute over more than kExactSamples runs reads the histograms and says so") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> lognormal(std::log(60000.0), 0.4);
  std::vector<StepRecord> records;
  std::vector<std::int64_t> d;
  for (int i = 0; i < 9000; ++i) {
    const std::int64_t us = static_cast<std::int64_t>(lognormal(rng));
    const StepStatus status = i % 100 == 1 ? StepStatus::timeout : StepStatus::ok;
    records.push_back(run(static_cast<std::uint64_t>(i + 1), "commit",
                          kNow - 6 * kDay + i * 50000000LL, us, status, "/src/app",
                          i % 3 ? "main" : "topic"));
    if (is_completed(status)) d.push_back(us);
  }
  REQUIRE(store.record(records).ok());
  REQUIRE(static_cast<std::int64_t>(d.size()) > kExactSamples);
  std::sort(d.begin(), d.end());

  auto check_close = [&](const Summary& s) {
    CHECK(s.method == SummaryMethod::histogram);
    CHECK(s.n == static_cast<std::int64_t>(d.size()));
    CHECK(s.min == static_cast<double>(d.front()));
    CHECK(s.max == static_cast<double>(d.back()));
    CHECK(s.mean == doctest::Approx(mean(d)).epsilon(1e-9));
    CHECK(s.stddev == doctest::Approx(sample_stddev(d)).epsilon(1e-6));
    for (auto [p, got] :
         {std::pair{0.5, s.p50}, {0.75, s.p75}, {0.9, s.p90}, {0.95, s.p95}, {0.99, s.p99}}) {
      CAPTURE(p);
      const double exact = reference_percentile(d, p);
      CHECK(std::fabs(got - exact) <= exact / 128);
    }
    const double mad = median_absolute_deviation(d);
    CHECK(std::fabs(s.mad - mad) <= (2 * reference_percentile(d, 0.5) + mad) / 128);
  };

  auto results = compute_baselines(store, options_at(kNow));
  REQUIRE(results.ok());
  REQUIRE(results->size() == 1);
  CHECK(results->front().failures == 90);
  check_close(results->front().summary);
  auto active = store.active_baselines();
  REQUIRE(active.ok());
  REQUIRE(active->size() == 1);
  CHECK(active->front().summary.method == SummaryMethod::histogram);
  check_close(active->front().summary);
  CHECK(fresh.one("SELECT method FROM active_baselines") == "histogram");

  // Per repository: no rollups to read, the runs are summed up into a histogram instead.
  ComputeOptions per_repo = options_at(kNow);
  per_repo.scope = BaselineScope::repo;
  auto scoped = compute_baselines(store, per_repo);
  REQUIRE(scoped.ok());
  REQUIRE(scoped->size() == 1);
  CHECK(scoped->front().failures == 90);
  check_close(scoped->front().summary);
  // Per branch: topic has 3,000 runs (exact), main 6,000 (histogram).
  ComputeOptions per_branch = options_at(kNow);
  per_branch.scope = BaselineScope::branch;
  auto branches = compute_baselines(store, per_branch);
  REQUIRE(branches.ok());
  REQUIRE(branches->size() == 2);
  CHECK(branches->at(0).key.branch == "main");
  CHECK(branches->at(0).summary.method == SummaryMethod::histogram);
  CHECK(branches->at(1).key.branch == "topic");
  CHECK(branches->at(1).summary.method == SummaryMethod::exact);
  CHECK(branches->at(0).summary.n + branches->at(1).summary.n ==
        static_cast<std::int64_t>(d.size()));
}

TEST_CASE("a version 3 store's baselines become exact ones, and the view shows the method") {
  TempDir tmp;
  const auto path = tmp / "perf.db";
  test::make_store_at_version(path, 3, R"sql(
      INSERT INTO baselines (step, scope, active, computed_us, window_us, n, p50_us, p99_us,
        multiplier, min_change, reason) VALUES ('commit', 'all', 1, 1795447812000000,
        604800000000, 40, 41000, 90000, 2, 0.05, 'first');
      PRAGMA application_id = 1885759332
    )sql");
  Store store = open_store(path);
  CHECK(store.schema_version() == kSchemaVersion);
  auto active = store.active_baselines();
  REQUIRE(active.ok());
  REQUIRE(active->size() == 1);
  CHECK(active->front().summary.method == SummaryMethod::exact);
  CHECK(active->front().summary.p99 == 90000);
  CHECK(one(store, "SELECT n || ' ' || p50_ms || ' ' || method FROM active_baselines") ==
        "40 41.0 exact");
  // Only the two methods are stored.
  CHECK(sqlite3_exec(sql::connection(store), "UPDATE baselines SET method = 'guess'", nullptr,
                     nullptr, nullptr) != SQLITE_OK);
}

TEST_CASE("too few samples stores nothing and says how many there are and are needed") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  REQUIRE(store.record(commits(4, 1000, 2)).ok());
  auto results = compute_baselines(store, options_at(kNow));
  REQUIRE(results.ok());
  REQUIRE(results->size() == 1);
  CHECK(results->front().outcome == BaselineOutcome::too_few_samples);
  CHECK(results->front().summary.n == 4);
  CHECK(results->front().failures == 2);
  CHECK(fresh.one("SELECT count(*) FROM baselines") == "0");

  ComputeOptions o = options_at(kNow);
  o.step = "rollback";  // asked for by name, never recorded
  auto none = compute_baselines(store, o);
  REQUIRE(none.ok());
  REQUIRE(none->size() == 1);
  CHECK(none->front().key.step == "rollback");
  CHECK(none->front().summary.n == 0);
  CHECK(none->front().outcome == BaselineOutcome::too_few_samples);

  o.step = "";
  o.min_samples = 4;
  auto enough = compute_baselines(store, o);
  REQUIRE(enough.ok());
  CHECK(enough->front().outcome == BaselineOutcome::stored);
}

TEST_CASE("a new baseline replaces the active one only when a percentile moved enough") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  REQUIRE(store.record(commits(30, 100000)).ok());
  REQUIRE(compute_baselines(store, options_at(kNow)).ok());
  const std::string first = fresh.one("SELECT id FROM baselines");

  // The same runs an hour later: nothing moved, the active one stays, nothing is stored.
  auto same = compute_baselines(store, options_at(kNow + kHour));
  REQUIRE(same.ok());
  CHECK(same->front().outcome == BaselineOutcome::kept);
  CHECK(std::to_string(same->front().baseline_id) == first);
  REQUIRE(same->front().largest_move.has_value());
  CHECK(same->front().largest_move->change == 0);
  CHECK(fresh.one("SELECT count(*) FROM baselines") == "1");

  // 4% slower: within the default 5%.
  REQUIRE(store.record(commits(60, 104000, 0, 1000)).ok());  // about 4% slower
  auto small = compute_baselines(store, options_at(kNow + kHour));
  REQUIRE(small.ok());
  CHECK(small->front().outcome == BaselineOutcome::kept);
  CHECK(small->front().largest_move->change > 0.01);
  CHECK(small->front().largest_move->change < 0.05);

  // With a lower bar it is replaced; the old one stays, inactive.
  ComputeOptions o = options_at(kNow + kHour);
  o.min_change = 0.01;
  auto moved = compute_baselines(store, o);
  REQUIRE(moved.ok());
  CHECK(moved->front().outcome == BaselineOutcome::replaced);
  CHECK(std::to_string(moved->front().previous->id) == first);
  CHECK(fresh.one("SELECT count(*) FROM baselines") == "2");
  CHECK(fresh.one("SELECT count(*) FROM baselines WHERE active AND id = " + first) == "0");
  CHECK(fresh.one("SELECT deactivated_us FROM baselines WHERE id = " + first) ==
        std::to_string(kNow + kHour));
  CHECK(fresh.one("SELECT replaces_id || ' ' || reason FROM baselines WHERE active") ==
        first + " moved");

  // --force replaces whatever moved.
  o.min_change = 0.5;
  o.force = true;
  auto forced = compute_baselines(store, o);
  REQUIRE(forced.ok());
  CHECK(forced->front().outcome == BaselineOutcome::replaced);
  CHECK(fresh.one("SELECT reason FROM baselines WHERE active") == "forced");
  CHECK(fresh.one("SELECT count(*) FROM baselines WHERE active") == "1");
}

TEST_CASE("per repository and per branch scopes keep a baseline for each") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::vector<StepRecord> records;
  std::uint64_t trace = 1;
  for (const auto& [repo, branch, base] :
       {std::tuple{"/src/a", "main", 1000}, {"/src/a", "dev", 2000}, {"/src/b", "main", 3000}}) {
    for (int i = 0; i < 12; ++i) {
      records.push_back(
          run(trace++, "commit", kNow - kHour + i, base + i, StepStatus::ok, repo, branch));
    }
  }
  REQUIRE(store.record(records).ok());
  ComputeOptions o = options_at(kNow);
  o.scope = BaselineScope::repo;
  auto by_repo = compute_baselines(store, o);
  REQUIRE(by_repo.ok());
  REQUIRE(by_repo->size() == 2);
  CHECK(by_repo->at(0).key.repo == "/src/a");
  CHECK(by_repo->at(0).key.branch == "");
  CHECK(by_repo->at(0).summary.n == 24);
  CHECK(by_repo->at(1).summary.min == 3000);

  o.scope = BaselineScope::branch;
  auto by_branch = compute_baselines(store, o);
  REQUIRE(by_branch.ok());
  REQUIRE(by_branch->size() == 3);
  CHECK(by_branch->at(0).key.branch == "dev");
  CHECK(by_branch->at(0).summary.p50 == doctest::Approx(2005.5));
  for (const auto& r : *by_branch) CHECK(r.outcome == BaselineOutcome::stored);
  // Scopes do not replace one another.
  CHECK(fresh.one("SELECT count(*) FROM baselines WHERE active") == "5");
}

TEST_CASE("headroom is the threshold minus p99, for steps with a threshold") {
  Baseline commit;
  commit.key.step = "commit";
  commit.summary.p99 = 250000;
  Baseline other = commit;
  other.key.step = "git-merge";
  Baseline slow = commit;
  slow.key.step = "validate";
  slow.summary.p99 = 6000000;
  Thresholds t;
  auto rows = with_headroom({commit, other, slow}, t);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].threshold == Duration::seconds(1));
  CHECK(*rows[0].headroom_us == 750000);
  CHECK(*rows[0].headroom_pct == doctest::Approx(75));
  CHECK_FALSE(rows[1].threshold.has_value());
  CHECK_FALSE(rows[1].headroom_us.has_value());
  CHECK(*rows[2].headroom_us == -1000000);
  CHECK(*rows[2].headroom_pct == doctest::Approx(-20));
}

TEST_CASE("stats counts every ending and gives exact timings of the completed runs") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::vector<StepRecord> records;
  std::vector<std::int64_t> completed;
  const StepStatus statuses[] = {StepStatus::ok,     StepStatus::ok,      StepStatus::breach,
                                 StepStatus::failed, StepStatus::timeout, StepStatus::interrupted};
  for (int i = 0; i < 60; ++i) {
    StepStatus s = statuses[i % 6];
    std::int64_t d = 1000 + (i * 37) % 500;
    records.push_back(
        run(static_cast<std::uint64_t>(i + 1), "rollback", kNow - 3 * kDay + i * kHour, d, s));
    if (is_completed(s) && kNow - 3 * kDay + i * kHour >= kNow - 2 * kDay) completed.push_back(d);
  }
  records.push_back(run(100, "commit", kNow - kHour, 5000));
  REQUIRE(store.record(records).ok());

  auto stats = step_stats(store, {"", kNow - 2 * kDay});
  REQUIRE(stats.ok());
  REQUIRE(stats->size() == 2);
  CHECK(stats->at(0).step == "commit");
  const StepStats& r = stats->at(1);
  CHECK(r.step == "rollback");
  CHECK(r.timing.method == SummaryMethod::exact);
  CHECK(r.counts.total() == 36);
  CHECK(r.counts.ok == 12);
  CHECK(r.counts.breach == 6);
  CHECK(r.counts.failures() == 18);
  CHECK(r.timing.n == static_cast<std::int64_t>(completed.size()));
  CHECK(r.timing.p95 == doctest::Approx(reference_percentile(completed, 0.95)));
  CHECK(r.timing.p50 == doctest::Approx(reference_percentile(completed, 0.5)));

  auto only = step_stats(store, {"commit", 0});
  REQUIRE(only.ok());
  REQUIRE(only->size() == 1);
  CHECK(only->front().timing.max == 5000);
}

TEST_CASE("stats over many runs reads the hourly histograms: percentiles within 0.78%") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::mt19937_64 rng(41);
  std::lognormal_distribution<double> lognormal(std::log(80000.0), 0.5);
  std::vector<StepRecord> records;
  std::vector<std::int64_t> d;
  for (int i = 0; i < 12000; ++i) {
    d.push_back(static_cast<std::int64_t>(lognormal(rng)));
    records.push_back(run(static_cast<std::uint64_t>(i + 1), "commit",
                          kNow - 6 * kDay + i * 40000000LL, d.back(),
                          i % 50 ? StepStatus::ok : StepStatus::failed));
    if (i % 50 == 0) d.pop_back();
  }
  REQUIRE(store.record(records).ok());
  REQUIRE(static_cast<std::int64_t>(d.size()) > kExactSamples);
  auto stats = step_stats(store, {"commit", 0});
  REQUIRE(stats.ok());
  const StepStats& s = stats->front();
  CHECK(s.timing.method == SummaryMethod::histogram);
  CHECK(s.counts.failed == 240);
  CHECK(s.timing.n == static_cast<std::int64_t>(d.size()));
  CHECK(s.timing.min == static_cast<double>(*std::min_element(d.begin(), d.end())));
  CHECK(s.timing.max == static_cast<double>(*std::max_element(d.begin(), d.end())));
  CHECK(s.timing.mean == doctest::Approx(mean(d)).epsilon(1e-9));
  CHECK(s.timing.stddev == doctest::Approx(sample_stddev(d)).epsilon(1e-6));
  for (auto [p, got] : {std::pair{0.5, s.timing.p50}, {0.9, s.timing.p90}, {0.99, s.timing.p99}}) {
    double exact = reference_percentile(d, p);
    CAPTURE(p);
    CHECK(std::fabs(got - exact) <= exact / 128);
  }
  // MAD from the histogram: within 0.78% of (2 x median + MAD).
  std::sort(d.begin(), d.end());
  const double mad = median_absolute_deviation(d);
  CHECK(std::fabs(s.timing.mad - mad) <= (2 * reference_percentile(d, 0.5) + mad) / 128);
}

TEST_CASE("trend groups runs by UTC day or hour and leaves out periods without runs") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  const std::int64_t midnight = kNow - kNow % kDay;  // 2026-11-23T00:00:00Z
  REQUIRE(store
              .record({run(1, "commit", midnight - 1, 1000),  // the 22nd's last microsecond
                       run(2, "commit", midnight, 3000, StepStatus::breach),
                       run(3, "commit", midnight + 5, 9000, StepStatus::failed),
                       run(4, "commit", midnight + 2 * kHour, 5000),
                       run(5, "commit", midnight - 5 * kDay, 7000),  // outside 3 days
                       run(6, "validate", midnight + 7, 4000)})
              .ok());
  TrendQuery q{"", 3, TrendPeriod::day, kNow};
  CHECK(trend_start(q, kNow) == midnight - 2 * kDay);
  auto days = step_trend(store, q);
  REQUIRE(days.ok());
  REQUIRE(days->size() == 3);
  CHECK(days->at(0).step == "commit");
  CHECK(days->at(0).start_us == midnight - kDay);
  CHECK(days->at(0).timing.n == 1);
  CHECK(days->at(1).start_us == midnight);
  CHECK(days->at(1).counts.total() == 3);
  CHECK(days->at(1).counts.breach == 1);
  CHECK(days->at(1).timing.n == 2);
  CHECK(days->at(1).timing.p50 == 4000);
  CHECK(days->at(2).step == "validate");

  TrendQuery h{"commit", 1, TrendPeriod::hour, kNow};
  CHECK(trend_start(h, kNow) == kNow - kNow % kHour - 23 * kHour);
  auto hours = step_trend(store, h);
  REQUIRE(hours.ok());
  REQUIRE(hours->size() == 3);
  CHECK(hours->at(1).start_us == midnight);
  CHECK(hours->at(2).start_us == midnight + 2 * kHour);
}

TEST_CASE("slowest lists the slowest runs in the window with their slowest child spans") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  auto with_children = [](StepRecord r) {
    for (auto [name, us] : {std::pair{"add", 10}, {"commit", 300}, {"hook", 20}, {"gc", 50}}) {
      r.root.children.push_back(Span{name, r.root.start_us + 1, Duration::micros(us), 0, {}, {}});
    }
    return r;
  };
  REQUIRE(store
              .record({with_children(run(1, "commit", kNow - kHour, 9000)),
                       run(2, "rollback", kNow - 2 * kHour, 12000, StepStatus::timeout),
                       run(3, "commit", kNow - 3 * kHour, 4000),
                       run(4, "commit", kNow - 30 * kHour, 99000)})
              .ok());
  auto slow = slowest_steps(store, {kNow - kDay, 2, "", 3});
  REQUIRE(slow.ok());
  REQUIRE(slow->size() == 2);
  CHECK(slow->at(0).step == "rollback");
  CHECK(slow->at(0).status == StepStatus::timeout);
  CHECK(slow->at(1).duration.us == 9000);
  REQUIRE(slow->at(1).children.size() == 3);
  CHECK(slow->at(1).children[0].name == "commit");
  CHECK(slow->at(1).children[1].name == "gc");
  CHECK(slow->at(1).children[2].name == "hook");

  auto commits_only = slowest_steps(store, {kNow - kDay, 10, "commit", 0});
  REQUIRE(commits_only.ok());
  REQUIRE(commits_only->size() == 2);
  CHECK(commits_only->at(0).children.empty());
}

TEST_CASE("charts are ASCII or Unicode blocks, scaled, solid to the value, shaded beyond") {
  CHECK(chart_bar(50, 100, 100, 10, false) == "#####-----");
  CHECK(chart_bar(100, 100, 100, 4, false) == "####");
  CHECK(chart_bar(0, 0, 100, 4, false) == "");
  CHECK(chart_bar(25, 50, 100, 4, true) == "█░");
  CHECK(chart_bar(30, 30, 100, 4, true) == "█▎");  // 1.2 cells: 10 eighths, rounded
  CHECK(chart_bar(std::nan(""), 1, 1, 4, false) == "");
}
