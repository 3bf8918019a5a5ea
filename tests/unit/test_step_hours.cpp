#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "stats/histogram.h"
#include "store/sqlite/rollups.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"
#include "store/step_reads.h"
#include "store/store.h"
#include "store_engines.h"
#include "support.h"

using namespace perfguard;
using perfguard::test::Engine;
using perfguard::test::FreshStore;
using perfguard::test::TempDir;

namespace {

constexpr std::int64_t kT0 = 1795392000LL * 1000000;  // 2026-11-23T00:00:00Z

StepRecord step(std::uint64_t trace, const std::string& name, std::int64_t start_us,
                std::int64_t duration_us, StepStatus status = StepStatus::ok) {
  StepRecord r;
  r.trace_id = trace;
  r.step = name;
  r.root.name = name;
  r.root.start_us = start_us;
  r.root.duration = Duration::micros(duration_us);
  r.root.children.push_back(
      Span{"part", start_us + 10, Duration::micros(duration_us / 2), 0, {1, 2, 3}, {}});
  r.status = status;
  r.threshold = Duration::seconds(1);
  r.context.repo = "/src/app";
  r.context.branch = "main";
  return r;
}

Store open_store(const std::filesystem::path& path) {
  auto store = Store::open(StoreOptions{path});
  REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().message));
  return std::move(store.value());
}

std::vector<std::vector<std::string>> rows(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK,
                  sqlite3_errmsg(db));
  std::vector<std::vector<std::string>> out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const unsigned char* t = sqlite3_column_text(stmt, i);
      row.push_back(t ? reinterpret_cast<const char*>(t) : "NULL");
    }
    out.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  return out;
}

std::string one(sqlite3* db, const std::string& sql) {
  auto r = rows(db, sql);
  REQUIRE(r.size() == 1);
  return r[0][0];
}

// Every hour of every step, read back, against the records that went in.
void check_hours_match(Store& store, const std::vector<StepRecord>& records,
                       std::int64_t since_us) {
  std::map<std::pair<std::string, std::int64_t>, std::pair<StatusCounts, std::vector<std::int64_t>>>
      expected;
  for (const auto& r : records) {
    if (r.root.start_us < since_us) continue;
    auto& [counts, durations] = expected[{r.step, hour_of(r.root.start_us)}];
    counts.add(r.status);
    if (is_completed(r.status)) durations.push_back(r.root.duration.us);
  }
  auto hours = store.step_hours("", since_us);
  REQUIRE(hours.ok());
  REQUIRE(hours->size() == expected.size());
  for (const StepHour& h : *hours) {
    CAPTURE(h.step);
    CAPTURE(h.hour);
    auto it = expected.find({h.step, h.hour});
    REQUIRE(it != expected.end());
    const auto& [counts, durations] = it->second;
    CHECK(h.counts.ok == counts.ok);
    CHECK(h.counts.breach == counts.breach);
    CHECK(h.counts.failed == counts.failed);
    CHECK(h.counts.timeout == counts.timeout);
    CHECK(h.counts.interrupted == counts.interrupted);
    Moments m = Moments::of(durations);
    CHECK(h.timing.n == m.n);
    if (m.n) {
      CHECK(h.timing.min == m.min);
      CHECK(h.timing.max == m.max);
      CHECK(h.timing.mean() == doctest::Approx(m.mean()));
    }
    if (m.n > 1) CHECK(h.timing.stddev() == doctest::Approx(m.stddev()));
    DurationHistogram histogram;
    REQUIRE(histogram.decode(reinterpret_cast<const unsigned char*>(h.histogram.data()),
                             h.histogram.size()));
    CHECK(histogram.count() == m.n);
  }
}

std::vector<StepRecord> mixed_records(std::mt19937_64& rng, int n, std::uint64_t first_trace) {
  const StepStatus statuses[] = {StepStatus::ok,         StepStatus::ok,     StepStatus::ok,
                                 StepStatus::breach,     StepStatus::failed, StepStatus::timeout,
                                 StepStatus::interrupted};
  std::vector<StepRecord> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(step(first_trace + static_cast<std::uint64_t>(i), i % 3 ? "commit" : "rollback",
                       kT0 + static_cast<std::int64_t>(rng() % (3 * kHourUs)),
                       1000 + static_cast<std::int64_t>(rng() % 900000), statuses[rng() % 7]));
  }
  return out;
}

}  // namespace

TEST_CASE("recording keeps every hour's rollup exact") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::mt19937_64 rng(31);
  auto records = mixed_records(rng, 300, 1);
  // In several batches, so hours are rebuilt from their steps and added to.
  for (int i = 0; i < 300; i += 70) {
    std::vector<StepRecord> batch(records.begin() + i, records.begin() + std::min(300, i + 70));
    REQUIRE(store.record(batch).ok());
  }
  check_hours_match(store, records, 0);
  if (engine == Engine::sqlite) {
    CHECK(one(sql::connection(store), "SELECT count(*) FROM step_hours WHERE stale = 1") == "0");
    CHECK(one(sql::connection(store), "SELECT value FROM meta WHERE key = 'rolled_up_to'") ==
          one(sql::connection(store), "SELECT max(id) FROM step_rows"));
  } else {
    CHECK(fresh.one("SELECT count(*) FROM stale_hours") == "0");
  }
}

TEST_CASE("reading from a time within an hour counts only the steps from then on") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::mt19937_64 rng(32);
  auto records = mixed_records(rng, 200, 1);
  REQUIRE(store.record(records).ok());
  check_hours_match(store, records, kT0 + kHourUs + 1234567);
  auto none = store.step_hours("commit", kT0 + 10 * kHourUs);
  REQUIRE(none.ok());
  CHECK(none->empty());
  auto unknown = store.step_hours("no-such-step", 0);
  REQUIRE(unknown.ok());
  CHECK(unknown->empty());
}

TEST_CASE("steps added with plain SQL are rolled up by the next reader or writer") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  std::mt19937_64 rng(33);
  auto records = mixed_records(rng, 50, 1);
  REQUIRE(store.record(records).ok());
  // A copy of each step, an hour later, inserted behind perfguard's back.
  REQUIRE(sqlite3_exec(sql::connection(store),
                       "INSERT INTO step_rows (trace_id, name_id, started_us, duration_us, status,"
                       " threshold_us, exit_code, context_id) SELECT trace_id + 1000, name_id,"
                       " started_us + 3600000000, duration_us, status, threshold_us, exit_code,"
                       " context_id FROM step_rows",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  std::vector<StepRecord> all = records;
  for (auto r : records) {
    r.trace_id += 1000;
    r.root.start_us += kHourUs;
    all.push_back(r);
  }
  REQUIRE(store.catch_up_rollups().ok());
  check_hours_match(store, all, 0);
  // The writer catches up too.
  REQUIRE(sqlite3_exec(sql::connection(store),
                       "INSERT INTO step_rows (trace_id, name_id, started_us, duration_us, status,"
                       " exit_code, context_id) SELECT 99999, name_id, started_us, 5, 0, 0,"
                       " context_id FROM step_rows WHERE id = 1",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  StepRecord extra = records[0];
  extra.trace_id = 99999;
  extra.root.duration = Duration::micros(5);
  extra.status = StepStatus::ok;
  all.push_back(extra);
  StepRecord later = step(123456, "commit", kT0 + 2 * kHourUs + 5, 777);
  all.push_back(later);
  REQUIRE(store.record({later}).ok());
  check_hours_match(store, all, 0);
}

TEST_CASE("deleted steps make their hour stale, reads stay exact, the next record rebuilds it") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  std::mt19937_64 rng(34);
  auto records = mixed_records(rng, 120, 1);
  REQUIRE(store.record(records).ok());
  // Through the v1 `steps` view, as code written for version 1 deletes.
  const std::int64_t cut = kT0 + kHourUs + kHourUs / 2;
  REQUIRE(sqlite3_exec(sql::connection(store),
                       ("DELETE FROM steps WHERE started_us < " + std::to_string(cut)).c_str(),
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  std::erase_if(records, [&](const StepRecord& r) { return r.root.start_us < cut; });
  CHECK(one(sql::connection(store), "SELECT count(*) FROM step_hours WHERE stale = 1") != "0");
  CHECK(one(sql::connection(store), "SELECT count(*) FROM span_rows") ==
        std::to_string(records.size()));  // their spans went with them
  check_hours_match(store, records, 0);

  // The next perf-baseline command rebuilds every stale hour; hours left empty go.
  REQUIRE(store.catch_up_rollups().ok());
  CHECK(one(sql::connection(store), "SELECT count(*) FROM step_hours WHERE stale = 1") == "0");
  CHECK(one(sql::connection(store),
            "SELECT count(*) FROM step_hours WHERE hour = " + std::to_string(hour_of(kT0))) == "0");
  CHECK(one(sql::connection(store), "SELECT count(*) FROM meta WHERE key = 'stale_hours'") == "0");
  check_hours_match(store, records, 0);

  StepRecord r = step(5000, "commit", kT0 + kHourUs + kHourUs * 3 / 4, 4242);
  records.push_back(r);
  REQUIRE(store.record({r}).ok());
  check_hours_match(store, records, 0);
  CHECK(
      one(sql::connection(store),
          "SELECT stale FROM step_hours WHERE hour = " + std::to_string(hour_of(r.root.start_us)) +
              " AND name_id = (SELECT id FROM names WHERE name = 'commit')") == "0");
}

TEST_CASE("a step changed with plain SQL is read right, in its old hour and its new one") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  auto a = step(1, "commit", kT0 + 10, 1000);
  auto b = step(2, "commit", kT0 + 20, 2000);
  REQUIRE(store.record({a, b}).ok());
  REQUIRE(sqlite3_exec(sql::connection(store),
                       ("UPDATE step_rows SET started_us = " + std::to_string(kT0 + 5 * kHourUs) +
                        ", duration_us = 9000 WHERE trace_id = 2")
                           .c_str(),
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  b.root.start_us = kT0 + 5 * kHourUs;
  b.root.duration = Duration::micros(9000);
  check_hours_match(store, {a, b}, 0);
}

TEST_CASE("a record stored twice is skipped, in the same batch or a later one") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::mt19937_64 rng(35);
  auto records = mixed_records(rng, 40, 1);
  auto twice = records;
  twice.insert(twice.end(), records.begin(), records.begin() + 10);
  REQUIRE(store.record(twice).ok());
  REQUIRE(store.record(records).ok());
  CHECK(fresh.one("SELECT count(*) FROM step_rows") == "40");
  check_hours_match(store, records, 0);
  // The same trace and start under another step name is another record.
  auto other = records[0];
  other.step = "validate";
  REQUIRE(store.record({other}).ok());
  CHECK(fresh.one("SELECT count(*) FROM step_rows") == "41");
}

TEST_CASE("steps recorded out of time order are all found, and only those in range") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  const std::int64_t now = kT0 + 30 * 24 * kHourUs;
  // First a step now, then a backlog of older steps imported after it.
  std::vector<StepRecord> records = {step(1, "commit", now, 5000)};
  REQUIRE(store.record(records).ok());
  std::vector<StepRecord> backlog;
  for (int i = 0; i < 3000; ++i) {
    backlog.push_back(step(100 + static_cast<std::uint64_t>(i), i % 2 ? "commit" : "validate",
                           now - 29 * 24 * kHourUs + i * 800000000LL, 1000 + i));
  }
  REQUIRE(store.record(backlog).ok());
  records.insert(records.end(), backlog.begin(), backlog.end());

  const std::int64_t since = now - 2 * 24 * kHourUs;
  auto samples = store.step_samples("commit", since);
  REQUIRE(samples.ok());
  std::size_t expected = 0;
  for (const auto& r : records) expected += r.step == "commit" && r.root.start_us >= since;
  CHECK(samples->size() == expected);
  for (const auto& s : *samples) {
    CHECK(s.step == "commit");
    CHECK(s.started_us >= since);
  }
  auto slowest = store.slowest_steps(since, 3);
  REQUIRE(slowest.ok());
  REQUIRE(slowest->size() == 3);
  CHECK(slowest->front().duration.us == 5000);
  CHECK(slowest->front().children.size() == 1);
  CHECK(slowest->front().children[0].name == "part");
  CHECK((*slowest)[1].duration > (*slowest)[2].duration);
  if (engine != Engine::sqlite) return;  // the rest reads the SQLite file's id ranges
  const std::int64_t commit_id =
      std::stoll(one(sql::connection(store), "SELECT id FROM names WHERE name = 'commit'"));
  auto ranges = id_ranges(dynamic_cast<SqliteStore&>(store.engine()), commit_id, hour_of(since));
  REQUIRE(ranges.ok());
  CHECK(ranges->size() <= 2);  // the first step's id, and the backlog's end
  auto ids = rows(sql::connection(store),
                  "SELECT id FROM step_rows WHERE name_id = (SELECT id FROM names WHERE name ="
                  " 'commit') AND started_us >= " +
                      std::to_string(since));
  CHECK(ids.size() == expected);
  for (const auto& row : ids) {
    std::int64_t id = std::stoll(row[0]);
    CAPTURE(id);
    CHECK(std::any_of(ranges->begin(), ranges->end(),
                      [&](const auto& r) { return r.first <= id && id <= r.second; }));
  }
}

TEST_CASE("step samples say where each step ran when asked") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  auto a = step(1, "commit", kT0, 1000);
  auto b = step(2, "commit", kT0 + 1, 2000);
  b.context.repo = "/src/other";
  b.context.branch = "";
  REQUIRE(store.record({a, b}).ok());
  auto with = store.step_samples("", 0, true);
  REQUIRE(with.ok());
  REQUIRE(with->size() == 2);
  CHECK((*with)[0].repo == "/src/app");
  CHECK((*with)[0].branch == "main");
  CHECK((*with)[1].repo == "/src/other");
  CHECK((*with)[1].branch == "");
  auto without = store.step_samples("", 0);
  REQUIRE(without.ok());
  CHECK((*without)[0].repo.empty());
}

TEST_CASE("a version 1 store keeps every step, span and view row through every migration") {
  TempDir tmp;
  const auto path = tmp / "perf.db";
  const char* views[] = {
      "SELECT * FROM step_results ORDER BY id", "SELECT * FROM child_spans ORDER BY step_id, seq",
      // Version 3 times the completed runs only: the counts stay.
      "SELECT step, n, ok, breaches, failures, timeouts, interrupted, last_at"
      " FROM step_summary",
      "SELECT step, day, n, breaches, failures, timeouts FROM daily_trend",
      "SELECT * FROM steps ORDER BY id", "SELECT * FROM spans ORDER BY step_id, seq"};
  std::vector<std::vector<std::vector<std::string>>> before;
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    std::string v1(schema::migrations()[0].sql);
    REQUIRE(sqlite3_exec(db, (v1 + "PRAGMA user_version = 1;").c_str(), nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    // Written as version 1 wrote them: text statuses, blob HEADs, usage derived from spans.
    const char* data = R"sql(
      INSERT INTO contexts (repo, branch, tool) VALUES ('/src/app', 'main', 'perf-commit'),
        ('/src/app', '', 'perf-rollback');
      INSERT INTO steps (trace_id, step, started_us, duration_us, status, threshold_us,
        exit_code, context_id, head_before, head_after, cpu_user_us, labels) VALUES
        (11, 'commit', 1795447812000000, 41000, 'ok', 1000000, 0, 1, zeroblob(20), x'0102030405060708090a0b0c0d0e0f1011121314', NULL, '{"k":"v"}'),
        (12, 'rollback', 1795447813000000, 1500000, 'breach', 1000000, 3, 2, x'0102030405060708090a0b0c0d0e0f1011121314', zeroblob(20), 77, NULL),
        (12, 'validate', 1795447814600000, 9000, 'ok', 5000000, 0, 2, zeroblob(20), zeroblob(20), NULL, NULL),
        (13, 'commit', 1795534212000000, 2000, 'failed', 1000000, 1, 1, NULL, NULL, NULL, NULL);
      INSERT INTO spans VALUES (1, 0, NULL, 'add', 40, 10000, 0, 5000, 2000, 7000),
        (1, 1, NULL, 'commit', 10100, 30000, 0, 15000, 6000, 9000),
        (1, 2, 1, 'hook:pre-commit', 10200, 2000, 0, 0, 0, 0),
        (2, 0, NULL, 'snapshot', 30, 8000, NULL, 0, 0, 0),
        (3, 0, NULL, 'status', 40, 6000, 0, 3000, 1000, 11000);
      -- Past the 256 spans a key of version 4 holds: they move to span_rows_more.
      WITH RECURSIVE n(i) AS (SELECT 256 UNION ALL SELECT i + 1 FROM n WHERE i < 260)
      INSERT INTO spans SELECT 1, i, CASE WHEN i % 2 THEN 256 END, 'extra', 20000 + i, 10, 0,
        i, 1, 12000 + i FROM n;
    )sql";
    REQUIRE_MESSAGE(sqlite3_exec(db, data, nullptr, nullptr, nullptr) == SQLITE_OK,
                    sqlite3_errmsg(db));
    for (const char* v : views) before.push_back(rows(db, v));
    sqlite3_close(db);
  }
  Store store = open_store(path);
  CHECK(store.schema_version() == kSchemaVersion);
  for (std::size_t i = 0; i < std::size(views); ++i) {
    CAPTURE(views[i]);
    CHECK(rows(sql::connection(store), views[i]) == before[i]);
  }
  CHECK(one(sql::connection(store), "SELECT typeof(head_after) FROM step_rows WHERE id = 3") ==
        "blob");
  // The failed commit (2 ms) is counted, not timed.
  CHECK(one(sql::connection(store), "SELECT p50_ms FROM step_summary WHERE step = 'commit'") ==
        "41.0");
  CHECK(one(sql::connection(store),
            "SELECT max_ms FROM daily_trend WHERE step = 'commit'"
            " AND day = '2026-11-24'") == "NULL");
  CHECK(one(sql::connection(store), "SELECT length(head_after) FROM step_rows WHERE id = 3") ==
        "0");
  // The rollups were built from the version 1 steps.
  CHECK(one(sql::connection(store), "SELECT sum(n_ok + n_breach + n_failed) FROM step_hours") ==
        "4");
  CHECK(one(sql::connection(store), "SELECT count(*) FROM span_rows_more") == "5");
  CHECK(one(sql::connection(store), "SELECT max_rss_kb FROM step_results WHERE id = 1") == "12260");
  auto hours = store.step_hours("commit", 0);
  REQUIRE(hours.ok());
  REQUIRE(hours->size() == 2);
  CHECK((*hours)[0].timing.n == 1);
  CHECK((*hours)[1].counts.failed == 1);
  // And new records go on from there.
  REQUIRE(store.record({step(99, "commit", 1795447812000001, 123)}).ok());
  CHECK(one(sql::connection(store), "SELECT count(*) FROM step_results") == "5");
}
