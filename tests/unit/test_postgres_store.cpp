// The shared store (lib/store/postgres): what only it has to prove (concurrent first opens,
// logins, messages without the password), and that it answers as the SQLite file does for the
// same records, down to the rows of the public views.

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "baseline/baseline.h"
#include "baseline/queries.h"
#include "core/text_encoding.h"
#include "store/postgres/pq.h"
#include "store/step_reads.h"
#include "store/store.h"
#include "store_engines.h"
#include "support.h"
#include "sync/ship.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Records of every kind the views show: statuses, thresholds or none, nested spans, labels,
// HEADs (upper-case hex, none, not hex), two contexts, over the last three days.
std::vector<StepRecord> varied_records(int n, std::int64_t end_us, std::uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::vector<StepRecord> out;
  const char* steps[] = {"commit", "rollback", "validate", "recover"};
  for (int i = 0; i < n; ++i) {
    StepRecord r;
    r.trace_id = 1000 + static_cast<std::uint64_t>(i);
    r.step = steps[rng() % 4];
    r.root.name = r.step;
    r.root.start_us = end_us - 3 * 86400LL * 1000000 + i * (3 * 86400LL * 1000000 / n) +
                      static_cast<std::int64_t>(rng() % 1000);
    r.root.duration = Duration::micros(100 + static_cast<std::int64_t>(rng() % 900000));
    r.status = static_cast<StepStatus>(rng() % 10 < 7 ? rng() % 2 : rng() % 5);
    if (i % 3) r.threshold = Duration::seconds(1);
    r.exit_code = static_cast<int>(rng() % 3);
    static constexpr char kHex[] = "0123456789ABCDEF";
    if (i % 5) {
      for (int k = 0; k < 40; ++k) r.head_before += kHex[rng() % 16];
    }
    r.head_after = i % 7 == 0 ? "not-a-sha" : r.head_before;
    r.context.repo = i % 2 ? "/src/app" : "/src/other";
    r.context.branch = i % 3 ? "main" : "feature/x";
    r.context.host = "host";
    r.context.tool = "perf-commit";
    if (i % 4 == 0) r.labels = {{"ticket", "OPS-" + std::to_string(i)}, {"note", "a \"b\" c"}};
    if (i % 2) {
      Span add{"add", r.root.start_us + 10, Duration::micros(50 + i), 0, {10, 20, 3000}, {}};
      Span commit{"commit", r.root.start_us + 100, Duration::micros(70 + i), 1, {5, 6, 4000}, {}};
      commit.children.push_back(
          Span{"hook", r.root.start_us + 120, Duration::micros(9), std::nullopt, {}, {}});
      r.root.children = {add, commit};
      r.root.usage = {15, 26, 4000};
    } else {
      r.root.usage = {1, 2, 3};
    }
    out.push_back(std::move(r));
  }
  return out;
}

void record_all(Store& store, const std::vector<StepRecord>& records) {
  auto import = store.begin_import();
  REQUIRE_MESSAGE(import.ok(), (import.ok() ? "" : import.error().message));
  for (const StepRecord& r : records) REQUIRE(import->add(r).ok());
  auto committed = import->commit();
  REQUIRE_MESSAGE(committed.ok(), (committed.ok() ? "" : committed.error().message));
}

// Whether two view cells say the same: equal text, or numbers equal to 12 significant digits
// (each engine prints doubles its own way).
bool same_cell(const std::string& a, const std::string& b) {
  if (a == b) return true;
  char* end_a = nullptr;
  char* end_b = nullptr;
  double x = std::strtod(a.c_str(), &end_a);
  double y = std::strtod(b.c_str(), &end_b);
  if (a.empty() || b.empty() || *end_a || *end_b) return false;
  return std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
}

// Each span's name, start and duration, depth first.
std::string span_tree(const Span& span) {
  std::string out = span.name + "@" + std::to_string(span.start_us) + "+" +
                    std::to_string(span.duration.us) + "(";
  for (const Span& child : span.children) out += span_tree(child);
  return out + ")";
}

// Every record is read back once, with its own spans and labels.
void check_read_back(Store& store, const std::vector<StepRecord>& records) {
  std::map<std::uint64_t, const StepRecord*> by_trace;
  for (const StepRecord& r : records) by_trace[r.trace_id] = &r;
  std::size_t read = 0;
  REQUIRE(store
              .for_each_step({},
                             [&](StepRecord& r) -> Status {
                               ++read;
                               auto it = by_trace.find(r.trace_id);
                               REQUIRE(it != by_trace.end());
                               const StepRecord& want = *it->second;
                               CHECK(r.step == want.step);
                               CHECK(span_tree(r.root) == span_tree(want.root));
                               CHECK(r.labels == want.labels);
                               CHECK(r.context.repo == want.context.repo);
                               return {};
                             })
              .ok());
  CHECK(read == records.size());
}

std::string admin_password() {
  const char* p = std::getenv("PGPASSWORD");
  return p ? p : "";
}

}  // namespace

TEST_CASE("the shared store is named by a URI without its password, and --db can name it") {
  CHECK(names_shared_store("postgresql://writer@db.example.com/perf"));
  CHECK(names_shared_store("postgres://db/perf"));
  CHECK_FALSE(names_shared_store("/var/lib/perf.db"));
  CHECK_FALSE(names_shared_store("postgresql.db"));

  FreshStore fresh(Engine::postgresql);
  const std::string host = std::getenv("PGHOST");
  CHECK(fresh.store().name() ==
        "postgresql://perfguard_admin@/" + fresh.database() + "?host=" + host);
  CHECK(fresh.store().path().empty());
  CHECK(fresh.store().schema_version() == kSchemaVersion);

  FreshStore file(Engine::sqlite);
  CHECK(file.store().name() == file.store().path().string());
}

TEST_CASE("a wrong password is one line that names the store, never the password") {
  FreshStore fresh(Engine::postgresql);
  const std::string secret = "s3cret-" + std::to_string(now_us());
  psql_rows(
      fresh.database(),
      "DROP ROLE IF EXISTS perfguard_writer; CREATE ROLE perfguard_writer "
      "LOGIN PASSWORD '" +
          secret +
          "'; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "
          "perfguard_writer; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO perfguard_writer");
  const std::string host = std::getenv("PGHOST");
  StoreOptions options;
  options.shared =
      "postgresql://perfguard_writer:wrong-" + secret + "@/" + fresh.database() + "?host=" + host;
  auto refused = Store::open(options);
  REQUIRE_FALSE(refused.ok());
  const std::string& message = refused.error().message;
  CAPTURE(message);
  CHECK(refused.error().code == ExitCode::store);
  CHECK(message.rfind("postgresql://perfguard_writer@/" + fresh.database() + "?host=" + host +
                          ": cannot open the shared store: ",
                      0) == 0);
  CHECK(message.find("authentication failed") != std::string::npos);
  CHECK(message.find(secret) == std::string::npos);
  CHECK(message.find('\n') == std::string::npos);

  // The right one opens it, and the name still leaves it out.
  options.shared =
      "postgresql://perfguard_writer:" + secret + "@/" + fresh.database() + "?host=" + host;
  auto opened = Store::open(options);
  REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message));
  CHECK(opened->name().find(secret) == std::string::npos);
  CHECK(opened->name() == "postgresql://perfguard_writer@/" + fresh.database() + "?host=" + host);
}

TEST_CASE("a login from a password file (PGPASSFILE) opens the shared store") {
  FreshStore fresh(Engine::postgresql);
  const std::string secret = "pass-" + std::to_string(now_us());
  psql_rows(
      fresh.database(),
      "DROP ROLE IF EXISTS perfguard_reader; CREATE ROLE perfguard_reader "
      "LOGIN PASSWORD '" +
          secret +
          "'; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "
          "perfguard_reader; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO perfguard_reader");
  TempDir tmp;
  write_file(tmp / "pgpass", "*:*:" + fresh.database() + ":perfguard_reader:" + secret + "\n");
  REQUIRE(::chmod((tmp / "pgpass").c_str(), 0600) == 0);
  const std::string password = admin_password();
  ::setenv("PGPASSFILE", (tmp / "pgpass").c_str(), 1);
  ::unsetenv("PGPASSWORD");
  StoreOptions options;
  options.shared = "dbname=" + fresh.database() + " user=perfguard_reader";
  auto opened = Store::open(options);
  ::setenv("PGPASSWORD", password.c_str(), 1);
  ::unsetenv("PGPASSFILE");
  REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message));
  CHECK(opened->schema_version() == kSchemaVersion);
  CHECK(opened->name().find(secret) == std::string::npos);
}

TEST_CASE(
    "a service from a service file (PGSERVICEFILE) opens the shared store, its options kept") {
  FreshStore fresh(Engine::postgresql);
  TempDir tmp;
  const std::string application = "perfguard-service-" + std::to_string(now_us());
  write_file(tmp / "pg_service.conf",
             "# the team's services\n[perfguard-test]\ndbname=" + fresh.database() +
                 "\noptions=-c application_name=" + application + "\n");
  ::setenv("PGSERVICEFILE", (tmp / "pg_service.conf").c_str(), 1);
  StoreOptions options;
  options.shared = "service=perfguard-test";
  auto opened = Store::open(options);
  StoreOptions unknown;
  unknown.shared = "service=perfguard-none";
  auto missing = Store::open(unknown);
  ::unsetenv("PGSERVICEFILE");
  REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message));
  CHECK(opened->schema_version() == kSchemaVersion);
  // The service's own settings reach the server with the store's.
  CHECK(fresh.one("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + application +
                  "'") == "1");
  // A service the file does not define: one line that names it.
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("perfguard-none") != std::string::npos);
  CHECK(missing.error().message.find('\n') == std::string::npos);
}

TEST_CASE("a database whose defaults round doubles still gives them back exactly") {
  FreshStore fresh(Engine::postgresql);
  // The store's session settings go with its first statement (in its round trip); without
  // them a double read as text would come back with 15 digits.
  psql_rows(fresh.database(), "ALTER DATABASE " + fresh.database() +
                                  " SET extra_float_digits = 0; ALTER DATABASE " +
                                  fresh.database() + " SET TimeZone = 'Pacific/Chatham'");
  const double p50 = 0.1 + 0.2;  // 0.30000000000000004
  const double mean = 1.0 / 3.0;
  for (int opening = 0; opening < 2; ++opening) {
    CAPTURE(opening);
    Store store = fresh.open();
    if (opening == 0) {
      REQUIRE(store
                  .update_baselines([&](BaselineUpdate& update) -> Status {
                    Baseline b;
                    b.key = {"commit", BaselineScope::all, "", ""};
                    b.summary.n = 20;
                    b.summary.p50 = p50;
                    b.summary.mean = mean;
                    b.computed_us = 1;
                    b.window = Duration::seconds(60);
                    b.reason = "first";
                    auto id = update.activate(b);
                    if (!id) return id.error();
                    return {};
                  })
                  .ok());
    }
    // Read back by the connection that wrote it, then by a new one.
    auto active = store.active_baselines("commit");
    REQUIRE(active.ok());
    REQUIRE(active->size() == 1);
    CHECK((*active)[0].summary.p50 == p50);
    CHECK((*active)[0].summary.mean == mean);
  }
}

TEST_CASE("sixteen connections opening an empty database at once make one schema") {
  REQUIRE(postgres_environment());
  TestDatabase database;
  std::vector<std::string> errors(16);
  std::vector<int> versions(16, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      StoreOptions options;
      options.shared = database.conninfo();
      auto store = Store::open(options);
      if (!store) {
        errors[i] = store.error().message;
        return;
      }
      versions[i] = store->schema_version();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 16; ++i) {
    CAPTURE(i);
    CHECK(errors[i] == "");
    CHECK(versions[i] == kSchemaVersion);
  }
  CHECK(psql_rows(database.name(), "SELECT value FROM meta WHERE key = 'schema_version'") ==
        std::vector<std::vector<std::string>>{{std::to_string(kSchemaVersion)}});
}

TEST_CASE("a shared store with a newer schema is refused and left as it is") {
  FreshStore fresh(Engine::postgresql);
  psql_rows(fresh.database(), "UPDATE meta SET value = '9' WHERE key = 'schema_version'");
  auto refused = Store::open(fresh.options());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ExitCode::store);
  CHECK(refused.error().message ==
        fresh.store().name() +
            ": store schema version 9 is newer than this perfguard understands (8): upgrade "
            "perfguard");
  CHECK(fresh.one("SELECT value FROM meta WHERE key = 'schema_version'") == "9");
}

TEST_CASE("a database of another program is not taken for a shared store") {
  FreshStore fresh(Engine::postgresql);
  TestDatabase other;
  psql_rows(other.name(), "CREATE TABLE meta (key TEXT, value TEXT)");
  StoreOptions options;
  options.shared = other.conninfo();
  auto refused = Store::open(options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("not a perfguard store") != std::string::npos);
  CHECK(psql_rows(other.name(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") ==
        std::vector<std::vector<std::string>>{{"1"}});
}

TEST_CASE("the same batch added twice is stored once, and stored() says how many were new") {
  for (Engine engine : kEngines) {
    CAPTURE(engine);
    FreshStore fresh(engine);
    auto records = varied_records(300, now_us());
    for (int round = 0; round < 2; ++round) {
      auto import = fresh.store().begin_import();
      REQUIRE(import.ok());
      for (const StepRecord& r : records) REQUIRE(import->add(r).ok());
      REQUIRE(import->add(records[0]).ok());  // twice in one batch too
      REQUIRE(import->commit().ok());
      CHECK(import->stored() == (round == 0 ? 300 : 0));
    }
    CHECK(fresh.one("SELECT count(*) FROM step_results") == "300");
    CHECK(fresh.one("SELECT count(*) FROM child_spans") == "450");
    auto hours = fresh.store().step_hours("", 0);
    REQUIRE(hours.ok());
    std::int64_t total = 0;
    for (const StepHour& h : *hours) total += h.counts.total();
    CHECK(total == 300);
  }
}

TEST_CASE("two writers adding overlapping batches at once store every record once") {
  for (Engine engine : kEngines) {
    CAPTURE(engine);
    FreshStore fresh(engine);
    auto records = varied_records(3000, now_us());
    std::vector<StepRecord> first(records.begin(), records.begin() + 2000);
    std::vector<StepRecord> second(records.begin() + 1000, records.end());
    std::string errors[2];
    std::int64_t stored[2] = {0, 0};
    auto write = [&](int i, const std::vector<StepRecord>& batch) {
      Store store = fresh.open();
      auto import = store.begin_import();
      if (!import) {
        errors[i] = import.error().message;
        return;
      }
      for (const StepRecord& r : batch) {
        if (auto added = import->add(r); !added) {
          errors[i] = added.error().message;
          return;
        }
      }
      if (auto committed = import->commit(); !committed) {
        errors[i] = committed.error().message;
        return;
      }
      stored[i] = import->stored();
    };
    std::thread a(write, 0, std::cref(first));
    std::thread b(write, 1, std::cref(second));
    a.join();
    b.join();
    CHECK(errors[0] == "");
    CHECK(errors[1] == "");
    CHECK(stored[0] + stored[1] == 3000);
    CHECK(fresh.one("SELECT count(*) FROM step_results") == "3000");
    // The rollups count every record once, whichever writer committed first.
    auto hours = fresh.store().step_hours("", 0);
    REQUIRE(hours.ok());
    std::int64_t total = 0;
    for (const StepHour& h : *hours) total += h.counts.total();
    CHECK(total == 3000);
  }
}

TEST_CASE("the public views' rows are the SQLite file's for the same records") {
  auto records = varied_records(400, now_us());
  FreshStore file(Engine::sqlite);
  FreshStore shared(Engine::postgresql);
  // One instant for both stores: read twice, the clock may cross a second between them.
  const std::int64_t snoozed_until = now_us() + 86400LL * 1000000;
  for (FreshStore* fresh : {&file, &shared}) {
    record_all(fresh->store(), records);
    // A baseline, as perf-baseline compute stores one.
    REQUIRE(fresh->store()
                .update_baselines([](BaselineUpdate& update) -> Status {
                  Baseline b;
                  b.key = {"commit", BaselineScope::repo, "/src/app", ""};
                  b.summary = {12, 100, 200.5, 300, 400, 500, 600, 700, 250.25, 10.5, 3};
                  b.computed_us = 1795447812123456;
                  b.window = Duration::seconds(7 * 86400);
                  b.multiplier = 1.5;
                  b.min_change = 0.1;
                  b.reason = "first";
                  auto id = update.activate(b);
                  if (!id) return id.error();
                  return {};
                })
                .ok());
    // Alerts with a history, and health figures.
    std::vector<AlertFinding> findings;
    for (int i = 0; i < 3; ++i) {
      AlertFinding f;
      f.key = AlertKey{AlertRuleKind::threshold, "commit", "/src/app", i ? "main" : "dev"};
      f.firing = true;
      f.severity = i == 2 ? Severity::warning : Severity::critical;
      f.summary = "commit took 2s, over its 1s threshold";
      f.value = 2.5;
      f.limit = 1.0;
      const StepRecord& r = records[static_cast<std::size_t>(10 + i)];
      f.runs.push_back(RunRef{r.trace_id, r.step, r.root.start_us, r.root.duration.us, r.status});
      findings.push_back(f);
    }
    AlertApplyOptions apply;
    apply.now_us = 1795447812123456;
    apply.host = "ci-7";
    apply.channels = {NotifyChannel{"notify", Severity::warning}};
    REQUIRE(fresh->store().apply_findings(findings, apply).ok());
    AlertTransition ack;
    ack.to = AlertState::acknowledged;
    ack.by = "alice";
    ack.note = "looking";
    ack.now_us = 1795447912123456;
    REQUIRE(fresh->store().transition({1}, ack).ok());
    AlertTransition snooze;
    snooze.to = AlertState::snoozed;
    snooze.by = "bob";
    snooze.until_us = snoozed_until;
    snooze.now_us = 1795447912123457;
    REQUIRE(fresh->store().transition({2}, snooze).ok());
    REQUIRE(
        fresh->store()
            .record_health("/src/app", 1795447812000000, {{"loose_objects", 12}, {"packs", 3.5}})
            .ok());
  }
  const std::string views[] = {
      "SELECT * FROM step_results ORDER BY id",
      "SELECT * FROM child_spans ORDER BY step_id, seq",
      "SELECT * FROM step_summary",
      "SELECT * FROM daily_trend",
      "SELECT * FROM slowest_recent",
      "SELECT * FROM active_baselines",
      "SELECT * FROM open_alerts ORDER BY id",
      "SELECT id, alert_id, event, channel, created_us, attempts FROM notifications ORDER BY id",
      "SELECT * FROM alert_history",
      "SELECT * FROM health_trend",
      "SELECT id, trace_id, step, started_us, duration_us, status, threshold_us, exit_code,"
      " context_id, labels FROM steps ORDER BY id",
      "SELECT step_id, seq, parent_seq, name, offset_us, duration_us, exit_code FROM spans"
      " ORDER BY step_id, seq",
  };
  for (const std::string& view : views) {
    CAPTURE(view);
    auto expected = file.rows(view);
    auto got = shared.rows(view);
    REQUIRE(got.size() == expected.size());
    for (std::size_t r = 0; r < expected.size(); ++r) {
      CAPTURE(r);
      REQUIRE(got[r].size() == expected[r].size());
      for (std::size_t c = 0; c < expected[r].size(); ++c) {
        CAPTURE(c);
        CAPTURE(expected[r][c]);
        CAPTURE(got[r][c]);
        CHECK(same_cell(expected[r][c], got[r][c]));
      }
    }
  }
  // The same columns, by name and in order.
  for (const char* view :
       {"step_results", "child_spans", "step_summary", "daily_trend", "slowest_recent",
        "active_baselines", "open_alerts", "alert_history", "health_trend", "steps", "spans"}) {
    CAPTURE(view);
    auto sqlite_columns =
        file.rows(std::string("SELECT name FROM pragma_table_info('") + view + "') ORDER BY cid");
    auto pg_columns = shared.rows(std::string("SELECT column_name FROM information_schema.columns"
                                              " WHERE table_name = '") +
                                  view + "' ORDER BY ordinal_position");
    CHECK(pg_columns == sqlite_columns);
  }
}

TEST_CASE("the engines' reads agree for the same records") {
  auto records = varied_records(2000, now_us(), 7);
  FreshStore file(Engine::sqlite);
  FreshStore shared(Engine::postgresql);
  record_all(file.store(), records);
  record_all(shared.store(), records);
  Store& a = file.store();
  Store& b = shared.store();
  const std::int64_t since = records[500].root.start_us + 17;  // within an hour

  for (const std::string step : {"", "commit", "none"}) {
    CAPTURE(step);
    auto ha = a.step_hours(step, since);
    auto hb = b.step_hours(step, since);
    REQUIRE(ha.ok());
    REQUIRE(hb.ok());
    REQUIRE(ha->size() == hb->size());
    for (std::size_t i = 0; i < ha->size(); ++i) {
      const StepHour& x = (*ha)[i];
      const StepHour& y = (*hb)[i];
      CHECK(x.step == y.step);
      CHECK(x.hour == y.hour);
      CHECK(x.counts.total() == y.counts.total());
      CHECK(x.counts.ok == y.counts.ok);
      CHECK(x.counts.breach == y.counts.breach);
      CHECK(x.timing.n == y.timing.n);
      CHECK(x.timing.sum == y.timing.sum);
      CHECK(x.timing.m2 == y.timing.m2);
      CHECK(x.timing.min == y.timing.min);
      CHECK(x.timing.max == y.timing.max);
      CHECK(x.histogram == y.histogram);
    }

    std::vector<StepSample> sa, sb;
    REQUIRE(
        a.for_each_sample(step, since, true, [&](const StepSample& s) { sa.push_back(s); }).ok());
    REQUIRE(
        b.for_each_sample(step, since, true, [&](const StepSample& s) { sb.push_back(s); }).ok());
    REQUIRE(sa.size() == sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
      CHECK(sa[i].step == sb[i].step);
      CHECK(sa[i].started_us == sb[i].started_us);
      CHECK(sa[i].duration_us == sb[i].duration_us);
      CHECK(sa[i].status == sb[i].status);
      CHECK(sa[i].repo == sb[i].repo);
      CHECK(sa[i].branch == sb[i].branch);
    }

    std::vector<ChildSpanSample> ca, cb;
    REQUIRE(a.for_each_child_span(step, since, [&](const ChildSpanSample& s) {
               ca.push_back(s);
             }).ok());
    REQUIRE(b.for_each_child_span(step, since, [&](const ChildSpanSample& s) {
               cb.push_back(s);
             }).ok());
    REQUIRE(ca.size() == cb.size());
    for (std::size_t i = 0; i < ca.size(); ++i) {
      CHECK(ca[i].step == cb[i].step);
      CHECK(ca[i].span == cb[i].span);
      CHECK(ca[i].status == cb[i].status);
      CHECK(ca[i].duration_us == cb[i].duration_us);
    }

    auto wa = a.slowest_steps(since, 5, step, 1);
    auto wb = b.slowest_steps(since, 5, step, 1);
    REQUIRE(wa.ok());
    REQUIRE(wb.ok());
    REQUIRE(wa->size() == wb->size());
    for (std::size_t i = 0; i < wa->size(); ++i) {
      CHECK((*wa)[i].trace_id == (*wb)[i].trace_id);
      CHECK((*wa)[i].duration == (*wb)[i].duration);
      CHECK((*wa)[i].repo == (*wb)[i].repo);
      REQUIRE((*wa)[i].children.size() == (*wb)[i].children.size());
      for (std::size_t k = 0; k < (*wa)[i].children.size(); ++k) {
        CHECK((*wa)[i].children[k].name == (*wb)[i].children[k].name);
        CHECK((*wa)[i].children[k].duration == (*wb)[i].children[k].duration);
      }
    }
  }

  // Whole records, both directions of time, with a limit.
  StepQuery query;
  query.since_us = since;
  query.before_us = records[1500].root.start_us;
  query.newest_first = true;
  query.limit = 700;
  std::vector<StepRecord> ra, rb;
  REQUIRE(a.for_each_step(query, [&](StepRecord& r) -> Status {
             ra.push_back(r);
             return {};
           }).ok());
  REQUIRE(b.for_each_step(query, [&](StepRecord& r) -> Status {
             rb.push_back(r);
             return {};
           }).ok());
  REQUIRE(ra.size() == rb.size());
  for (std::size_t i = 0; i < ra.size(); ++i) {
    CAPTURE(i);
    CHECK(ra[i].trace_id == rb[i].trace_id);
    CHECK(ra[i].head_before == rb[i].head_before);
    CHECK(ra[i].head_after == rb[i].head_after);
    CHECK(ra[i].labels == rb[i].labels);
    CHECK(ra[i].context == rb[i].context);
    CHECK(ra[i].root.usage.cpu_user_us == rb[i].root.usage.cpu_user_us);
    CHECK(ra[i].root.usage.max_rss_kb == rb[i].root.usage.max_rss_kb);
    REQUIRE(ra[i].root.children.size() == rb[i].root.children.size());
    for (std::size_t k = 0; k < ra[i].root.children.size(); ++k) {
      CHECK(ra[i].root.children[k].name == rb[i].root.children[k].name);
      CHECK(ra[i].root.children[k].start_us == rb[i].root.children[k].start_us);
      CHECK(ra[i].root.children[k].children.size() == rb[i].root.children[k].children.size());
    }
  }

  // What the alert rules and perf-recover read.
  for (std::optional<std::string> branch :
       {std::optional<std::string>(), std::optional<std::string>("main")}) {
    RunQuery runs;
    runs.step = "commit";
    runs.repo = "/src/app";
    runs.branch = branch;
    runs.since_us = since;
    runs.limit = 50;
    auto xa = a.recent_runs(runs);
    auto xb = b.recent_runs(runs);
    REQUIRE(xa.ok());
    REQUIRE(xb.ok());
    REQUIRE(xa->size() == xb->size());
    CHECK(xa->size() == 50);
    for (std::size_t i = 0; i < xa->size(); ++i) {
      CHECK((*xa)[i].trace_id == (*xb)[i].trace_id);
      CHECK((*xa)[i].duration_us == (*xb)[i].duration_us);
      CHECK((*xa)[i].threshold_us == (*xb)[i].threshold_us);
    }
  }
  auto va = a.head_verdicts("/src/app");
  auto vb = b.head_verdicts("/src/app");
  REQUIRE(va.ok());
  REQUIRE(vb.ok());
  REQUIRE(va->size() == vb->size());
  CHECK(va->size() > 100);
  for (std::size_t i = 0; i < va->size(); ++i) {
    CHECK((*va)[i].head == (*vb)[i].head);
    CHECK((*va)[i].runs == (*vb)[i].runs);
    CHECK((*va)[i].not_ok == (*vb)[i].not_ok);
    CHECK((*va)[i].last_us == (*vb)[i].last_us);
  }

  // A prune, then the same reads again.
  auto pa = a.prune_steps(records[800].root.start_us, false);
  auto pb = b.prune_steps(records[800].root.start_us, false);
  REQUIRE(pa.ok());
  REQUIRE(pb.ok());
  CHECK(pa->steps == 800);
  CHECK(pb->steps == pa->steps);
  CHECK(pb->spans == pa->spans);
  auto ha = a.step_hours("", 0);
  auto hb = b.step_hours("", 0);
  REQUIRE(ha.ok());
  REQUIRE(hb.ok());
  REQUIRE(ha->size() == hb->size());
  for (std::size_t i = 0; i < ha->size(); ++i) {
    CHECK((*ha)[i].counts.total() == (*hb)[i].counts.total());
    CHECK((*ha)[i].timing.m2 == (*hb)[i].timing.m2);
    CHECK((*ha)[i].histogram == (*hb)[i].histogram);
  }
  CHECK(shared.one("SELECT count(*) FROM span_rows") == file.one("SELECT count(*) FROM spans"));
}

// Records as a fleet's stores hold them: recorded out of time order (imported, shipped from
// several clones), each store numbering its rows its own way; with runs that started at the
// same instant and took as long (two hosts, or two steps of one trace), one of them with a
// trace id above 2^63.
std::vector<StepRecord> fleet_records(std::int64_t end_us) {
  auto records = varied_records(2000, end_us, 11);
  const std::int64_t at = end_us - 600'000'000;
  auto tie = [&](std::uint64_t trace, const char* step, const char* repo) {
    StepRecord r = records[1999];
    r.trace_id = trace;
    r.step = step;
    r.root.name = step;
    r.root.start_us = at;
    r.root.duration = Duration::seconds(5);
    r.status = StepStatus::breach;
    r.context.repo = repo;
    r.context.branch = "main";
    records.push_back(r);
  };
  tie(0x8000000000000005ULL, "commit", "/src/app");
  tie(7, "commit", "/src/app");
  tie(9, "commit", "/src/other");
  tie(42, "rollback", "/src/app");
  tie(42, "validate", "/src/app");
  return records;
}

// The records in an order of their own (a store's recording order).
std::vector<StepRecord> shuffled(std::vector<StepRecord> records, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::shuffle(records.begin(), records.end(), rng);
  return records;
}

// A SQLite file and a PostgreSQL database holding the fleet's records, each recorded in an
// order of its own.
struct FleetStores {
  std::vector<StepRecord> records = fleet_records(now_us());
  FreshStore file{Engine::sqlite};
  FreshStore shared{Engine::postgresql};
  std::int64_t since = records[600].root.start_us;

  FleetStores() {
    record_all(file.store(), shuffled(records, 1));
    record_all(shared.store(), shuffled(records, 2));
  }
};

TEST_CASE("recent runs are a place's newest, the same from both engines, recorded in any order") {
  FleetStores fleet;
  // A place's newest runs of a step, the later first, those started together by trace id,
  // greatest first; each once.
  for (std::optional<std::string> branch :
       {std::optional<std::string>(), std::optional<std::string>("main")}) {
    for (const std::string repo : {"/src/app", "/src/other"}) {
      RunQuery q;
      q.step = "commit";
      q.repo = repo;
      q.branch = branch;
      q.since_us = fleet.since;
      q.limit = 60;
      std::vector<RecentRun> want;
      for (const StepRecord& r : fleet.records) {
        if (r.step != q.step || r.context.repo != repo || r.root.start_us < fleet.since) continue;
        if (branch && r.context.branch != *branch) continue;
        want.push_back({r.trace_id, r.root.start_us, r.root.duration.us, r.status, {}});
      }
      std::sort(want.begin(), want.end(), newer);
      REQUIRE(want.size() > 60);
      want.resize(60);
      for (FreshStore* fresh : {&fleet.file, &fleet.shared}) {
        CAPTURE(fresh->engine());
        CAPTURE(repo);
        auto got = fresh->store().recent_runs(q);
        REQUIRE(got.ok());
        REQUIRE(got->size() == want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
          CAPTURE(i);
          CHECK((*got)[i].trace_id == want[i].trace_id);
          CHECK((*got)[i].started_us == want[i].started_us);
          CHECK((*got)[i].duration_us == want[i].duration_us);
        }
      }
    }
  }
}

TEST_CASE("the slowest runs come in one order from both engines, runs as slow included") {
  FleetStores fleet;
  // As slow, the later first; as slow and started together, by trace id, then step; a limit
  // that falls between two of them keeps the same one everywhere, filtered or not.
  for (int limit : {1, 2, 3, 4, 5, 40}) {
    CAPTURE(limit);
    std::vector<SlowStep> want;
    for (const StepRecord& r : fleet.records) {
      if (r.root.start_us < fleet.since) continue;
      SlowStep slow;
      slow.trace_id = r.trace_id;
      slow.step = r.step;
      slow.started_us = r.root.start_us;
      slow.duration = r.root.duration;
      want.push_back(slow);
    }
    std::sort(want.begin(), want.end(), slower);
    want.resize(static_cast<std::size_t>(limit));
    for (FreshStore* fresh : {&fleet.file, &fleet.shared}) {
      CAPTURE(fresh->engine());
      SlowestQuery filtered;
      filtered.since_us = fleet.since;
      filtered.limit = limit;
      filtered.spans = 0;
      filtered.filter.host = "host";  // every run: the filtered read, in the same order
      auto got = fresh->store().slowest_steps(fleet.since, limit, "", 0);
      auto same = slowest_steps(fresh->store(), filtered);
      REQUIRE(got.ok());
      REQUIRE(same.ok());
      REQUIRE(got->size() == want.size());
      REQUIRE(same->size() == want.size());
      for (std::size_t i = 0; i < want.size(); ++i) {
        CAPTURE(i);
        CHECK((*got)[i].trace_id == want[i].trace_id);
        CHECK((*got)[i].step == want[i].step);
        CHECK((*same)[i].trace_id == want[i].trace_id);
        CHECK((*same)[i].step == want[i].step);
      }
    }
  }
}

TEST_CASE("the steps are read in one order from both engines, those started together too") {
  FleetStores fleet;
  // In the order they started; those started together by trace id (unsigned), then step.
  auto in_order = fleet.records;
  std::sort(in_order.begin(), in_order.end(), [](const StepRecord& a, const StepRecord& b) {
    return std::tie(a.root.start_us, a.trace_id, a.step) <
           std::tie(b.root.start_us, b.trace_id, b.step);
  });
  for (FreshStore* fresh : {&fleet.file, &fleet.shared}) {
    CAPTURE(fresh->engine());
    std::vector<StepRecord> got;
    REQUIRE(fresh->store()
                .for_each_step({},
                               [&](StepRecord& r) -> Status {
                                 got.push_back(r);
                                 return {};
                               })
                .ok());
    REQUIRE(got.size() == in_order.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      CAPTURE(i);
      CHECK(got[i].trace_id == in_order[i].trace_id);
      CHECK(got[i].step == in_order[i].step);
    }
    // Newest first, the other way round.
    auto newest = fresh->store().recent_steps(4);
    REQUIRE(newest.ok());
    REQUIRE(newest->size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK((*newest)[i].trace_id == in_order[in_order.size() - 1 - i].trace_id);
      CHECK((*newest)[i].step == in_order[in_order.size() - 1 - i].step);
    }
  }
}

TEST_CASE("steps changed with plain SQL in the shared store are read right and rolled up again") {
  FreshStore fresh(Engine::postgresql);
  auto records = varied_records(200, now_us(), 3);
  record_all(fresh.store(), records);
  psql_rows(fresh.database(),
            "DELETE FROM step_rows WHERE id % 3 = 0;"
            " UPDATE step_rows SET duration_us = duration_us + 1 WHERE id % 5 = 0;"
            " INSERT INTO step_rows (trace_id, step, started_us, duration_us, status, exit_code,"
            " context_id) SELECT trace_id + 100000, step, started_us + 1, 5, 0, 0, context_id"
            " FROM step_rows WHERE id % 7 = 0");
  CHECK(fresh.one("SELECT count(*) > 0 FROM stale_hours") == "t");
  // From the start, and from within a stale hour (the read's first hour cut, its steps read).
  const std::int64_t within = records[100].root.start_us - 1;
  CHECK(within % (3600LL * 1000000) != 0);
  auto check = [&](std::int64_t since) {
    CAPTURE(since);
    auto hours = fresh.store().step_hours("", since);
    REQUIRE(hours.ok());
    std::int64_t total = 0, completed = 0;
    double sum = 0;
    for (const StepHour& h : *hours) {
      total += h.counts.total();
      completed += h.timing.n;
      sum += h.timing.sum;
    }
    const std::string from = " WHERE started_us >= " + std::to_string(since);
    CHECK(std::to_string(total) == fresh.one("SELECT count(*) FROM step_rows" + from));
    CHECK(std::to_string(completed) ==
          fresh.one("SELECT count(*) FROM step_rows" + from + " AND status <= 1"));
    CHECK(std::to_string(static_cast<std::int64_t>(sum)) ==
          fresh.one("SELECT sum(duration_us) FROM step_rows" + from + " AND status <= 1"));
  };
  CHECK(fresh.one("SELECT count(*) > 0 FROM stale_hours WHERE hour = " +
                  std::to_string(within / (3600LL * 1000000))) == "t");
  check(0);
  check(within);
  REQUIRE(fresh.store().catch_up_rollups().ok());
  CHECK(fresh.one("SELECT count(*) FROM stale_hours") == "0");
  check(0);
  check(within);
}

TEST_CASE("a store opened with stale hours catches up at once, as it learned on opening") {
  FreshStore fresh(Engine::postgresql);
  record_all(fresh.store(), varied_records(100, now_us(), 5));
  psql_rows(fresh.database(),
            "UPDATE step_rows SET duration_us = duration_us + 1 WHERE id % 4 = 0");
  const std::string stale = "SELECT count(*) FROM stale_hours";
  REQUIRE(fresh.one(stale) != "0");
  {
    // Opened with hours stale: the first catch-up rolls them up.
    Store store = fresh.open();
    REQUIRE(store.catch_up_rollups().ok());
    CHECK(fresh.one(stale) == "0");
  }
  // Opened with none stale, then one made stale: the first catch-up goes by what the store
  // found on opening (a command catches up right after), the next one asks.
  Store store = fresh.open();
  psql_rows(fresh.database(), "UPDATE step_rows SET duration_us = duration_us + 1 WHERE id = 1");
  REQUIRE(store.catch_up_rollups().ok());
  CHECK(fresh.one(stale) == "1");
  REQUIRE(store.catch_up_rollups().ok());
  CHECK(fresh.one(stale) == "0");
}

TEST_CASE("the rollups a writer makes are those read back from its steps, new hours or not") {
  FreshStore fresh(Engine::postgresql);
  const std::string rollups =
      "SELECT string_agg(concat_ws(' ', step, hour, n_ok, n_breach, n_failed, n_timeout,"
      " n_interrupted, sum_us, m2, min_us, max_us, encode(histogram, 'hex')), ','"
      " ORDER BY step, hour) FROM step_hours";
  auto rebuilt = [&] {
    psql_rows(fresh.database(),
              "INSERT INTO stale_hours SELECT DISTINCT step, started_us / 3600000000"
              " FROM step_rows ON CONFLICT DO NOTHING");
    REQUIRE(fresh.store().catch_up_rollups().ok());
    return fresh.one(rollups);
  };
  // Hours new to the store, rolled up from the records added.
  record_all(fresh.store(), varied_records(400, now_us(), 7));
  std::string written = fresh.one(rollups);
  CHECK(written.size() > 1000);
  CHECK(written == rebuilt());
  // The same hours again, with other records: read back with what was there.
  auto more = varied_records(400, now_us(), 8);
  for (StepRecord& r : more) r.trace_id += 100000;
  record_all(fresh.store(), more);
  written = fresh.one(rollups);
  CHECK(written == rebuilt());
  CHECK(fresh.one("SELECT sum(n_ok + n_breach + n_failed + n_timeout + n_interrupted)"
                  " FROM step_hours") == "800");
}

TEST_CASE("a batch's ids are used as the sequence gives them, one block or not") {
  FreshStore fresh(Engine::postgresql);
  // Every other number: the ids a batch draws are never one block.
  psql_rows(fresh.database(), "ALTER SEQUENCE step_rows_id_seq INCREMENT BY 2");
  auto records = varied_records(300, now_us(), 9);
  auto import = fresh.store().begin_import();
  REQUIRE(import.ok());
  for (const StepRecord& r : records) REQUIRE(import->add(r).ok());
  REQUIRE(import->commit().ok());
  CHECK(import->stored() == 300);
  CHECK(fresh.one("SELECT count(*) FROM step_results") == "300");
  CHECK(fresh.one("SELECT count(*) FROM child_spans") == "450");
  CHECK(fresh.one("SELECT count(*) FROM step_rows WHERE id % 2 = 0") == "0");
  CHECK(fresh.one("SELECT sum(n_ok + n_breach + n_failed + n_timeout + n_interrupted)"
                  " FROM step_hours") == "300");
}

TEST_CASE("a record stored already deep in a batch, after part of it was sent, is skipped") {
  FreshStore fresh(Engine::postgresql);
  auto records = varied_records(10000, now_us(), 11);
  record_all(fresh.store(), {records[7000]});
  // The batch's steps go to the server as they are made: hundreds of kilobytes of them are
  // stored before the record at 7000 is refused, and the batch goes again the other way.
  auto import = fresh.store().begin_import(records.size());
  REQUIRE(import.ok());
  for (const StepRecord& r : records) REQUIRE(import->add(r).ok());
  REQUIRE(import->commit().ok());
  CHECK(import->stored() == 9999);
  CHECK(fresh.one("SELECT count(*) FROM step_results") == "10000");
  CHECK(fresh.one("SELECT count(*) FROM child_spans") == "15000");
  check_read_back(fresh.store(), records);
  CHECK(fresh.one("SELECT sum(n_ok + n_breach + n_failed + n_timeout + n_interrupted)"
                  " FROM step_hours") == "10000");
}

TEST_CASE("an import stores every record whether it said how many would come or not") {
  // More records than said, none said, and new contexts and a snapshot between records (each
  // ends a batch: the connection is needed for them).
  for (std::size_t expected : {std::size_t{3}, std::size_t{0}, std::size_t{2500}}) {
    CAPTURE(expected);
    FreshStore fresh(Engine::postgresql);
    auto records = varied_records(2500, now_us(), 12);
    for (std::size_t i = 0; i < records.size(); ++i) {
      records[i].context.host = "host-" + std::to_string(i / 100);
    }
    auto import = fresh.store().begin_import(expected);
    REQUIRE(import.ok());
    for (std::size_t i = 0; i < records.size(); ++i) {
      REQUIRE(import->add(records[i]).ok());
      if (i == 1234) {
        SnapshotRow row{"s-1", std::string(40, 'a'), "HEAD", "main", now_us(), "test", "why"};
        REQUIRE(import->add_snapshot(row).ok());
      }
    }
    REQUIRE(import->commit().ok());
    CHECK(import->stored() == 2500);
    CHECK(fresh.one("SELECT count(*) FROM step_results") == "2500");
    CHECK(fresh.one("SELECT count(*) FROM snapshots") == "1");
    check_read_back(fresh.store(), records);
    // Ids drawn and not used: none when the number was said, else fewer than those used.
    const long long drawn = std::stoll(fresh.one("SELECT last_value FROM step_rows_id_seq"));
    if (expected == records.size()) {
      CHECK(drawn == 2500);
    } else {
      CHECK(drawn < 2 * 2500 + 16);
    }
  }
}

TEST_CASE("an import given up in the middle of a batch stores nothing, and the store works on") {
  FreshStore fresh(Engine::postgresql);
  auto records = varied_records(3000, now_us(), 13);
  {
    auto import = fresh.store().begin_import(records.size());
    REQUIRE(import.ok());
    for (std::size_t i = 0; i < 2000; ++i) REQUIRE(import->add(records[i]).ok());
  }  // not committed: its COPY is ended and its transaction rolled back
  CHECK(fresh.one("SELECT count(*) FROM step_rows") == "0");
  auto hours = fresh.store().step_hours("", 0);
  REQUIRE(hours.ok());
  CHECK(hours->empty());
  record_all(fresh.store(), records);
  CHECK(fresh.one("SELECT count(*) FROM step_results") == "3000");
  check_read_back(fresh.store(), records);
}

// A local store holding `records`, and what a shipper gives ship() for `fresh`: another
// connection for each lane.
Store local_store_of(const TempDir& tmp, const std::vector<StepRecord>& records) {
  auto local = Store::open(StoreOptions{tmp / "local.db"});
  REQUIRE(local.ok());
  record_all(*local, records);
  return std::move(*local);
}

std::function<Result<Store>()> lane_opener(const FreshStore& fresh, int* opened = nullptr) {
  return [&fresh, opened]() -> Result<Store> {
    if (opened) ++*opened;
    return Store::open(fresh.options());
  };
}

std::int64_t pending_of(Store& local) {
  auto n = pending_records(local, "shared");
  REQUIRE(n.ok());
  return *n;
}

TEST_CASE("a ship of many batches sends through two lanes, marks in order, stores each once") {
  FreshStore fresh(Engine::postgresql);
  TempDir tmp;
  auto records = varied_records(950, now_us(), 21);
  Store local = local_store_of(tmp, records);
  std::vector<std::int64_t> marks;  // after each batch, the local store's mark
  ShipOptions options{"shared", 100,
                      [&] {
                        auto state = local.shipping_state();
                        REQUIRE(state.ok());
                        REQUIRE(state->shipped.has_value());
                        marks.push_back(state->shipped->id);
                      },
                      lane_opener(fresh)};
  ShipSummary summary;
  Status shipped = ship(local, fresh.store(), options, summary);
  REQUIRE_MESSAGE(shipped.ok(), (shipped.ok() ? "" : shipped.error().message));
  CHECK(summary.lanes == 2);
  CHECK(summary.batches == 10);
  CHECK(summary.read == 950);
  CHECK(summary.stored == 950);
  // Each batch's mark once it and every batch before it were committed: in order, none left
  // out, whichever lane committed first.
  CHECK(marks == std::vector<std::int64_t>{100, 200, 300, 400, 500, 600, 700, 800, 900, 950});
  CHECK(pending_of(local) == 0);
  CHECK(fresh.one("SELECT count(*) FROM step_results") == "950");
  check_read_back(fresh.store(), records);
  CHECK(fresh.one("SELECT sum(n_ok + n_breach + n_failed + n_timeout + n_interrupted)"
                  " FROM step_hours") == "950");
  // The claim went with the ship.
  auto claimed = fresh.open().claim_lanes();
  REQUIRE(claimed.ok());
  CHECK(*claimed);

  // One batch is all there is: one lane, no other connection.
  auto more = varied_records(40, now_us(), 22);
  for (StepRecord& r : more) r.trace_id += 100000;
  record_all(local, more);
  int opened = 0;
  ShipSummary one;
  REQUIRE(ship(local, fresh.store(), {"shared", 100, {}, lane_opener(fresh, &opened)}, one).ok());
  CHECK(one.lanes == 1);
  CHECK(opened == 0);
  CHECK(one.stored == 40);
}

TEST_CASE(
    "a ship whose connections are cut part-way keeps what it marked; the next one sends "
    "the rest, each record once") {
  FreshStore fresh(Engine::postgresql);
  TempDir tmp;
  auto records = varied_records(950, now_us(), 23);
  Store local = local_store_of(tmp, records);
  int batches = 0;
  ShipOptions options{"shared", 100,
                      [&] {
                        // After the third batch, while the fourth is on its way through the
                        // other lane: every connection to the database goes.
                        if (++batches != 3) return;
                        psql_rows(
                            fresh.database(),
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()");
                      },
                      lane_opener(fresh)};
  ShipSummary summary;
  Status failed = ship(local, fresh.store(), options, summary);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == ExitCode::store);
  CHECK(summary.lanes == 2);
  CHECK(summary.batches >= 3);
  // What is marked is what was committed with every batch before it; a batch committed after
  // one that failed is not marked, and is sent again.
  CHECK(pending_of(local) == 950 - 100 * summary.batches);

  Store again = fresh.open();
  ShipSummary rest;
  Status shipped = ship(local, again, {"shared", 100, {}, lane_opener(fresh)}, rest);
  REQUIRE_MESSAGE(shipped.ok(), (shipped.ok() ? "" : shipped.error().message));
  CHECK(rest.read == 950 - 100 * summary.batches);
  CHECK(pending_of(local) == 0);
  CHECK(fresh.one("SELECT count(*) FROM step_rows") == "950");
  check_read_back(again, records);
  CHECK(fresh.one("SELECT sum(n_ok + n_breach + n_failed + n_timeout + n_interrupted)"
                  " FROM step_hours") == "950");
}

TEST_CASE("one ship at a time claims lanes; lanes write at once, a writer alone waits for them") {
  FreshStore fresh(Engine::postgresql);
  Store a = fresh.open();
  Store b = fresh.open();
  Store c = fresh.open();
  auto claimed = a.claim_lanes();
  REQUIRE(claimed.ok());
  CHECK(*claimed);
  auto second = b.claim_lanes();
  REQUIRE(second.ok());
  CHECK_FALSE(*second);

  // Their contexts stored first: on one thread, a lane that waited for the other's new context
  // (the contexts' lock) would wait for good.
  auto records = varied_records(207, now_us(), 24);
  record_all(c, {records.begin(), records.begin() + 6});  // the six contexts
  auto lane_a = a.begin_import(100, ImportLane::beside_others);
  REQUIRE(lane_a.ok());
  for (int i = 6; i < 106; ++i) REQUIRE(lane_a->add(records[i]).ok());
  // Beside the first, open: a lane that waited for the other would stop here for good.
  auto lane_b = b.begin_import(100, ImportLane::beside_others);
  REQUIRE(lane_b.ok());
  for (int i = 106; i < 206; ++i) REQUIRE(lane_b->add(records[i]).ok());

  std::atomic<bool> begun{false};
  std::string error;
  std::thread alone([&] {
    auto import = c.begin_import();
    begun = true;
    if (!import) {
      error = import.error().message;
      return;
    }
    if (auto added = import->add(records[206]); !added) error = added.error().message;
    if (Status committed = import->commit(); !committed) error = committed.error().message;
  });
  // The writer alone waits for the records' lock, which the lanes hold (this database's: other
  // tests use the server at the same time).
  std::string waiting;
  for (int i = 0; i < 2000 && waiting != "1"; ++i) {
    waiting = fresh.one(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
    if (waiting != "1") std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(waiting == "1");
  CHECK_FALSE(begun.load());
  REQUIRE(lane_a->commit().ok());
  REQUIRE(lane_b->commit().ok());
  alone.join();
  CHECK(begun.load());
  CHECK(error == "");
  CHECK(fresh.one("SELECT count(*) FROM step_results") == "207");

  REQUIRE(a.release_lanes().ok());
  auto after = b.claim_lanes();
  REQUIRE(after.ok());
  CHECK(*after);
}

TEST_CASE("snapshots, the git version cache and baselines work in the shared store") {
  for (Engine engine : kEngines) {
    CAPTURE(engine);
    FreshStore fresh(engine);
    Store& store = fresh.store();
    SnapshotRow row{"20261130-a", "c0ffee", "abc", "main", 5, "perf-rollback", "rollback"};
    REQUIRE(store.record_snapshot(row).ok());
    row.commit = "beef";
    REQUIRE(store.record_snapshot(row).ok());  // replaced
    StepRecord took;
    took.trace_id = 9;
    took.step = "rollback";
    took.root.name = "rollback";
    took.root.start_us = 100;
    took.labels = {{"snapshot", "20261130-b"}};
    REQUIRE(store.record({took}, SnapshotRow{"20261130-c", "d00d", "h", "b", 6, "t", "r"}).ok());
    auto snapshots = store.stored_snapshots();
    REQUIRE(snapshots.ok());
    REQUIRE(snapshots->size() == 3);
    CHECK((*snapshots)[0].id == "20261130-a");
    CHECK((*snapshots)[0].commit == "beef");
    CHECK((*snapshots)[1].id == "20261130-b");
    CHECK_FALSE((*snapshots)[1].row);
    CHECK((*snapshots)[1].labelled_steps == 1);
    CHECK((*snapshots)[2].row);
    REQUIRE(store.forget_snapshots({"20261130-a", "20261130-b"}, 7).ok());
    snapshots = store.stored_snapshots();
    REQUIRE(snapshots.ok());
    REQUIRE(snapshots->size() == 1);
    CHECK((*snapshots)[0].id == "20261130-c");

    CHECK_FALSE(store.cached_git_version("/usr/bin/git:1:2").has_value());
    REQUIRE(store.cache_git_version("/usr/bin/git:1:2", "2.39.5").ok());
    REQUIRE(store.cache_git_version("/usr/bin/git:1:2", "2.39.6").ok());
    CHECK(store.cached_git_version("/usr/bin/git:1:2") == "2.39.6");

    std::int64_t first_id = 0;
    REQUIRE(store
                .update_baselines([&](BaselineUpdate& update) -> Status {
                  Baseline b;
                  b.key = {"commit", BaselineScope::all, "", ""};
                  b.summary.n = 20;
                  b.summary.p50 = 10;
                  b.summary.mad = std::nan("");
                  b.computed_us = 1;
                  b.window = Duration::seconds(60);
                  b.reason = "first";
                  auto id = update.activate(b);
                  if (!id) return id.error();
                  first_id = *id;
                  return {};
                })
                .ok());
    REQUIRE(store
                .update_baselines([&](BaselineUpdate& update) -> Status {
                  auto active = update.active({"commit", BaselineScope::all, "", ""});
                  if (!active) return active.error();
                  REQUIRE(active->has_value());
                  Baseline b = **active;
                  b.replaces_id = b.id;
                  b.summary.p50 = 12;
                  b.summary.method = SummaryMethod::histogram;
                  b.computed_us = 2;
                  b.reason = "moved";
                  auto id = update.activate(b);
                  if (!id) return id.error();
                  // Within the update, the key's active baseline is the one just stored.
                  auto now_active = update.active(b.key);
                  if (!now_active) return now_active.error();
                  REQUIRE(now_active->has_value());
                  CHECK((*now_active)->id == *id);
                  CHECK((*now_active)->summary.p50 == 12);
                  return {};
                })
                .ok());
    auto active = store.active_baselines("commit");
    REQUIRE(active.ok());
    REQUIRE(active->size() == 1);
    CHECK((*active)[0].summary.p50 == 12);
    CHECK(std::isnan((*active)[0].summary.mad));
    CHECK((*active)[0].replaces_id == first_id);
    CHECK((*active)[0].summary.method == SummaryMethod::histogram);
    CHECK((*active)[0].reason == "moved");
    CHECK(fresh.one("SELECT count(*) FROM baselines WHERE NOT active AND deactivated_us = 2") ==
          "1");
  }
}

// Strings are bytes: a repository path, a branch, a label may hold bytes that are not UTF-8, a
// NUL, or text that looks percent-encoded. Each engine gives back the exact bytes through every
// read, and finds them again when a read filters by them; the shared store's views show them
// as the machine formats write them (encode_text).
TEST_CASE("strings that are not UTF-8 come back byte for byte from every read") {
  using namespace std::string_literals;
  const std::string repo = "/srv/r\xff/%41/\xc3("s + '\0' + "x";
  const std::string branch = "feature/\xfe"s + '\0' + "%41-\xc3\xa9";
  const std::string host = "host-\x80%41"s + '\0';
  const std::string step = "commit-\xff%41'\\"s + '\0' + "z";
  const std::string span = "add-\xc0\xaf%41"s + '\0';
  const std::string grandchild = "hook-\xed\xa0\x80";  // a surrogate: not UTF-8
  const Labels labels = {{"key-\xff%41"s + '\0', "value-\xfe%41"s + '\0' + "!"}, {"plain", "100%"}};
  const std::int64_t start = now_us() - 3600LL * 1000000;
  for (Engine engine : kEngines) {
    CAPTURE(engine);
    FreshStore fresh(engine);
    Store& store = fresh.store();
    std::vector<StepRecord> records;
    for (int i = 0; i < 2; ++i) {
      StepRecord r;
      r.trace_id = 77 + static_cast<std::uint64_t>(i);
      r.step = step;
      r.root.name = step;
      r.root.start_us = start + i * 1000000LL;
      r.root.duration = Duration::micros(5000 + 1000 * i);
      r.threshold = Duration::seconds(1);
      r.head_before = std::string(40, 'a');
      r.head_after = std::string(40, 'b');
      r.context.repo = repo;
      r.context.branch = branch;
      r.context.host = host;
      r.context.user = "u\xff"s + '\0';
      r.context.ci_job = "job %41 \xff";
      r.context.tool = "perf-commit";
      r.labels = labels;
      Span child{span, r.root.start_us + 10, Duration::micros(400), 0, {1, 2, 3}, {}};
      child.children.push_back(
          Span{grandchild, r.root.start_us + 20, Duration::micros(9), std::nullopt, {}, {}});
      r.root.children = {child};
      records.push_back(std::move(r));
    }
    record_all(store, records);

    // Whole records, found by their step.
    StepQuery query;
    query.step = step;
    std::vector<StepRecord> read;
    REQUIRE(store
                .for_each_step(query,
                               [&](StepRecord& r) -> Status {
                                 read.push_back(r);
                                 return {};
                               })
                .ok());
    REQUIRE(read.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      CAPTURE(i);
      CHECK(read[i].step == step);
      CHECK(read[i].root.name == step);
      CHECK(read[i].context == records[i].context);
      // (The SQLite file reads labels through its json_each, which ends a string at a NUL.)
      if (engine == Engine::postgresql) CHECK(read[i].labels == labels);
      REQUIRE(read[i].labels.size() == 2);
      CHECK(read[i].labels[0].first.starts_with("key-\xff%41"));
      CHECK(read[i].labels[1] == labels[1]);
      CHECK(read[i].head_before == records[i].head_before);
      REQUIRE(read[i].root.children.size() == 1);
      CHECK(read[i].root.children[0].name == span);
      REQUIRE(read[i].root.children[0].children.size() == 1);
      CHECK(read[i].root.children[0].children[0].name == grandchild);
    }

    // The statistics' reads, of the step and of every step.
    for (const std::string& which : {step, std::string()}) {
      std::vector<StepSample> samples;
      REQUIRE(
          store.for_each_sample(which, 0, true, [&](const StepSample& s) { samples.push_back(s); })
              .ok());
      REQUIRE(samples.size() == 2);
      for (const StepSample& s : samples) {
        CHECK(s.step == step);
        CHECK(s.repo == repo);
        CHECK(s.branch == branch);
      }
      std::vector<ChildSpanSample> children;
      REQUIRE(store
                  .for_each_child_span(which, 0,
                                       [&](const ChildSpanSample& s) { children.push_back(s); })
                  .ok());
      REQUIRE(children.size() == 2);
      for (const ChildSpanSample& s : children) {
        CHECK(s.step == step);
        CHECK(s.span == span);
      }
      auto slowest = store.slowest_steps(0, 5, which, 3);
      REQUIRE(slowest.ok());
      REQUIRE(slowest->size() == 2);
      for (const SlowStep& s : *slowest) {
        CHECK(s.step == step);
        CHECK(s.repo == repo);
        CHECK(s.branch == branch);
        REQUIRE(s.children.size() == 1);
        CHECK(s.children[0].name == span);
      }
      auto hours = store.step_hours(which, 0);
      REQUIRE(hours.ok());
      REQUIRE_FALSE(hours->empty());
      for (const StepHour& h : *hours) CHECK(h.step == step);
      // From inside the first step's hour: that hour read from its steps.
      auto cut = store.step_hours(which, start + 1);
      REQUIRE(cut.ok());
      std::int64_t runs = 0;
      for (const StepHour& h : *cut) {
        CHECK(h.step == step);
        runs += h.counts.total();
      }
      CHECK(runs == 1);
    }

    // What the alert rules read, filtered by the step, the repository and the branch.
    for (std::optional<std::string> b : {std::optional<std::string>(), std::optional(branch)}) {
      RunQuery runs;
      runs.step = step;
      runs.repo = repo;
      runs.branch = b;
      auto recent = store.recent_runs(runs);
      REQUIRE(recent.ok());
      REQUIRE(recent->size() == 2);
      CHECK((*recent)[0].trace_id == 78);
    }
    auto verdicts = store.head_verdicts(repo);
    REQUIRE(verdicts.ok());
    CHECK(verdicts->size() == 1);

    // Alerts: opened, then found again by their key and bumped.
    AlertFinding f;
    f.key = AlertKey{AlertRuleKind::threshold, step, repo, branch};
    f.firing = true;
    f.severity = Severity::critical;
    f.summary = "commit in " + repo + " took 2s";
    f.value = 2.0;
    f.limit = 1.0;
    f.runs.push_back(RunRef{77, step, records[0].root.start_us, 5000, StepStatus::breach});
    AlertApplyOptions apply;
    apply.now_us = start;
    apply.host = host;
    auto opened = store.apply_findings({f}, apply);
    REQUIRE(opened.ok());
    REQUIRE(opened->size() == 1);
    CHECK((*opened)[0].kind == AlertChange::Kind::opened);
    f.runs[0] = RunRef{78, step, records[1].root.start_us, 6000, StepStatus::breach};
    apply.now_us = start + 1;
    auto bumped = store.apply_findings({f}, apply);
    REQUIRE(bumped.ok());
    REQUIRE(bumped->size() == 1);
    CHECK((*bumped)[0].kind == AlertChange::Kind::bumped);
    AlertQuery by_place;
    by_place.step = step;
    by_place.repo = repo;
    auto alerts = store.alerts(by_place);
    REQUIRE(alerts.ok());
    REQUIRE(alerts->size() == 1);
    const Alert& a = (*alerts)[0];
    CHECK(a.key == f.key);
    CHECK(a.summary == f.summary);
    CHECK(a.host == host);
    CHECK(a.count == 2);
    auto alert_runs = store.alert_runs(a.id);
    REQUIRE(alert_runs.ok());
    REQUIRE(alert_runs->size() == 2);
    CHECK((*alert_runs)[0].run.step == step);
    auto events = store.alert_events(a.id);
    REQUIRE(events.ok());
    REQUIRE(events->size() == 1);
    CHECK(events->front().note == f.summary);

    // Baselines of the repository and of the branch, found again by their keys.
    const BaselineKey keys[] = {{step, BaselineScope::repo, repo, ""},
                                {step, BaselineScope::branch, repo, branch}};
    REQUIRE(store
                .update_baselines([&](BaselineUpdate& update) -> Status {
                  for (const BaselineKey& key : keys) {
                    Baseline b;
                    b.key = key;
                    b.summary.n = 20;
                    b.summary.p50 = 10;
                    b.computed_us = 1;
                    b.window = Duration::seconds(60);
                    b.reason = "first " + repo;
                    auto id = update.activate(b);
                    if (!id) return id.error();
                  }
                  return {};
                })
                .ok());
    REQUIRE(store
                .update_baselines([&](BaselineUpdate& update) -> Status {
                  for (const BaselineKey& key : keys) {
                    auto active = update.active(key);
                    if (!active) return active.error();
                    REQUIRE(active->has_value());
                    CHECK((*active)->key == key);
                    CHECK((*active)->reason == "first " + repo);
                  }
                  return {};
                })
                .ok());
    auto active = store.active_baselines(step);
    REQUIRE(active.ok());
    REQUIRE(active->size() == 2);
    for (const Baseline& b : *active) {
      CHECK(b.key.step == step);
      CHECK(b.key.repo == repo);
    }

    // The views show the encoded text, as the machine formats write it.
    if (engine == Engine::postgresql) {
      CHECK(fresh.one("SELECT DISTINCT repo FROM step_results") ==
            encode_text(repo, NulBytes::encoded));
      CHECK(fresh.one("SELECT DISTINCT name FROM spans WHERE parent_seq IS NULL") ==
            encode_text(span, NulBytes::encoded));
      CHECK(fresh.one("SELECT branch FROM open_alerts") == encode_text(branch, NulBytes::encoded));
    }
  }
}

// By hand (skipped in ctest, which must not time anything):
//   PERFGUARD_TEST_POSTGRES=STATE PERFGUARD_BENCH_RECORDS=1000000 perfguard-unit -tc='*records per
//   second*' --no-skip
// Imports N records (three steps with two child spans each, over 90 days, eight contexts)
// into each engine and prints records per second, then the fastest of fifty times of stats, a
// 30-day trend and compute --force on the store of sixty runs it held first and on the full
// one once settled, and the difference: what the records add to each read, with the
// connection open.
TEST_CASE("a read through COPY gives every row once, in order, and a failure in it is one line") {
  using namespace std::string_literals;
  FreshStore fresh(Engine::postgresql);
  auto opened = pq::Connection::open(fresh.options().shared);
  REQUIRE(opened.ok());
  pq::Connection& c = **opened;
  const std::string_view what = "cannot read";

  // Rows of many messages, every kind of field, NULLs and empty values among them.
  std::int64_t rows = 0;
  Status read =
      c.copy_out(what,
                 "SELECT g::bigint, 'row ' || g, CASE WHEN g % 2 = 0 THEN NULL ELSE -g END,"
                 " CASE WHEN g % 3 = 0 THEN ''::bytea ELSE '\\x00ff'::bytea END, 0.1::float8 + 0.2,"
                 " g::smallint, (-g)::integer FROM generate_series(1, 20000) AS g",
                 [&](const pq::CopiedRow& r) -> Status {
                   ++rows;
                   REQUIRE(r.size() == 7);
                   CHECK(r.int64(0) == rows);
                   CHECK(r.text(1) == "row " + std::to_string(rows));
                   CHECK(r.null(2) == (rows % 2 == 0));
                   if (rows % 2) CHECK(r.int64(2) == -rows);
                   CHECK_FALSE(r.null(3));
                   CHECK(r.bytes(3) == (rows % 3 == 0 ? ""s : "\0\xff"s));
                   CHECK(r.real(4) == 0.1 + 0.2);
                   CHECK(r.int64(5) == rows);
                   CHECK(r.int64(6) == -rows);
                   return {};
                 });
  REQUIRE_MESSAGE(read.ok(), (read.ok() ? "" : read.error().message));
  CHECK(rows == 20000);

  // No rows.
  rows = 0;
  CHECK(c.copy_out(what, "SELECT 1 WHERE false", [&](const pq::CopiedRow&) -> Status {
           ++rows;
           return {};
         }).ok());
  CHECK(rows == 0);

  // A string written into the query as a literal comes back byte for byte: quotes,
  // backslashes, a NUL, bytes that are not UTF-8, a percent sign.
  const std::string odd = "it's a \\ back'slash\\'"s + '\0' + "\xff%41\xc3(";
  auto quoted = c.literal(odd);
  REQUIRE(quoted.ok());
  std::string back;
  REQUIRE(c.copy_out(what, "SELECT " + *quoted + "::text", [&](const pq::CopiedRow& r) -> Status {
             back = r.text(0);
             return {};
           }).ok());
  CHECK(back == odd);

  // The server fails after sending rows: the rows before came, the error is one line naming
  // the store and the cause, and the connection works on.
  rows = 0;
  read = c.copy_out(what, "SELECT 1 / (15000 - g) FROM generate_series(1, 20000) AS g",
                    [&](const pq::CopiedRow&) -> Status {
                      ++rows;
                      return {};
                    });
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().message.find("division by zero") != std::string::npos);
  CHECK(read.error().message.find('\n') == std::string::npos);
  CHECK(read.error().message.starts_with(c.name() + ": cannot read: "));
  CHECK(rows < 15000);
  auto after = c.exec(what, "SELECT 41 + 1");
  REQUIRE(after.ok());
  CHECK(after->int64(0, 0) == 42);

  // The reader stops: its error is the read's, and the connection works on.
  rows = 0;
  read = c.copy_out(what, "SELECT g FROM generate_series(1, 20000) AS g",
                    [&](const pq::CopiedRow&) -> Status {
                      if (++rows == 5) return c.error(what, "enough");
                      return {};
                    });
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().message == c.name() + ": cannot read: enough");
  CHECK(rows == 5);
  after = c.exec(what, "SELECT 41 + 1");
  REQUIRE(after.ok());
  CHECK(after->int64(0, 0) == 42);

  // A statement the server refuses: one line, nothing read.
  read = c.copy_out(what, "SELECT nothing FROM nowhere",
                    [&](const pq::CopiedRow&) -> Status { return c.error(what, "a row"); });
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().message.find("nowhere") != std::string::npos);
}

TEST_CASE("records per second and read times of both engines" * doctest::skip()) {
  const char* env = std::getenv("PERFGUARD_BENCH_RECORDS");
  const int n = env ? std::atoi(env) : 100000;
  const std::int64_t end = now_us();
  const std::int64_t span = 90 * 86400LL * 1000000;
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> lognormal(std::log(80000.0), 0.5);
  std::vector<StepRecord> records;
  records.reserve(static_cast<std::size_t>(n));
  const char* steps[] = {"commit", "rollback", "validate"};
  const char* parts[][2] = {{"add", "commit"}, {"snapshot", "reset"}, {"status", "log"}};
  for (int i = 0; i < n; ++i) {
    StepRecord r;
    r.trace_id = 1 + static_cast<std::uint64_t>(i);
    const int k = i % 3;
    r.step = steps[k];
    r.root.name = r.step;
    r.root.start_us = end - span + static_cast<std::int64_t>(i) * (span / n);
    const auto d = static_cast<std::int64_t>(lognormal(rng));
    r.root.duration = Duration::micros(d);
    r.status = rng() % 100 == 0 ? StepStatus::failed : StepStatus::ok;
    r.threshold = Duration::seconds(1);
    static constexpr char kHex[] = "0123456789abcdef";
    for (int h = 0; h < 40; ++h) r.head_before += kHex[rng() % 16];
    r.head_after = r.head_before;
    r.context.repo = i % 2 ? "/src/app" : "/src/other";
    r.context.branch = i % 4 < 2 ? "main" : "topic";
    r.context.tool = i % 8 < 4 ? "perf-commit" : "perf-rollback";
    r.context.host = "host";
    r.root.children = {Span{parts[k][0],
                            r.root.start_us + 10,
                            Duration::micros(d / 3),
                            0,
                            {d / 6, d / 9, 7000},
                            {}},
                       Span{parts[k][1],
                            r.root.start_us + 20 + d / 3,
                            Duration::micros(d / 2),
                            0,
                            {d / 4, d / 8, 9000},
                            {}}};
    r.root.usage = {d / 6 + d / 4, d / 9 + d / 8, 9000};
    records.push_back(std::move(r));
  }
  auto seconds = [](auto start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // The reads' fastest of fifty rounds, in ms: stats, 30-day trend, compute --force.
  struct ReadTimes {
    double stats = 1e9, trend = 1e9, compute = 1e9;
  };
  auto time_reads = [&](Store& store) {
    ReadTimes best;
    for (int round = 0; round < 50; ++round) {
      auto start = std::chrono::steady_clock::now();
      auto stats = step_stats(store, StatsQuery{"", end - 7 * 86400LL * 1000000});
      REQUIRE(stats.ok());
      best.stats = std::min(best.stats, seconds(start) * 1000);
      start = std::chrono::steady_clock::now();
      TrendQuery trend;
      trend.now_us = end;
      auto points = step_trend(store, trend);
      REQUIRE(points.ok());
      best.trend = std::min(best.trend, seconds(start) * 1000);
      start = std::chrono::steady_clock::now();
      ComputeOptions compute;
      compute.now_us = end;
      compute.force = true;
      auto computed = compute_baselines(store, compute);
      REQUIRE(computed.ok());
      best.compute = std::min(best.compute, seconds(start) * 1000);
    }
    return best;
  };
  for (Engine engine : kEngines) {
    CAPTURE(engine);
    FreshStore fresh(engine);
    Store& store = fresh.store();
    const std::string name = engine == Engine::sqlite ? "sqlite" : "postgresql";
    // The same reads of a store that holds the last sixty runs (twenty of each step, enough
    // for compute to write a baseline of each, as it does on the full store): what they cost
    // whatever the data (on the shared store, the round trips), for what the records add.
    std::vector<StepRecord> few(records.end() - 60, records.end());
    record_all(store, few);
    const ReadTimes small = time_reads(store);
    auto start = std::chrono::steady_clock::now();
    record_all(store, records);
    const double took = seconds(start);
    MESSAGE(name << ": imported " << n << " records in " << took
                 << " s: " << static_cast<std::int64_t>(n / took) << " records/s");
    start = std::chrono::steady_clock::now();
    auto again = store.begin_import();
    REQUIRE(again.ok());
    for (const StepRecord& r : records) REQUIRE(again->add(r).ok());
    REQUIRE(again->commit().ok());
    CHECK(again->stored() == 0);
    MESSAGE(name << ": the same records again (none new) in " << seconds(start) << " s");
    // A store of a million steps has grown over months, not in the last seconds: the reads
    // are timed once each engine's bulk write has settled (SQLite's write-ahead log copied
    // back; the server's vacuum and statistics done and its dirty pages written out), not
    // against its background work.
    if (engine == Engine::sqlite) {
      fresh.rows("PRAGMA wal_checkpoint(TRUNCATE)");
    } else {
      for (const char* settle : {"VACUUM ANALYZE", "CHECKPOINT"})
        psql_rows(fresh.database(), settle);
    }
    const ReadTimes full = time_reads(store);
    MESSAGE(name << ", fastest of 50 (ms), the records / sixty runs / what the records add:"
                 << " stats " << full.stats << " / " << small.stats << " / "
                 << full.stats - small.stats << "; 30-day trend " << full.trend << " / "
                 << small.trend << " / " << full.trend - small.trend << "; compute --force "
                 << full.compute << " / " << small.compute << " / "
                 << full.compute - small.compute);
  }
}
