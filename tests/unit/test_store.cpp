#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "baseline/queries.h"
#include "store/sqlite/sql.h"
#include "store/step_reads.h"
#include "store/store.h"
#include "store_engines.h"
#include "support.h"

using namespace perfguard;
using perfguard::test::Engine;
using perfguard::test::FreshStore;
using perfguard::test::TempDir;

namespace {

constexpr std::int64_t kDayUs = 86400LL * 1000000;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

RunContext typical_context(int variant = 0) {
  RunContext c;
  c.repo = "/home/alice/src/payments-service";
  c.branch = variant % 2 ? "feature/faster-rollback" : "main";
  c.host = "build-" + std::to_string(variant % 3) + ".ci.example.com";
  c.user = "alice";
  c.ci_provider = "github";
  c.ci_job = "";
  c.tool = "perf-commit";
  c.tool_version = "0.1.0";
  c.git_version = "2.39.5";
  return c;
}

std::string random_sha(std::mt19937_64& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(40, '0');
  for (char& c : s) c = kHex[rng() % 16];
  return s;
}

// A typical commit: two child spans (add, commit), SHA-1 HEADs, rusage, a threshold.
StepRecord typical_record(std::mt19937_64& rng, std::uint64_t trace_id, std::int64_t start_us,
                          int context_variant = 0) {
  StepRecord r;
  r.trace_id = trace_id;
  r.step = "commit";
  r.root.name = r.step;
  r.root.start_us = start_us;
  std::int64_t add_us = 8000 + static_cast<std::int64_t>(rng() % 30000);
  std::int64_t commit_us = 20000 + static_cast<std::int64_t>(rng() % 200000);
  r.root.duration = Duration::micros(add_us + commit_us + 150);
  ResourceUsage add_usage{add_us / 2, add_us / 4, 7000 + static_cast<std::int64_t>(rng() % 2000)};
  ResourceUsage commit_usage{commit_us / 2, commit_us / 4,
                             8000 + static_cast<std::int64_t>(rng() % 8000)};
  r.root.children.push_back(Span{"add", start_us + 40, Duration::micros(add_us), 0, add_usage, {}});
  r.root.children.push_back(
      Span{"commit", start_us + 80 + add_us, Duration::micros(commit_us), 0, commit_usage, {}});
  // As the step timer makes it: the children's CPU added up, the larger peak memory.
  r.root.usage = {add_usage.cpu_user_us + commit_usage.cpu_user_us,
                  add_usage.cpu_sys_us + commit_usage.cpu_sys_us,
                  std::max(add_usage.max_rss_kb, commit_usage.max_rss_kb)};
  r.status = StepStatus::ok;
  r.threshold = Duration::seconds(1);
  r.exit_code = 0;
  r.head_before = random_sha(rng);
  r.head_after = random_sha(rng);
  r.context = typical_context(context_variant);
  return r;
}

StepRecord simple_record(std::uint64_t trace_id, const std::string& step, std::int64_t start_us,
                         std::int64_t duration_us, StepStatus status = StepStatus::ok) {
  StepRecord r;
  r.trace_id = trace_id;
  r.step = step;
  r.root.name = step;
  r.root.start_us = start_us;
  r.root.duration = Duration::micros(duration_us);
  r.status = status;
  r.context = typical_context();
  return r;
}

Store open_store(const std::filesystem::path& path) {
  auto store = Store::open(StoreOptions{path});
  REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().message));
  return std::move(store.value());
}

// Runs a query returning one value, through the store's own connection.
std::int64_t query_int(Store& store, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(sql::connection(store), sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  std::int64_t v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return v;
}

std::string query_text(Store& store, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(sql::connection(store), sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const unsigned char* t = sqlite3_column_text(stmt, 0);
  std::string v = t ? reinterpret_cast<const char*>(t) : "";
  sqlite3_finalize(stmt);
  return v;
}

// Every row of a query, each column as text ("NULL" for NULL).
std::vector<std::vector<std::string>> query_rows(Store& store, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(sql::connection(store), sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::vector<std::vector<std::string>> rows;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const unsigned char* t = sqlite3_column_text(stmt, i);
      row.push_back(t ? reinterpret_cast<const char*>(t) : "NULL");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  return rows;
}

// percentile_cont, computed without SQL: for sorted x[0..n-1], p -> rank (n-1)p.
double percentile_cont(std::vector<std::int64_t> values, double p) {
  std::sort(values.begin(), values.end());
  double rank = static_cast<double>(values.size() - 1) * p;
  auto lo = static_cast<std::size_t>(std::floor(rank));
  auto hi = static_cast<std::size_t>(std::ceil(rank));
  return static_cast<double>(values[lo]) +
         (rank - static_cast<double>(lo)) * static_cast<double>(values[hi] - values[lo]);
}

std::int64_t fresh_int(const FreshStore& fresh, const std::string& sql) {
  return std::stoll(fresh.one(sql));
}

unsigned file_mode(const std::filesystem::path& p) {
  struct stat st;
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("open creates the store file 0600 in new 0700 directories") {
  TempDir tmp;
  auto path = tmp / "perfguard/deeper/perf.db";
  {
    Store store = open_store(path);
    CHECK(store.schema_version() == kSchemaVersion);
    CHECK(store.path() == path);
  }
  CHECK(file_mode(path) == 0600);
  CHECK(file_mode(tmp / "perfguard/deeper") == 0700);
  CHECK(file_mode(tmp / "perfguard") == 0700);
  CHECK(file_mode(tmp.path()) == 0700);  // mkdtemp's, not ours: left as it was
}

TEST_CASE("open leaves the mode of an existing directory alone") {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "shared");
  ::chmod((tmp / "shared").c_str(), 0755);
  open_store(tmp / "shared/perf.db");
  CHECK(file_mode(tmp / "shared") == 0755);
  CHECK(file_mode(tmp / "shared/perf.db") == 0600);
}

TEST_CASE("open without create refuses a missing store and creates nothing") {
  TempDir tmp;
  auto path = tmp / "missing/perf.db";
  auto store = Store::open(StoreOptions{path, Duration::seconds(1), false});
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ExitCode::store);
  CHECK(store.error().message.find(path.string() + ": ") == 0);
  CHECK_FALSE(std::filesystem::exists(tmp / "missing"));
}

TEST_CASE("the store runs in WAL mode with synchronous=NORMAL and foreign keys on") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  CHECK(query_text(store, "PRAGMA journal_mode") == "wal");
  CHECK(query_int(store, "PRAGMA synchronous") == 1);
  CHECK(query_int(store, "PRAGMA foreign_keys") == 1);
}

TEST_CASE("a recorded step reads back unchanged, with nested spans, context and labels") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::mt19937_64 rng(1);
  StepRecord r = typical_record(rng, 0x7abc'def0'1234'5678ULL, 1795447812123456);
  r.status = StepStatus::breach;
  r.exit_code = 3;
  r.root.usage = {123456, 0, 99999};  // not the children's total: stored as given
  r.root.children[1].children.push_back(
      Span{"hook:pre-commit", r.root.start_us + 900, Duration::micros(700), 1, {1, 2, 3}, {}});
  r.root.children[1].children[0].children.push_back(
      Span{"lint", r.root.start_us + 950, Duration::micros(300), std::nullopt, {}, {}});
  r.root.children[1].children.push_back(
      Span{"hook:post-commit", r.root.start_us + 1700, Duration::micros(50), 0, {}, {}});
  r.labels = {{"ticket", "OPS-1"}, {"note", "quote \" and caf\xC3\xA9"}, {"empty", ""}};
  StepRecord unborn = simple_record(42, "validate", r.root.start_us + 5, 999);
  unborn.head_before = "";
  unborn.head_after = "not-a-sha";
  unborn.context.ci_job = "job 7";
  REQUIRE(store.record({r, unborn}).ok());

  auto back = store.recent_steps(10);
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  const StepRecord& v = (*back)[0];  // newest first
  CHECK(v.step == "validate");
  CHECK(v.head_before == "");
  CHECK(v.head_after == "not-a-sha");
  CHECK(v.context.ci_job == "job 7");
  CHECK_FALSE(v.threshold.has_value());
  CHECK(v.labels.empty());
  CHECK(v.root.children.empty());

  const StepRecord& s = (*back)[1];
  CHECK(s.trace_id == r.trace_id);
  CHECK(s.step == r.step);
  CHECK(s.root.name == r.step);
  CHECK(s.root.start_us == r.root.start_us);
  CHECK(s.root.duration == r.root.duration);
  CHECK(s.root.usage.cpu_user_us == r.root.usage.cpu_user_us);
  CHECK(s.root.usage.cpu_sys_us == r.root.usage.cpu_sys_us);
  CHECK(s.root.usage.max_rss_kb == r.root.usage.max_rss_kb);
  CHECK(s.status == StepStatus::breach);
  CHECK(s.threshold == r.threshold);
  CHECK(s.exit_code == 3);
  CHECK(s.head_before == r.head_before);
  CHECK(s.head_after == r.head_after);
  CHECK(s.context.repo == r.context.repo);
  CHECK(s.context.branch == r.context.branch);
  CHECK(s.context.host == r.context.host);
  CHECK(s.context.user == r.context.user);
  CHECK(s.context.ci_provider == r.context.ci_provider);
  CHECK(s.context.ci_job == r.context.ci_job);
  CHECK(s.context.tool == r.context.tool);
  CHECK(s.context.tool_version == r.context.tool_version);
  CHECK(s.context.git_version == r.context.git_version);
  CHECK(s.labels == r.labels);

  // The span tree, compared field by field at every depth.
  std::function<void(const Span&, const Span&)> same = [&](const Span& a, const Span& b) {
    CAPTURE(b.name);
    CHECK(a.name == b.name);
    CHECK(a.start_us == b.start_us);
    CHECK(a.duration == b.duration);
    CHECK(a.exit_code == b.exit_code);
    CHECK(a.usage.cpu_user_us == b.usage.cpu_user_us);
    CHECK(a.usage.cpu_sys_us == b.usage.cpu_sys_us);
    CHECK(a.usage.max_rss_kb == b.usage.max_rss_kb);
    REQUIRE(a.children.size() == b.children.size());
    for (std::size_t i = 0; i < a.children.size(); ++i) same(a.children[i], b.children[i]);
  };
  REQUIRE(s.root.children.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) same(s.root.children[i], r.root.children[i]);
  CHECK(s.root.children[1].children.size() == 2);
  CHECK(s.root.children[1].children[0].children.size() == 1);

  // The SQLite file stores HEADs as 20-byte blobs.
  if (engine == Engine::sqlite) {
    CHECK(fresh_int(fresh, "SELECT length(head_before) FROM steps WHERE step = 'commit'") == 20);
    CHECK(fresh.one("SELECT typeof(head_before) FROM steps WHERE step = 'validate'") == "null");
  }
}

TEST_CASE("a step's usage equal to its children's total is derived, not stored") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  std::mt19937_64 rng(10);
  StepRecord derived = typical_record(rng, 1, 1000);
  StepRecord partly = typical_record(rng, 2, 2000);
  partly.root.usage.cpu_sys_us += 1;  // differs: stored; the other two are derived
  REQUIRE(store.record({derived, partly}).ok());

  CHECK(query_int(store,
                  "SELECT count(*) FROM steps WHERE cpu_user_us IS NULL AND cpu_sys_us IS "
                  "NULL AND max_rss_kb IS NULL") == 1);
  CHECK(query_int(store, "SELECT cpu_sys_us FROM steps WHERE trace_id = 2") ==
        partly.root.usage.cpu_sys_us);
  CHECK(query_int(store,
                  "SELECT count(*) FROM steps WHERE trace_id = 2 AND cpu_user_us IS NULL "
                  "AND max_rss_kb IS NULL") == 1);

  auto rows = query_rows(store,
                         "SELECT cpu_user_ms * 1000, cpu_sys_ms * 1000, max_rss_kb FROM "
                         "step_results ORDER BY started_us");
  REQUIRE(rows.size() == 2);
  const StepRecord* records[] = {&derived, &partly};
  for (int i = 0; i < 2; ++i) {
    CHECK(std::stod(rows[i][0]) == doctest::Approx(records[i]->root.usage.cpu_user_us));
    CHECK(std::stod(rows[i][1]) == doctest::Approx(records[i]->root.usage.cpu_sys_us));
    CHECK(std::stoll(rows[i][2]) == records[i]->root.usage.max_rss_kb);
  }

  auto back = store.recent_steps(2);
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  for (int i = 0; i < 2; ++i) {
    const ResourceUsage& got = (*back)[1 - i].root.usage;
    CHECK(got.cpu_user_us == records[i]->root.usage.cpu_user_us);
    CHECK(got.cpu_sys_us == records[i]->root.usage.cpu_sys_us);
    CHECK(got.max_rss_kb == records[i]->root.usage.max_rss_kb);
  }
}

TEST_CASE("recent_steps is newest first, filtered by step and limited") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::vector<StepRecord> records;
  for (int i = 0; i < 10; ++i) {
    records.push_back(simple_record(100 + i, i % 2 ? "rollback" : "commit",
                                    1795447812000000 + (i * 7 % 10) * 1000, 1000));
  }
  REQUIRE(store.record(records).ok());
  auto all = store.recent_steps(0);
  REQUIRE(all.ok());
  CHECK(all->size() == 10);
  for (std::size_t i = 1; i < all->size(); ++i) {
    CHECK((*all)[i - 1].root.start_us >= (*all)[i].root.start_us);
  }
  auto rollbacks = store.recent_steps(3, "rollback");
  REQUIRE(rollbacks.ok());
  REQUIRE(rollbacks->size() == 3);
  for (const auto& r : *rollbacks) CHECK(r.step == "rollback");
  CHECK((*rollbacks)[0].root.start_us >= (*rollbacks)[1].root.start_us);
  auto none = store.recent_steps(5, "recover");
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("records that share a context share one contexts row") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::mt19937_64 rng(2);
  REQUIRE(store.record({typical_record(rng, 1, 1000), typical_record(rng, 2, 2000)}).ok());
  REQUIRE(store.record({typical_record(rng, 3, 3000)}).ok());
  CHECK(fresh_int(fresh, "SELECT count(*) FROM contexts") == 1);
  REQUIRE(store.record({typical_record(rng, 4, 4000, 1), typical_record(rng, 5, 5000)}).ok());
  CHECK(fresh_int(fresh, "SELECT count(*) FROM contexts") == 2);
  CHECK(fresh_int(fresh, "SELECT count(*) FROM steps") == 5);
  CHECK(fresh_int(fresh, "SELECT count(DISTINCT context_id) FROM steps") == 2);
}

TEST_CASE("recording the same trace and step again adds nothing") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::mt19937_64 rng(3);
  StepRecord r = typical_record(rng, 77, 1000);
  REQUIRE(store.record({r}).ok());
  REQUIRE(store.record({r}).ok());
  CHECK(fresh_int(fresh, "SELECT count(*) FROM steps") == 1);
  CHECK(fresh_int(fresh, "SELECT count(*) FROM spans") == 2);
}

TEST_CASE("a store path that is a directory is a store error") {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "perf.db");
  auto store = Store::open(StoreOptions{tmp / "perf.db"});
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ExitCode::store);
  CHECK(store.error().message.find((tmp / "perf.db").string() + ": ") == 0);
  CHECK(store.error().message.find("directory") != std::string::npos);
}

TEST_CASE("a store path under a regular file is a store error") {
  TempDir tmp;
  perfguard::test::write_file(tmp / "file", "x");
  auto store = Store::open(StoreOptions{tmp / "file/perf.db"});
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ExitCode::store);
  CHECK(store.error().message.find((tmp / "file").string() + " is not a directory") !=
        std::string::npos);
}

TEST_CASE("a corrupt store file is a store error and is left unchanged") {
  TempDir tmp;
  auto path = tmp / "perf.db";
  std::mt19937_64 rng(4);
  std::string junk(8192, '\0');
  for (char& c : junk) c = static_cast<char>(rng());
  perfguard::test::write_file(path, junk);
  auto store = Store::open(StoreOptions{path});
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ExitCode::store);
  CHECK(store.error().message.find(path.string() + ": ") == 0);
  CHECK(store.error().message.find("file is not a database") != std::string::npos);
  CHECK(perfguard::test::read_file(path) == junk);
}

TEST_CASE("a read-only store file is a store error when recording") {
  if (::geteuid() == 0) {
    MESSAGE("skipped: root writes read-only files; the CLI suites cover this as a user");
    return;
  }
  TempDir tmp;
  auto path = tmp / "perf.db";
  std::mt19937_64 rng(5);
  { open_store(path); }
  ::chmod(path.c_str(), 0400);
  auto store = Store::open(StoreOptions{path});
  Status status =
      store.ok() ? store->record({typical_record(rng, 1, 1000)}) : Status(store.error());
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code == ExitCode::store);
  CHECK(status.error().message.find(path.string() + ": ") == 0);
  CHECK(status.error().message.find("readonly") != std::string::npos);
}

TEST_CASE("a store with a newer schema version is refused and left untouched") {
  TempDir tmp;
  auto path = tmp / "perf.db";
  {
    Store store = open_store(path);
    const std::string newer = "PRAGMA user_version = " + std::to_string(kSchemaVersion + 1);
    REQUIRE(sqlite3_exec(sql::connection(store), newer.c_str(), nullptr, nullptr, nullptr) ==
            SQLITE_OK);
  }
  std::string before = perfguard::test::read_file(path);
  auto store = Store::open(StoreOptions{path});
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ExitCode::store);
  CHECK(store.error().message == path.string() + ": store schema version " +
                                     std::to_string(kSchemaVersion + 1) +
                                     " is newer than this perfguard understands (" +
                                     std::to_string(kSchemaVersion) + "): upgrade perfguard");
  CHECK(perfguard::test::read_file(path) == before);
}

TEST_CASE("an older store is migrated forward on open") {
  TempDir tmp;
  auto path = tmp / "perf.db";
  perfguard::test::write_file(path, "");  // an empty file is a version-0 database
  Store store = open_store(path);
  CHECK(store.schema_version() == kSchemaVersion);
  CHECK(query_int(store, "SELECT count(*) FROM sqlite_schema WHERE name = 'step_summary'") == 1);
}

TEST_CASE("a store locked past the busy timeout is a store error") {
  TempDir tmp;
  auto path = tmp / "perf.db";
  { open_store(path); }
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);

  std::mt19937_64 rng(6);
  auto t0 = std::chrono::steady_clock::now();
  auto store = Store::open(StoreOptions{path, Duration::millis(50)});
  Status status =
      store.ok() ? store->record({typical_record(rng, 1, 1000)}) : Status(store.error());
  auto waited = std::chrono::steady_clock::now() - t0;
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);

  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code == ExitCode::store);
  CHECK(status.error().message.find(path.string() + ": ") == 0);
  CHECK(status.error().message.find("locked") != std::string::npos);
  CHECK(waited >= std::chrono::milliseconds(40));
  CHECK(waited < std::chrono::seconds(2));
}

TEST_CASE("a writer waits for its turn in <store>.write.lock, then writes") {
  TempDir tmp;
  auto path = tmp / "perf.db";
  { open_store(path); }
  // A writer ahead in the queue, which lets go of its turn by itself.
  test::FlockHolder ahead(tmp / "perf.db.write.lock", std::chrono::milliseconds(300));
  std::mt19937_64 rng(7);
  auto store = Store::open(StoreOptions{path, Duration::seconds(600)});
  REQUIRE(store.ok());
  Status status = store->record({typical_record(rng, 1, 1000)});
  REQUIRE_MESSAGE(status.ok(), (status.ok() ? "" : status.error().message));
  CHECK(std::filesystem::exists(tmp / "perf.db.write.lock.released"));
  CHECK(test::query_int(path, "SELECT count(*) FROM step_rows") == 1);
}

TEST_CASE("a turn not had within the busy timeout leaves the write to SQLite's lock") {
  // A holder of the turn that never lets go (stopped, say) cannot stop the writes: after
  // the busy timeout the writer tries SQLite's lock, which is free.
  TempDir tmp;
  auto path = tmp / "perf.db";
  { open_store(path); }
  test::FlockHolder stuck(tmp / "perf.db.write.lock");
  std::mt19937_64 rng(8);
  auto store = Store::open(StoreOptions{path, Duration::millis(50)});
  REQUIRE(store.ok());
  Status status = store->record({typical_record(rng, 1, 1000)});
  REQUIRE_MESSAGE(status.ok(), (status.ok() ? "" : status.error().message));
  CHECK_FALSE(std::filesystem::exists(tmp / "perf.db.write.lock.released"));
  CHECK(test::query_int(path, "SELECT count(*) FROM step_rows") == 1);
}

TEST_CASE("a store whose lock file cannot be made is written without the queue") {
  TempDir tmp;
  auto path = tmp / "perf.db";
  std::filesystem::create_directories(tmp / "perf.db.write.lock");
  std::mt19937_64 rng(9);
  Store store = open_store(path);
  Status status = store.record({typical_record(rng, 1, 1000)});
  REQUIRE_MESSAGE(status.ok(), (status.ok() ? "" : status.error().message));
  CHECK(test::query_int(path, "SELECT count(*) FROM step_rows") == 1);
}

// The size of the store's write-ahead log file, 0 when there is none.
std::uintmax_t wal_size(const std::filesystem::path& store) {
  std::error_code ec;
  auto size = std::filesystem::file_size(store.string() + "-wal", ec);
  return ec ? 0 : size;
}

TEST_CASE("the write-ahead log stays small when every step is a process of its own") {
  // Each tool opens the store, records one step and exits, leaving the log behind: the
  // store must empty it now and then, or every later open reads all of it.
  TempDir tmp;
  auto path = tmp / "perf.db";
  std::mt19937_64 rng(11);
  std::uintmax_t largest = 0;
  bool emptied = false;
  for (int i = 0; i < 200; ++i) {
    {
      Store store = open_store(path);
      REQUIRE(store.record({typical_record(rng, 1000 + i, 1000000LL * i)}).ok());
    }
    std::uintmax_t size = wal_size(path);
    emptied = emptied || size < largest;
    largest = std::max(largest, size);
  }
  CHECK(emptied);
  // 128 pages and the last step's few, with their 24-byte headers, and the log's header.
  CHECK(largest <= 140 * (4096 + 24) + 32);
  CHECK(perfguard::test::query_int(path, "SELECT count(*) FROM steps") == 200);
}

TEST_CASE("a bulk write leaves the write-ahead log empty") {
  TempDir tmp;
  auto path = tmp / "perf.db";
  std::mt19937_64 rng(12);
  {
    Store store = open_store(path);
    auto import = store.begin_import();
    REQUIRE(import.ok());
    for (int i = 0; i < 1500; ++i)
      REQUIRE(import->add(typical_record(rng, 1 + i, 1000LL * i)).ok());
    REQUIRE(import->commit().ok());
    CHECK(wal_size(path) == 0);
  }
  CHECK(perfguard::test::query_int(path, "SELECT count(*) FROM steps") == 1500);
}

TEST_CASE("eight processes writing at once lose no row") {
  TempDir tmp;
  auto path = tmp / "perf.db";  // not created yet: the children race to create it too
  constexpr int kProcs = 8, kRecords = 50;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Like a hook or CI job: open, record one step, close; over and over.
      int failures = 0;
      std::mt19937_64 rng(static_cast<std::uint64_t>(p));
      for (int i = 0; i < kRecords; ++i) {
        auto store = Store::open(StoreOptions{path});
        auto id = static_cast<std::uint64_t>(p * 1000 + i + 1);
        if (!store.ok() || !store->record({typical_record(rng, id, now_us(), p)}).ok()) {
          ++failures;
        }
      }
      ::_exit(failures);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  Store store = open_store(path);
  CHECK(query_int(store, "SELECT count(*) FROM steps") == kProcs * kRecords);
  CHECK(query_int(store, "SELECT count(*) FROM spans") == 2 * kProcs * kRecords);
  CHECK(query_int(store, "SELECT count(*) FROM contexts") == 6);  // 2 branches x 3 hosts
}

TEST_CASE("step_summary times the completed runs as stats does: an independent percentile_cont") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  std::mt19937_64 rng(7);
  std::map<std::string, std::vector<std::int64_t>> durations;  // of the completed runs
  std::map<std::string, int> breaches;
  std::map<std::string, long long> runs;
  const std::pair<const char*, int> sizes[] = {
      {"commit", 1000}, {"rollback", 37}, {"validate", 2}, {"recover", 1}};
  std::vector<StepRecord> records;
  std::uint64_t id = 1;
  for (auto [step, n] : sizes) {
    for (int i = 0; i < n; ++i) {
      // Ties on purpose: many equal durations must not upset the ranks.
      std::int64_t d = static_cast<std::int64_t>(rng() % 400) * 250 + 1;
      StepStatus status = d > 90000 ? StepStatus::breach : StepStatus::ok;
      // One run in seven stopped early: counted, never timed (short and long ones, so that
      // timing them would move every percentile).
      if (i % 7 == 3) status = (i / 7) % 2 ? StepStatus::failed : StepStatus::interrupted;
      if (i % 7 == 3) d = (i / 7) % 3 ? 1 : 10000000;
      ++runs[step];
      if (is_completed(status)) durations[step].push_back(d);
      if (status == StepStatus::breach) ++breaches[step];
      records.push_back(simple_record(id++, step, 1795447812000000 + i, d, status));
    }
  }
  REQUIRE(store.record(records).ok());

  auto rows = query_rows(store,
                         "SELECT step, n, breaches, min_ms, p50_ms, p75_ms, p90_ms, p95_ms, "
                         "p99_ms, max_ms, mean_ms FROM step_summary");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0][0] == "commit");  // ordered by step
  for (const auto& row : rows) {
    const auto& d = durations[row[0]];
    CAPTURE(row[0]);
    CHECK(std::stoll(row[1]) == runs[row[0]]);
    CHECK(std::stoll(row[2]) == breaches[row[0]]);
    const double ps[] = {0.0, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0};
    for (int i = 0; i < 7; ++i) {
      CAPTURE(ps[i]);
      double expected_ms = percentile_cont(d, ps[i]) / 1000.0;
      CHECK(std::stod(row[3 + i]) == doctest::Approx(expected_ms).epsilon(1e-9));
    }
    double mean = 0;
    for (auto v : d) mean += static_cast<double>(v);
    mean /= static_cast<double>(d.size());
    CHECK(std::stod(row[10]) == doctest::Approx(mean / 1000.0).epsilon(1e-9));
  }
  // perf-baseline stats, over the same runs, gives the same percentiles.
  auto stats = step_stats(store, StatsQuery{});
  REQUIRE(stats.ok());
  REQUIRE(stats->size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(rows[i][0]);
    const StepStats& st = (*stats)[i];
    CHECK(st.step == rows[i][0]);
    CHECK(st.counts.total() == std::stoll(rows[i][1]));
    const double view[] = {st.timing.p50, st.timing.p95, st.timing.p99};
    const int columns[] = {4, 7, 8};
    for (int k = 0; k < 3; ++k) {
      CHECK(std::stod(rows[i][columns[k]]) == doctest::Approx(view[k] / 1000.0).epsilon(1e-9));
    }
  }
}

TEST_CASE("daily_trend counts steps per step and UTC day") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  const std::int64_t midnight = 1795392000LL * 1000000;  // 2026-11-23T00:00:00Z
  std::vector<StepRecord> records = {
      simple_record(1, "commit", midnight - 1, 1000),  // the last microsecond of the 22nd
      simple_record(2, "commit", midnight, 3000, StepStatus::breach),
      simple_record(3, "commit", midnight + kDayUs - 1, 2000),
      simple_record(4, "commit", midnight + 5, 9000, StepStatus::failed),
      simple_record(5, "rollback", midnight + 7, 4000),
  };
  REQUIRE(store.record(records).ok());
  auto rows = query_rows(store,
                         "SELECT step, day, n, mean_ms, p50_ms, max_ms, breaches, failures "
                         "FROM daily_trend");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] ==
        std::vector<std::string>{"commit", "2026-11-22", "1", "1.0", "1.0", "1.0", "0", "0"});
  // The failed commit is counted, not timed.
  CHECK(rows[1] ==
        std::vector<std::string>{"commit", "2026-11-23", "3", "2.5", "2.5", "3.0", "1", "1"});
  CHECK(rows[2] ==
        std::vector<std::string>{"rollback", "2026-11-23", "1", "4.0", "4.0", "4.0", "0", "0"});
}

TEST_CASE("slowest_recent lists the last seven days, slowest first") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  std::int64_t now = now_us();
  REQUIRE(store
              .record({
                  simple_record(1, "commit", now - kDayUs, 5000),
                  simple_record(2, "rollback", now - 2 * kDayUs, 9000, StepStatus::breach),
                  simple_record(3, "commit", now - 60 * 1000000LL, 1000),
                  simple_record(4, "commit", now - 8 * kDayUs, 100000),  // too old
              })
              .ok());
  auto rows = query_rows(store,
                         "SELECT step, duration_ms, status, repo, branch FROM "
                         "slowest_recent");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == std::vector<std::string>{"rollback", "9.0", "breach",
                                            "/home/alice/src/payments-service", "main"});
  CHECK(rows[1][1] == "5.0");
  CHECK(rows[2][1] == "1.0");
}

TEST_CASE("step_results and child_spans show hex ids, ISO times and milliseconds") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  std::mt19937_64 rng(8);
  StepRecord r = typical_record(rng, 0x0123'4567'89ab'cdefULL, 1795447812123456);
  r.labels = {{"k", "v"}};
  REQUIRE(store.record({r}).ok());
  auto rows = query_rows(store,
                         "SELECT trace_id, started_at, duration_ms, threshold_ms, head_before, "
                         "head_after, repo, git_version, labels FROM step_results");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == "0123456789abcdef");
  CHECK(rows[0][1] == "2026-11-23T15:30:12.123456Z");
  CHECK(std::stod(rows[0][2]) == doctest::Approx(r.root.duration.millis_f()));
  CHECK(rows[0][3] == "1000.0");
  CHECK(rows[0][4] == r.head_before);
  CHECK(rows[0][5] == r.head_after);
  CHECK(rows[0][6] == r.context.repo);
  CHECK(rows[0][7] == "2.39.5");
  CHECK(rows[0][8] == R"({"k":"v"})");

  auto spans = query_rows(store,
                          "SELECT trace_id, step, name, parent_seq, offset_ms, exit_code FROM "
                          "child_spans ORDER BY seq");
  REQUIRE(spans.size() == 2);
  CHECK(spans[0] ==
        std::vector<std::string>{"0123456789abcdef", "commit", "add", "NULL", "0.04", "0"});
  CHECK(spans[1][2] == "commit");
}

TEST_CASE("a rollback's records and its snapshot's row are stored together, once") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::mt19937_64 rng(21);
  const std::vector<StepRecord> records = {typical_record(rng, 5, 1795447812000000)};
  const SnapshotRow row{"20261123-153012-2", "c0ffee",        "deadbeef",       "main",
                        1795447812000000,    "perf-rollback", "before rollback"};
  REQUIRE(store.record(records, row).ok());
  CHECK(fresh_int(fresh, "SELECT count(*) FROM steps") == 1);
  CHECK(fresh.one("SELECT reason FROM snapshots") == "before rollback");
  // The same again (a journal replayed) adds nothing, and leaves the row as it was.
  SnapshotRow again = row;
  again.reason = "changed";
  REQUIRE(store.record(records, again).ok());
  CHECK(fresh_int(fresh, "SELECT count(*) FROM steps") == 1);
  CHECK(fresh.one("SELECT reason FROM snapshots") == "before rollback");
}

TEST_CASE("snapshots are recorded and replaced by id") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  SnapshotRow row{"20261123-153012-1", "c0ffee",        "deadbeef",       "main",
                  1795447812000000,    "perf-rollback", "before rollback"};
  REQUIRE(store.record_snapshot(row).ok());
  row.reason = "before recover";
  REQUIRE(store.record_snapshot(row).ok());
  CHECK(fresh_int(fresh, "SELECT count(*) FROM snapshots") == 1);
  CHECK(fresh.one("SELECT reason FROM snapshots") == "before recover");
  CHECK(fresh.one("SELECT commit_id FROM snapshots") == "c0ffee");
}

TEST_CASE("stored_snapshots joins the rows and the steps' snapshot labels by id") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  const SnapshotRow row{"20261123-153012-1", "c0ffee",        "deadbeef",       "main",
                        1795447812000000,    "perf-rollback", "before rollback"};
  StepRecord with_row = simple_record(1, "rollback", 1795447812000000, 1000);
  with_row.labels = {{"mode", "target"}, {"snapshot", row.id}};
  StepRecord label_only = simple_record(2, "rollback", 1795447813000000, 1000);
  label_only.labels = {{"snapshot", "20261123-153013-2"}};
  StepRecord no_snapshot = simple_record(3, "commit", 1795447814000000, 1000);
  no_snapshot.labels = {{"note", "snapshot"}};
  REQUIRE(store.record({with_row}, row).ok());
  REQUIRE(store.record({label_only, no_snapshot}).ok());
  REQUIRE(store
              .record_snapshot({"20261123-153014-3", "f00d", "deadbeef", "main", 1795447814000000,
                                "perf-recover", "before recover"})
              .ok());
  auto stored = store.stored_snapshots();
  REQUIRE(stored.ok());
  REQUIRE(stored->size() == 3);
  CHECK((*stored)[0].id == row.id);
  CHECK((*stored)[0].commit == "c0ffee");
  CHECK((*stored)[0].row);
  CHECK((*stored)[0].labelled_steps == 1);
  CHECK((*stored)[1].id == "20261123-153013-2");
  CHECK_FALSE((*stored)[1].row);
  CHECK((*stored)[1].commit.empty());
  CHECK((*stored)[1].labelled_steps == 1);
  CHECK((*stored)[2].id == "20261123-153014-3");
  CHECK((*stored)[2].labelled_steps == 0);
}

TEST_CASE("the git version cache returns what was stored under its key") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  CHECK_FALSE(store.cached_git_version("/usr/bin/git:123:456").has_value());
  REQUIRE(store.cache_git_version("/usr/bin/git:123:456", "2.39.5").ok());
  REQUIRE(store.cache_git_version("/usr/bin/git:123:789", "2.43.0").ok());
  CHECK(store.cached_git_version("/usr/bin/git:123:456") == "2.39.5");
  CHECK(store.cached_git_version("/usr/bin/git:123:789") == "2.43.0");
  REQUIRE(store.cache_git_version("/usr/bin/git:123:456", "2.40.0").ok());
  CHECK(store.cached_git_version("/usr/bin/git:123:456") == "2.40.0");
  CHECK(fresh_int(fresh, "SELECT count(*) FROM meta WHERE key LIKE 'git-version:%'") == 2);
}

TEST_CASE("opening an existing store writes nothing") {
  // What keeps opening cheap on the hot path (timed in bench/, not here): an existing store of
  // the current version is neither migrated nor switched to WAL again, nor written at all.
  TempDir tmp;
  auto path = tmp / "perf.db";
  { open_store(path); }
  const std::string before = perfguard::test::read_file(path);
  std::error_code ec;
  const auto wal_before = std::filesystem::file_size(path.string() + "-wal", ec);
  for (int i = 0; i < 20; ++i) {
    auto store = Store::open(StoreOptions{path});
    REQUIRE(store.ok());
    CHECK(store->schema_version() == kSchemaVersion);
  }
  CHECK(perfguard::test::read_file(path) == before);
  CHECK(std::filesystem::file_size(path.string() + "-wal", ec) == (ec ? 0 : wal_before));
}

TEST_CASE("a typical step costs fewer than 200 bytes of store") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  std::mt19937_64 rng(9);
  constexpr int kSteps = 10000;
  std::int64_t start = 1795447812000000;
  std::vector<StepRecord> batch;
  for (int i = 0; i < kSteps; ++i) {
    start += 60 * 1000000LL + static_cast<std::int64_t>(rng() % 600000000);
    batch.push_back(typical_record(rng, rng() >> 1, start, static_cast<int>(rng() % 6)));
    if (batch.size() == 100) {
      REQUIRE(store.record(batch).ok());
      batch.clear();
    }
  }
  std::int64_t bytes = query_int(store, "PRAGMA page_count") * query_int(store, "PRAGMA page_size");
  double per_step = static_cast<double>(bytes) / kSteps;
  MESSAGE("store size per recorded step (2 child spans): " << per_step << " bytes");
  CHECK(query_int(store, "SELECT count(*) FROM steps") == kSteps);
  CHECK(per_step < 200);
}

TEST_CASE("a step with more child spans than a span key holds keeps every one of them") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  // 300 children, the first with 20 of its own: depth-first sequence numbers run past 256.
  StepRecord big = simple_record(7, "recover", 1795447812000000, 900000);
  for (int i = 0; i < 300; ++i) {
    Span child;
    child.name = "part" + std::to_string(i % 7);
    child.start_us = big.root.start_us + 10 + i;
    child.duration = Duration::micros(1000 + i);
    child.exit_code = i % 3 == 0 ? std::optional<int>(i % 2) : std::nullopt;
    child.usage = {100 + i, 10 + i, 5000 + i};
    if (i == 0) {
      for (int j = 0; j < 20; ++j) {
        Span grandchild;
        grandchild.name = "inner";
        grandchild.start_us = child.start_us + j;
        grandchild.duration = Duration::micros(10 + j);
        child.children.push_back(grandchild);
      }
    }
    big.root.children.push_back(child);
  }
  big.root.usage = *children_usage(big.root);
  StepRecord small = simple_record(8, "commit", 1795447813000000, 1000);
  REQUIRE(store.record({big, small}).ok());
  CHECK(query_int(store, "SELECT count(*) FROM span_rows_more") == 320 - 256);
  CHECK(query_int(store, "SELECT count(*) FROM spans WHERE step_id = 1") == 320);

  auto back = store.recent_steps(10, "recover");
  REQUIRE(back.ok());
  REQUIRE(back->size() == 1);
  const Span& root = back->front().root;
  REQUIRE(root.children.size() == 300);
  CHECK(root.children[0].children.size() == 20);
  for (std::size_t i = 0; i < 300; ++i) {
    CAPTURE(i);
    CHECK(root.children[i].name == big.root.children[i].name);
    CHECK(root.children[i].duration == big.root.children[i].duration);
    CHECK(root.children[i].exit_code == big.root.children[i].exit_code);
    CHECK(root.children[i].usage.max_rss_kb == big.root.children[i].usage.max_rss_kb);
  }
  CHECK(back->front().root.usage.cpu_user_us == big.root.usage.cpu_user_us);
  // Read whole, as exports and the shipper read steps: every span, in order.
  std::vector<std::string> names;
  REQUIRE(store
              .for_each_step_after(0, 0,
                                   [&](std::int64_t, StepRecord& r) {
                                     if (r.step != "recover") return Status{};
                                     for (const Span& child : r.root.children) {
                                       names.push_back(child.name + "/" +
                                                       std::to_string(child.children.size()));
                                     }
                                     return Status{};
                                   })
              .ok());
  REQUIRE(names.size() == 300);
  CHECK(names[0] == "part0/20");
  CHECK(names[299] == big.root.children[299].name + "/0");
  // The view derives the step's usage from every direct child, in both tables.
  CHECK(query_int(store,
                  "SELECT CAST(cpu_user_ms * 1000 AS INTEGER) FROM step_results"
                  " WHERE step = 'recover'") == big.root.usage.cpu_user_us);
  CHECK(query_int(store, "SELECT max_rss_kb FROM step_results WHERE step = 'recover'") ==
        big.root.usage.max_rss_kb);
  // The slowest children come from both tables too.
  auto slowest = store.slowest_steps(0, 1, "recover", 3);
  REQUIRE(slowest.ok());
  REQUIRE(slowest->size() == 1);
  REQUIRE(slowest->front().children.size() == 3);
  CHECK(slowest->front().children[0].duration.us == 1299);

  // A prune counts and removes every span of the steps it removes, and no other.
  auto dry = store.prune_steps(1795447812500000, true);
  REQUIRE(dry.ok());
  CHECK(dry->steps == 1);
  CHECK(dry->spans == 320);
  REQUIRE(store.prune_steps(1795447812500000, false).ok());
  CHECK(query_int(store, "SELECT count(*) FROM span_rows_more") == 0);
  CHECK(query_int(store, "SELECT count(*) FROM spans") == 0);
  CHECK(query_int(store, "SELECT count(*) FROM steps") == 1);
}

TEST_CASE("deleting a step with plain SQL deletes its spans, with or without foreign keys") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  std::mt19937_64 rng(12);
  REQUIRE(store
              .record({typical_record(rng, 1, 1795447812000000),
                       typical_record(rng, 2, 1795447813000000)})
              .ok());
  CHECK(query_int(store, "SELECT count(*) FROM spans") == 4);
  REQUIRE(sqlite3_exec(sql::connection(store),
                       "PRAGMA foreign_keys=OFF; DELETE FROM steps WHERE trace_id = 1;"
                       " PRAGMA foreign_keys=ON",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK(query_int(store, "SELECT count(*) FROM spans") == 2);
  CHECK(query_int(store, "SELECT count(*) FROM spans WHERE step_id = 2") == 2);
  REQUIRE(sqlite3_exec(sql::connection(store), "DELETE FROM spans WHERE seq = 0", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  CHECK(query_int(store, "SELECT count(*) FROM spans") == 1);
}

namespace {

// The result of one query on a file, through a connection of its own.
std::string query_file(const std::filesystem::path& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("a new store carries perfguard's application id") {
  TempDir tmp;
  REQUIRE(Store::open(StoreOptions{tmp / "perf.db"}).ok());
  CHECK(query_file(tmp / "perf.db", "PRAGMA application_id") == "1885759332");  // "pfgd"
}

TEST_CASE("another program's SQLite file is refused and left byte for byte as it was") {
  TempDir tmp;
  const auto path = tmp / "other.db";
  CHECK(query_file(path, "CREATE TABLE t(x)") == "");
  CHECK(query_file(path, "PRAGMA user_version = 2") == "");
  const std::string before = perfguard::test::read_file(path);
  auto store = Store::open(StoreOptions{path});
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ExitCode::store);
  CHECK(store.error().message ==
        path.string() +
            ": not a perfguard store (an SQLite database of another program: application_id "
            "0x00000000, user_version 2); nothing was changed: point --db at a store or a new "
            "file");
  CHECK(perfguard::test::read_file(path) == before);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    CHECK_FALSE(std::filesystem::exists(path.string() + suffix));
  }
}

TEST_CASE("a FIFO as the store is refused without opening it for SQLite") {
  TempDir tmp;
  REQUIRE(::mkfifo((tmp / "perf.db").c_str(), 0600) == 0);
  auto store = Store::open(StoreOptions{tmp / "perf.db"});
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().message.find("not a perfguard store (it is a FIFO)") != std::string::npos);
}

TEST_CASE("a store made before the application id keeps working and gets the id") {
  TempDir tmp;
  const auto path = tmp / "perf.db";
  REQUIRE(Store::open(StoreOptions{path}).ok());
  CHECK(query_file(path, "PRAGMA application_id = 0") == "");
  CHECK(query_file(path, "PRAGMA wal_checkpoint(TRUNCATE)") == "0");
  CHECK(query_file(path, "PRAGMA application_id") == "0");
  REQUIRE(Store::open(StoreOptions{path}).ok());
  CHECK(query_file(path, "PRAGMA application_id") == "1885759332");
}
