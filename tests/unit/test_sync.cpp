// Shipping from one store to another. The product ships to PostgreSQL; lib/sync knows only the
// Store interface, so here a second SQLite store plays the shared one.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "output/record_json.h"
#include "store/store.h"
#include "support.h"
#include "sync/ship.h"
#include "sync/ship_lock.h"
#include "sync/shipper.h"
#include "sync/target.h"

using namespace perfguard;
using perfguard::test::TempDir;

namespace {

constexpr std::int64_t kStart = 1'790'000'000'000'000;  // 2026-09

Store open_store(const std::filesystem::path& path, Duration busy = Duration::seconds(5)) {
  auto store = Store::open(StoreOptions{path, busy});
  REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().message));
  return std::move(store.value());
}

// A commit with two child spans, labels and a context, like perf-commit's.
StepRecord commit_record(int i) {
  StepRecord r;
  r.trace_id = 0x1000 + static_cast<std::uint64_t>(i);
  r.step = i % 3 == 0 ? "rollback" : "commit";
  r.root.name = r.step;
  r.root.start_us = kStart + i * 1'000'000LL;
  r.root.duration = Duration::micros(30'000 + i);
  r.root.children.push_back(Span{"add",
                                 r.root.start_us + 40,
                                 Duration::micros(9'000),
                                 0,
                                 ResourceUsage{4000, 2000, 7000},
                                 {}});
  r.root.children.push_back(Span{"commit",
                                 r.root.start_us + 9'100,
                                 Duration::micros(20'000 + i),
                                 0,
                                 ResourceUsage{10000, 5000, 9000},
                                 {}});
  r.root.usage = {14000, 7000, 9000};
  r.status = i % 7 == 0 ? StepStatus::breach : StepStatus::ok;
  r.threshold = Duration::seconds(1);
  r.head_before = std::string(40, 'a');
  r.head_after = std::string(40, 'b');
  r.context.repo = "/home/alice/src/shop";
  r.context.branch = "main";
  r.context.host = "laptop";
  r.context.user = "alice";
  r.context.tool = "perf-commit";
  r.context.tool_version = "0.1.0";
  r.context.git_version = "2.39.5";
  r.labels = {{"ticket", "run " + std::to_string(i)}};
  return r;
}

void record(Store& store, int from, int to) {
  std::vector<StepRecord> records;
  for (int i = from; i < to; ++i) records.push_back(commit_record(i));
  REQUIRE(store.record(records).ok());
}

// Every record of the store as its JSONL line, sorted: what a reader of the store sees.
std::multiset<std::string> lines_of(Store& store) {
  std::multiset<std::string> lines;
  Status read = store.for_each_step({}, [&](StepRecord& r) {
    lines.insert(record_to_jsonl(r));
    return Status{};
  });
  REQUIRE(read.ok());
  return lines;
}

std::int64_t count(Store& store) {
  return static_cast<std::int64_t>(lines_of(store).size());
}

ShipSummary ship_all(Store& local, Store& shared, const std::string& target = "shared",
                     int batch = 10) {
  ShipSummary summary;
  Status shipped = ship(local, shared, {target, batch, {}}, summary);
  REQUIRE_MESSAGE(shipped.ok(), (shipped.ok() ? "" : shipped.error().message));
  return summary;
}

std::int64_t pending(Store& local, const std::string& target = "shared") {
  auto n = pending_records(local, target);
  REQUIRE(n.ok());
  return *n;
}

Baseline team_baseline(const std::string& step, double p50) {
  Baseline b;
  b.key.step = step;
  b.summary.n = 40;
  b.summary.p50 = p50;
  b.summary.p95 = p50 * 2;
  b.summary.p99 = p50 * 3;
  b.summary.max = p50 * 4;
  b.computed_us = kStart;
  b.window = Duration::seconds(7 * 86400);
  b.multiplier = 2;
  b.min_change = 0.05;
  b.reason = "first";
  return b;
}

}  // namespace

TEST_CASE("ship copies every record, in batches, and they read back the same") {
  TempDir tmp;
  Store local = open_store(tmp / "local.db");
  Store shared = open_store(tmp / "shared.db");
  record(local, 0, 25);
  CHECK(pending(local) == 25);

  ShipSummary summary = ship_all(local, shared);
  CHECK(summary.read == 25);
  CHECK(summary.stored == 25);
  CHECK(summary.already == 0);
  CHECK(summary.batches == 3);
  CHECK(summary.from_start);
  CHECK(lines_of(shared) == lines_of(local));
  CHECK(pending(local) == 0);

  // The mark is the last record's, by id and by key.
  auto state = local.shipping_state();
  REQUIRE(state.ok());
  CHECK(state->target == "shared");
  REQUIRE(state->shipped.has_value());
  CHECK(state->shipped->id == 25);
  CHECK(state->shipped->trace_id == 0x1000 + 24);
  CHECK(state->shipped->started_us == kStart + 24 * 1'000'000LL);
}

TEST_CASE("a shared store with one writer at a time is shipped to through one lane") {
  TempDir tmp;
  Store local = open_store(tmp / "local.db");
  Store shared = open_store(tmp / "shared.db");
  record(local, 0, 25);
  int opened = 0;
  auto open_lane = [&]() -> Result<Store> {
    ++opened;
    return Store::open(StoreOptions{tmp / "shared.db"});
  };
  ShipSummary summary;
  REQUIRE(ship(local, shared, {"shared", 10, {}, open_lane}, summary).ok());
  CHECK(summary.lanes == 1);
  CHECK(opened == 0);
  CHECK(summary.batches == 3);
  CHECK(lines_of(shared) == lines_of(local));
}

TEST_CASE("a second ship sends only what is new, and a resent record is stored once") {
  TempDir tmp;
  Store local = open_store(tmp / "local.db");
  Store shared = open_store(tmp / "shared.db");
  record(local, 0, 12);
  ship_all(local, shared);

  ShipSummary nothing = ship_all(local, shared);
  CHECK(nothing.read == 0);
  CHECK(nothing.batches == 0);
  CHECK_FALSE(nothing.from_start);

  record(local, 12, 15);
  ShipSummary three = ship_all(local, shared);
  CHECK(three.read == 3);
  CHECK(three.stored == 3);
  CHECK(count(shared) == 15);

  // Another name for the same store: shipping starts over, and the shared store keeps one
  // copy of each record.
  ShipSummary again = ship_all(local, shared, "renamed");
  CHECK(again.from_start);
  CHECK(again.read == 15);
  CHECK(again.stored == 0);
  CHECK(again.already == 15);
  CHECK(lines_of(shared) == lines_of(local));
}

TEST_CASE("a ship that fails part-way keeps what was committed; the next one sends the rest") {
  TempDir tmp;
  Store local = open_store(tmp / "local.db");
  // A shared store that gives up at once when another writer holds it.
  Store shared = open_store(tmp / "shared.db", Duration::millis(0));
  record(local, 0, 30);

  // After the first batch, another writer takes the shared store's write lock and keeps it.
  std::optional<Store> other;
  std::optional<StepImport> blocker;
  ShipSummary summary;
  Status failed = ship(local, shared,
                       {"shared", 10,
                        [&] {
                          if (blocker) return;
                          other.emplace(open_store(tmp / "shared.db"));
                          auto import = other->begin_import();
                          REQUIRE(import.ok());
                          blocker.emplace(std::move(*import));
                        }},
                       summary);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == ExitCode::store);
  CHECK(summary.read == 10);
  CHECK(summary.batches == 1);
  CHECK(pending(local) == 20);

  blocker.reset();  // rolled back: the lock goes
  other.reset();
  CHECK(count(shared) == 10);
  ShipSummary rest = ship_all(local, shared);
  CHECK_FALSE(rest.from_start);
  CHECK(rest.read == 20);
  CHECK(rest.stored == 20);
  CHECK(pending(local) == 0);
  CHECK(lines_of(shared) == lines_of(local));  // nothing lost, nothing twice
}

TEST_CASE("a batch committed but not marked (a crash in between) is sent again and stored once") {
  TempDir tmp;
  Store local = open_store(tmp / "local.db");
  Store shared = open_store(tmp / "shared.db");
  record(local, 0, 8);
  ship_all(local, shared);
  record(local, 8, 14);
  // As if a shipper had committed these on the shared store and died before marking them.
  {
    auto import = shared.begin_import();
    REQUIRE(import.ok());
    for (int i = 8; i < 11; ++i) REQUIRE(import->add(commit_record(i)).ok());
    REQUIRE(import->commit().ok());
  }
  ShipSummary summary = ship_all(local, shared);
  CHECK(summary.read == 6);
  CHECK(summary.stored == 3);
  CHECK(summary.already == 3);
  CHECK(lines_of(shared) == lines_of(local));
}

TEST_CASE("after every step was pruned, a new step that takes a shipped id is shipped") {
  TempDir tmp;
  Store local = open_store(tmp / "local.db");
  Store shared = open_store(tmp / "shared.db");
  record(local, 0, 5);
  ship_all(local, shared);
  REQUIRE(local.prune_steps(kStart + 1'000LL * 1'000'000, false).ok());
  CHECK(count(local) == 0);

  record(local, 100, 101);  // SQLite hands out id 1 again
  auto ids = std::vector<std::int64_t>{};
  REQUIRE(local
              .for_each_step_after(0, 0,
                                   [&](std::int64_t id, StepRecord&) {
                                     ids.push_back(id);
                                     return Status{};
                                   })
              .ok());
  CHECK(ids == std::vector<std::int64_t>{1});
  CHECK(pending(local) == 1);

  ShipSummary summary = ship_all(local, shared);
  CHECK(summary.from_start);
  CHECK(summary.read == 1);
  CHECK(summary.stored == 1);
  CHECK(count(shared) == 6);
  CHECK(pending(local) == 0);
}

TEST_CASE("pruning old steps while the shipped one stays does not start over") {
  TempDir tmp;
  Store local = open_store(tmp / "local.db");
  Store shared = open_store(tmp / "shared.db");
  record(local, 0, 10);
  ship_all(local, shared);
  REQUIRE(local.prune_steps(kStart + 5 * 1'000'000LL, false).ok());  // the first five
  record(local, 10, 12);
  CHECK(pending(local) == 2);
  ShipSummary summary = ship_all(local, shared);
  CHECK_FALSE(summary.from_start);
  CHECK(summary.read == 2);
}

TEST_CASE("ship_lock: one holder at a time, and the lock goes with its holder") {
  TempDir tmp;
  auto store = tmp / "local.db";
  auto first = try_take_ship_lock(store);
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  auto second = try_take_ship_lock(store);
  REQUIRE(second.ok());
  CHECK_FALSE(second->has_value());
  (*first)->release();
  auto third = try_take_ship_lock(store);
  REQUIRE(third.ok());
  CHECK(third->has_value());
  CHECK(std::filesystem::exists(tmp / "local.db.ship.lock"));
}

TEST_CASE("a record committed while another shipper holds the lock is shipped by that shipper") {
  TempDir tmp;
  {
    Store local = open_store(tmp / "local.db");
    record(local, 0, 4);
  }
  Store shared = open_store(tmp / "shared.db");
  ShipperRequest request;
  request.local = tmp / "local.db";
  request.target = "shared";
  request.open_shared = [&] { return Store::open({tmp / "shared.db"}); };
  ShipperResult late;
  int released = 0;
  request.before_release = [&] {
    if (released++ > 0) return;
    // While this shipper holds the lock: a tool records a step and starts its own shipper,
    // which finds the lock held and leaves the work to this one.
    Store tool = open_store(tmp / "local.db");
    record(tool, 4, 5);
    ShipperRequest second = request;
    second.before_release = {};
    REQUIRE(run_shipper(second, late).ok());
  };
  ShipperResult result;
  Status shipped = run_shipper(request, result);
  REQUIRE_MESSAGE(shipped.ok(), (shipped.ok() ? "" : shipped.error().message));
  CHECK(late.busy);
  CHECK(late.rounds == 0);
  CHECK(result.rounds == 2);
  CHECK(result.shipped.read == 5);
  CHECK(count(shared) == 5);
  Store local = open_store(tmp / "local.db");
  CHECK(pending(local) == 0);
}

TEST_CASE("a record committed after a round that found nothing to ship is shipped too") {
  TempDir tmp;
  { Store local = open_store(tmp / "local.db"); }
  ShipperRequest request;
  request.local = tmp / "local.db";
  request.target = "shared";
  request.open_shared = [&] { return Store::open({tmp / "shared.db"}); };
  ShipperResult late;
  int released = 0;
  request.before_release = [&] {
    if (released++ > 0) return;
    Store tool = open_store(tmp / "local.db");
    record(tool, 0, 1);
    ShipperRequest second = request;
    second.before_release = {};
    REQUIRE(run_shipper(second, late).ok());
  };
  ShipperResult result;
  REQUIRE(run_shipper(request, result).ok());
  CHECK(late.busy);
  CHECK(result.rounds == 2);
  CHECK(result.shipped.read == 1);
  Store shared = open_store(tmp / "shared.db");
  CHECK(count(shared) == 1);
}

TEST_CASE("a shipper that waits ships after the holder lets the lock go") {
  TempDir tmp;
  {
    Store local = open_store(tmp / "local.db");
    record(local, 0, 3);
  }
  ShipperRequest request;
  request.local = tmp / "local.db";
  request.target = "shared";
  request.open_shared = [&] { return Store::open({tmp / "shared.db"}); };
  request.wait = true;
  ShipperResult result;
  REQUIRE(run_shipper(request, result).ok());
  CHECK_FALSE(result.busy);
  CHECK(result.rounds == 1);
  CHECK(result.shipped.read == 3);
}

TEST_CASE("the shared store's active baselines become the local store's") {
  TempDir tmp;
  Store local = open_store(tmp / "local.db");
  Store shared = open_store(tmp / "shared.db");
  REQUIRE(local
              .update_baselines([](BaselineUpdate& u) -> Status {
                auto id = u.activate(team_baseline("commit", 999));  // a local one, replaced
                return id ? Status{} : Status{id.error()};
              })
              .ok());
  REQUIRE(shared
              .update_baselines([](BaselineUpdate& u) -> Status {
                for (auto [step, p50] : {std::pair{"commit", 40'000.0}, {"rollback", 90'000.0}}) {
                  auto id = u.activate(team_baseline(step, p50));
                  if (!id) return id.error();
                }
                return {};
              })
              .ok());

  auto pulled = pull_baselines(shared, local);
  REQUIRE(pulled.ok());
  CHECK(pulled->team == 2);
  CHECK(pulled->changed == 2);
  auto active = local.active_baselines();
  REQUIRE(active.ok());
  REQUIRE(active->size() == 2);
  CHECK(active->at(0).key.step == "commit");
  CHECK(active->at(0).summary.p50 == 40'000.0);
  CHECK(active->at(0).replaces_id.has_value());
  CHECK(active->at(1).key.step == "rollback");
  CHECK(active->at(1).summary.p95 == 180'000.0);

  auto again = pull_baselines(shared, local);
  REQUIRE(again.ok());
  CHECK(again->team == 2);
  CHECK(again->changed == 0);
}

TEST_CASE(
    "a failed ship is kept, reported once, kept reported while it lasts, cleared by a success") {
  TempDir tmp;
  {
    Store local = open_store(tmp / "local.db");
    record(local, 0, 12);
  }
  ShipperRequest request;
  request.local = tmp / "local.db";
  request.target = "postgresql://writer@db/perf";
  bool reachable = false;
  request.open_shared = [&]() -> Result<Store> {
    if (!reachable) {
      return make_error(ExitCode::store,
                        "postgresql://writer@db/perf: cannot connect: connection refused");
    }
    return Store::open({tmp / "shared.db"});
  };
  ShipperResult result;
  Status failed = run_shipper(request, result);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == ExitCode::store);

  Store local = open_store(tmp / "local.db");
  auto line = unreported_ship_failure(local, request.target);
  REQUIRE(line.ok());
  REQUIRE(line->has_value());
  CHECK(**line ==
        "12 records are not shipped to the shared store postgresql://writer@db/perf "
        "(cannot connect: connection refused); they stay local and the next ship takes them");
  auto twice = unreported_ship_failure(local, request.target);
  REQUIRE(twice.ok());
  CHECK_FALSE(twice->has_value());

  // The same outage goes on: still reported.
  ShipperResult again;
  REQUIRE_FALSE(run_shipper(request, again).ok());
  auto still = unreported_ship_failure(local, request.target);
  REQUIRE(still.ok());
  CHECK_FALSE(still->has_value());

  reachable = true;
  ShipperResult done;
  REQUIRE(run_shipper(request, done).ok());
  CHECK(done.shipped.read == 12);
  auto state = local.shipping_state();
  REQUIRE(state.ok());
  CHECK_FALSE(state->failure.has_value());
  CHECK(state->last_success_us > 0);
  CHECK(state->last_shipped == 12);

  // A new outage after the success is reported again.
  reachable = false;
  record(local, 12, 13);
  ShipperResult down;
  REQUIRE_FALSE(run_shipper(request, down).ok());
  auto next = unreported_ship_failure(local, request.target);
  REQUIRE(next.ok());
  REQUIRE(next->has_value());
  CHECK(next->value().starts_with("1 record is not shipped to the shared store "));
}

TEST_CASE("shared_store_name leaves the password out") {
  CHECK(shared_store_name("postgresql://writer:s3cret@db/perf") == "postgresql://writer@db/perf");
  CHECK(shared_store_name("postgres://db.example.com:5433/perf?sslmode=require&password=x") ==
        "postgres://db.example.com:5433/perf?sslmode=require");
  CHECK(shared_store_name("postgresql://nobody@/none?host=/nonexistent") ==
        "postgresql://nobody@/none?host=/nonexistent");
  CHECK(shared_store_name("postgresql:///perf") == "postgresql:///perf");
  CHECK(shared_store_name("host=db password=pw dbname=perf") == "host=db dbname=perf");
  CHECK(shared_store_name("host=db password='p w\\' x' dbname=perf") == "host=db dbname=perf");
  CHECK(shared_store_name("service=perf") == "service=perf");
}
