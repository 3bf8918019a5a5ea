// The store's alerts (store/alerts.h): findings applied, one unresolved alert per key, a run
// judged once, escalation, self-resolution, people's transitions, the outbox, and alerts
// raised in the same transaction as the record.
#include <doctest/doctest.h>
#include <map>

#include "store/store.h"
#include "store_engines.h"
#include "support.h"

using namespace perfguard;
using perfguard::test::FreshStore;
using perfguard::test::TempDir;

namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000'000;

Store open_store(const std::filesystem::path& path) {
  auto store = Store::open({path});
  REQUIRE(store.ok());
  return std::move(*store);
}

AlertFinding finding(bool firing, std::int64_t run_us, Severity severity = Severity::critical,
                     const std::string& branch = "main") {
  AlertFinding f;
  f.key = AlertKey{AlertRuleKind::threshold, "commit", "/r", branch};
  f.firing = firing;
  f.severity = severity;
  f.summary = firing ? "commit took 2s, over its 1s threshold" : "";
  f.value = 2.0;
  f.limit = 1.0;
  f.runs.push_back(RunRef{static_cast<std::uint64_t>(run_us), "commit", run_us, 2000000,
                          firing ? StepStatus::breach : StepStatus::ok});
  return f;
}

AlertApplyOptions options(std::int64_t now, std::vector<NotifyChannel> channels = {}) {
  AlertApplyOptions o;
  o.now_us = now;
  o.host = "h";
  o.resolve_after = 2;
  o.channels = std::move(channels);
  return o;
}

std::vector<AlertChange> apply(Store& store, std::vector<AlertFinding> findings,
                               const AlertApplyOptions& o) {
  auto changes = store.apply_findings(findings, o);
  REQUIRE(changes.ok());
  return *changes;
}

}  // namespace

TEST_CASE("a firing finding opens an alert, and the same key bumps it while unresolved") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  auto first = apply(store, {finding(true, kT0)}, options(kT0 + 1));
  REQUIRE(first.size() == 1);
  CHECK(first[0].kind == AlertChange::Kind::opened);
  CHECK(first[0].alert.id == 1);
  auto second = apply(store, {finding(true, kT0 + 10)}, options(kT0 + 11));
  REQUIRE(second.size() == 1);
  CHECK(second[0].kind == AlertChange::Kind::bumped);
  CHECK(second[0].alert.id == 1);
  CHECK(second[0].alert.count == 2);
  // Another branch is another key.
  auto other =
      apply(store, {finding(true, kT0 + 20, Severity::critical, "dev")}, options(kT0 + 21));
  CHECK(other[0].alert.id == 2);
  auto all = store.alerts({});
  REQUIRE(all.ok());
  CHECK(all->size() == 2);
  auto runs = store.alert_runs(1);
  REQUIRE(runs.ok());
  CHECK(runs->size() == 2);
}

TEST_CASE("a run is judged once: the same finding again changes nothing") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  apply(store, {finding(true, kT0)}, options(kT0 + 1));
  CHECK(apply(store, {finding(true, kT0)}, options(kT0 + 2)).empty());
  CHECK(apply(store, {finding(false, kT0)}, options(kT0 + 3)).empty());
  auto a = store.alert(1);
  REQUIRE(a.ok());
  CHECK((*a)->count == 1);
  // Resolved by hand, the old run does not open it again.
  REQUIRE(store.transition({1}, {AlertState::resolved, "ann", "fixed", {}, kT0 + 4}).ok());
  CHECK(apply(store, {finding(true, kT0)}, options(kT0 + 5)).empty());
  CHECK(apply(store, {finding(true, kT0 + 50)}, options(kT0 + 51))[0].alert.id == 2);
}

TEST_CASE("a higher severity escalates the alert and reopens an acknowledged one") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  apply(store, {finding(true, kT0, Severity::warning)}, options(kT0 + 1));
  REQUIRE(store.transition({1}, {AlertState::acknowledged, "ann", "", {}, kT0 + 2}).ok());
  auto up = apply(store, {finding(true, kT0 + 10, Severity::critical)}, options(kT0 + 11));
  REQUIRE(up.size() == 1);
  CHECK(up[0].kind == AlertChange::Kind::escalated);
  CHECK(up[0].alert.severity == Severity::critical);
  CHECK(up[0].alert.state == AlertState::open);
  // A lower one never lowers it.
  auto down = apply(store, {finding(true, kT0 + 20, Severity::info)}, options(kT0 + 21));
  CHECK(down[0].alert.severity == Severity::critical);
  auto events = store.alert_events(1);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 3);  // opened, acknowledged, escalated
  CHECK((*events)[2].from == AlertState::acknowledged);
  CHECK((*events)[2].note.rfind("escalated: ", 0) == 0);
}

TEST_CASE(
    "an alert resolves itself after resolve_after clear runs in a row, and a firing run "
    "starts the count again") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  apply(store, {finding(true, kT0)}, options(kT0 + 1));
  CHECK(apply(store, {finding(false, kT0 + 10)}, options(kT0 + 11)).empty());
  apply(store, {finding(true, kT0 + 20)}, options(kT0 + 21));
  CHECK(apply(store, {finding(false, kT0 + 30)}, options(kT0 + 31)).empty());
  auto resolved = apply(store, {finding(false, kT0 + 40)}, options(kT0 + 41));
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].kind == AlertChange::Kind::resolved);
  CHECK(resolved[0].alert.resolved_us == kT0 + 41);
  auto open = store.alerts({});
  REQUIRE(open.ok());
  CHECK(open->empty());
}

TEST_CASE("transitions are all or nothing") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  apply(store, {finding(true, kT0)}, options(kT0 + 1));
  auto bad = store.transition({1, 99}, {AlertState::acknowledged, "ann", "", {}, kT0 + 2});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ExitCode::usage);
  CHECK((*store.alert(1))->state == AlertState::open);
  CHECK(store.alert_events(1)->size() == 1);
  auto snoozed = store.transition({1}, {AlertState::snoozed, "ann", "later", kT0 + 100, kT0 + 3});
  REQUIRE(snoozed.ok());
  const Alert& a = (*snoozed)[0].alert;
  CHECK_FALSE(a.is_active(kT0 + 99));
  CHECK(a.is_active(kT0 + 100));
}

TEST_CASE(
    "the outbox queues a notification per channel that takes the severity, and a claimed "
    "one is not claimed twice") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::vector<NotifyChannel> channels = {{"notify", Severity::info},
                                         {"webhook:abc", Severity::critical}};
  apply(store, {finding(true, kT0, Severity::warning)}, options(kT0 + 1, channels));
  CHECK(*store.pending_notifications(kT0 + 1) == 1);  // the webhook wants critical
  auto claimed = store.claim_notifications(kT0 + 2, 60'000'000, 10, false);
  REQUIRE(claimed.ok());
  REQUIRE(claimed->size() == 1);
  CHECK((*claimed)[0].channel == "notify");
  CHECK((*claimed)[0].event == "opened");
  CHECK((*claimed)[0].alert.id == 1);
  CHECK(store.claim_notifications(kT0 + 3, 60'000'000, 10, false)->empty());  // leased
  // Failed: retried later, and claimable again then.
  REQUIRE(
      store.finish_notification((*claimed)[0].id, {false, false, kT0 + 1000, "HTTP 500"}, kT0 + 4)
          .ok());
  CHECK(store.claim_notifications(kT0 + 5, 60'000'000, 10, false)->empty());
  auto again = store.claim_notifications(kT0 + 1000, 60'000'000, 10, false);
  REQUIRE(again->size() == 1);
  CHECK((*again)[0].attempts == 1);
  REQUIRE(store.finish_notification((*again)[0].id, {true, false, {}, ""}, kT0 + 1001).ok());
  CHECK(*store.pending_notifications(kT0 + 10'000'000) == 0);
  // An escalation to critical reaches the webhook too.
  apply(store, {finding(true, kT0 + 50, Severity::critical)}, options(kT0 + 51, channels));
  auto escalated = store.claim_notifications(kT0 + 52, 60'000'000, 10, false);
  REQUIRE(escalated->size() == 2);
  CHECK((*escalated)[1].channel == "webhook:abc");
  CHECK((*escalated)[1].event == "escalated");
}

TEST_CASE("record raises the alerts in the same transaction, or stores neither") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  StepRecord r;
  r.trace_id = 7;
  r.step = "commit";
  r.root.name = "commit";
  r.root.start_us = kT0;
  r.root.duration = Duration::seconds(2);
  r.status = StepStatus::breach;
  r.threshold = Duration::seconds(1);
  r.context.repo = "/r";
  r.context.branch = "main";
  // The evaluation sees the record it runs for.
  auto changes = store.record(
      {r}, std::nullopt,
      [&]() -> Result<std::vector<AlertFinding>> {
        auto runs = store.recent_runs({"commit", "/r", std::string("main"), 0, 5});
        REQUIRE(runs.ok());
        CHECK(runs->size() == 1);
        return std::vector<AlertFinding>{finding(true, kT0)};
      },
      options(kT0 + 1));
  REQUIRE(changes.ok());
  CHECK(changes->size() == 1);
  // An evaluation that fails takes the record down with it.
  r.trace_id = 8;
  r.root.start_us = kT0 + 100;
  auto failed = store.record(
      {r}, std::nullopt,
      []() -> Result<std::vector<AlertFinding>> { return make_error(ExitCode::store, "boom"); },
      options(kT0 + 101));
  CHECK_FALSE(failed.ok());
  CHECK(store.recent_steps(10)->size() == 1);
}

TEST_CASE("recent runs are the newest of one step in one repository and branch") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  std::vector<StepRecord> records;
  for (int i = 0; i < 6; ++i) {
    StepRecord r;
    r.trace_id = static_cast<std::uint64_t>(i + 1);
    r.step = i % 3 == 2 ? "rollback" : "commit";
    r.root.name = r.step;
    r.root.start_us = kT0 + i * 3'600'000'000LL;  // an hour apart
    r.root.duration = Duration::millis(10 + i);
    r.context.repo = "/r";
    r.context.branch = i == 4 ? "dev" : "main";
    records.push_back(r);
  }
  REQUIRE(store.record(records).ok());
  auto runs = store.recent_runs({"commit", "/r", std::string("main"), 0, 10});
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 3);  // 0, 1, 3
  CHECK((*runs)[0].trace_id == 4);
  CHECK((*runs)[2].trace_id == 1);
  auto any_branch = store.recent_runs({"commit", "/r", std::nullopt, 0, 2});
  REQUIRE(any_branch->size() == 2);
  CHECK((*any_branch)[0].trace_id == 5);
  auto since = store.recent_runs({"commit", "/r", std::nullopt, kT0 + 3 * 3'600'000'000LL, 10});
  CHECK(since->size() == 2);
  CHECK(store.recent_runs({"validate", "/r", std::nullopt, 0, 10})->empty());
}

TEST_CASE("recent runs read again see what another connection recorded in between") {
  // The reads' statements are kept for the next call: stopped early (the limit reached with
  // rows left), they must still end their read, or the next call would see the old store.
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  auto commit_at = [](int i) {
    StepRecord r;
    r.trace_id = static_cast<std::uint64_t>(i + 1);
    r.step = "commit";
    r.root.name = r.step;
    r.root.start_us = kT0 + i * 1'000'000LL;  // one hour
    r.root.duration = Duration::millis(10);
    r.context.repo = "/r";
    r.context.branch = "main";
    return r;
  };
  REQUIRE(store.record({commit_at(0), commit_at(1), commit_at(2)}).ok());
  auto first = store.recent_runs({"commit", "/r", std::string("main"), 0, 1});
  REQUIRE(first.ok());
  REQUIRE(first->size() == 1);
  CHECK((*first)[0].trace_id == 3);
  Store other = fresh.open();
  REQUIRE(other.record({commit_at(3)}).ok());
  auto again = store.recent_runs({"commit", "/r", std::string("main"), 0, 1});
  REQUIRE(again.ok());
  REQUIRE(again->size() == 1);
  CHECK((*again)[0].trace_id == 4);
}

TEST_CASE("the newest steps are one per step, repository and branch, read whole") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  constexpr std::int64_t kHour = 3'600'000'000LL;
  auto run = [](std::uint64_t trace, const char* step, const char* repo, const char* branch,
                std::int64_t start_us) {
    StepRecord r;
    r.trace_id = trace;
    r.step = step;
    r.root.name = step;
    r.root.start_us = start_us;
    r.root.duration = Duration::millis(10);
    r.root.children.push_back({"git", start_us + 1, Duration::millis(9), 0, {}, {}});
    r.context.repo = repo;
    r.context.branch = branch;
    r.context.host = std::to_string(trace);  // a context of its own
    r.labels.emplace_back("run", std::to_string(trace));
    return r;
  };
  std::vector<StepRecord> records = {
      run(1, "commit", "/r", "main", kT0 - 30 * kHour),  // before the window
      run(2, "commit", "/r", "main", kT0 + 1 * kHour),
      run(3, "commit", "/r", "dev", kT0 + 2 * kHour),    // dev's only: hours before main's
      run(4, "commit", "/r", "main", kT0 + 20 * kHour),  // main's newest
      run(5, "rollback", "/r", "main", kT0 + 5 * kHour),
      run(6, "commit", "/other", "main", kT0 + 3 * kHour),
      run(7, "rollback", "/r", "main", kT0 + 5 * kHour),  // same instant: the greater trace
      run(8, "validate", "/r", "main", kT0 - 2 * kHour),  // only before the window
  };
  // Recorded out of time order, as imports and several clones are.
  std::swap(records[1], records[3]);
  REQUIRE(store.record(records).ok());
  std::map<std::string, StepRecord> newest;
  REQUIRE(store
              .for_each_newest_step(
                  kT0,
                  [&](StepRecord& r) -> Status {
                    newest.emplace(r.step + " " + r.context.repo + " " + r.context.branch, r);
                    return {};
                  })
              .ok());
  REQUIRE(newest.size() == 4);
  CHECK(newest["commit /r main"].trace_id == 4);
  CHECK(newest["commit /r dev"].trace_id == 3);
  CHECK(newest["commit /other main"].trace_id == 6);
  CHECK(newest["rollback /r main"].trace_id == 7);
  // Whole: children, labels and context.
  const StepRecord& whole = newest["commit /r main"];
  REQUIRE(whole.root.children.size() == 1);
  CHECK(whole.root.children[0].name == "git");
  CHECK(whole.labels == Labels{{"run", "4"}});
  CHECK(whole.context.host == "4");
  // Nothing in the window, nothing read.
  int none = 0;
  REQUIRE(store
              .for_each_newest_step(kT0 + 21 * kHour,
                                    [&](StepRecord&) -> Status {
                                      ++none;
                                      return {};
                                    })
              .ok());
  CHECK(none == 0);
}

namespace {

// count_alerts answers from alert_counts where it can; alerts() reads the rows. They must
// agree for every question the tools ask, at every moment of the lifecycle.
void check_counts_agree(Store& store, std::int64_t now) {
  for (const char* repo : {"", "/r", "/other"}) {
    for (int severity = -1; severity <= 2; ++severity) {
      for (int state = -1; state <= 2; ++state) {
        AlertQuery q;
        q.repo = repo;
        if (severity >= 0) q.min_severity = static_cast<Severity>(severity);
        if (state >= 0) q.state = static_cast<AlertState>(state);
        q.now_us = now;
        CAPTURE(repo);
        CAPTURE(severity);
        CAPTURE(state);
        auto rows = store.alerts(q);
        auto count = store.count_alerts(q);
        REQUIRE(rows.ok());
        REQUIRE(count.ok());
        CHECK(*count == static_cast<std::int64_t>(rows->size()));
      }
    }
  }
}

AlertFinding finding_in(const std::string& repo, const std::string& branch, Severity severity,
                        std::int64_t run_us) {
  AlertFinding f = finding(true, run_us, severity, branch);
  f.key.repo = repo;
  return f;
}

}  // namespace

TEST_CASE("the counts of unresolved alerts agree with their rows through every transition") {
  PERFGUARD_EACH_ENGINE(engine);
  FreshStore fresh(engine);
  Store& store = fresh.store();
  apply(store,
        {finding_in("/r", "a", Severity::critical, kT0),
         finding_in("/r", "b", Severity::warning, kT0), finding_in("/r", "c", Severity::info, kT0),
         finding_in("/other", "a", Severity::critical, kT0),
         finding_in("/other", "b", Severity::critical, kT0)},
        options(kT0 + 1));
  check_counts_agree(store, kT0 + 2);
  REQUIRE(store.transition({2}, {AlertState::acknowledged, "ann", "", {}, kT0 + 3}).ok());
  REQUIRE(store.transition({4}, {AlertState::snoozed, "ann", "", kT0 + 100, kT0 + 4}).ok());
  REQUIRE(store.transition({5}, {AlertState::resolved, "ann", "fixed", {}, kT0 + 5}).ok());
  check_counts_agree(store, kT0 + 6);
  check_counts_agree(store, kT0 + 100);  // the snooze has run out: open again
  // Escalated (and so reopened) by a critical run.
  apply(store, {finding_in("/r", "b", Severity::critical, kT0 + 10)}, options(kT0 + 11));
  check_counts_agree(store, kT0 + 12);
  // Resolved by clear runs.
  apply(store, {finding(false, kT0 + 20, Severity::critical, "a")}, options(kT0 + 21));
  apply(store, {finding(false, kT0 + 30, Severity::critical, "a")}, options(kT0 + 31));
  CHECK_FALSE((*store.alert(1))->is_active(kT0 + 32));
  check_counts_agree(store, kT0 + 32);
  AlertQuery critical;
  critical.min_severity = Severity::critical;
  critical.state = AlertState::open;
  critical.now_us = kT0 + 32;
  CHECK(*store.count_alerts(critical) == 1);  // /r b, escalated
}

TEST_CASE("a version 6 store gets its alert counts when migrated") {
  TempDir tmp;
  const auto path = tmp / "perf.db";
  test::make_store_at_version(path, 6, R"sql(
      INSERT INTO alerts (rule, step, repo, branch, severity, state, summary, first_seen_us,
        last_seen_us, snoozed_until_us) VALUES
        ('threshold', 'commit', '/r', 'a', 2, 0, 's', 1, 1, NULL),
        ('threshold', 'commit', '/r', 'b', 2, 1, 's', 1, 1, NULL),
        ('threshold', 'commit', '/r', 'c', 1, 2, 's', 1, 1, 50),
        ('threshold', 'commit', '/r', 'd', 2, 3, 's', 1, 1, NULL),
        ('baseline', 'commit', '/other', 'a', 0, 0, 's', 1, 1, NULL)
    )sql");
  Store store = open_store(path);
  CHECK(store.schema_version() == kSchemaVersion);
  check_counts_agree(store, 10);
  check_counts_agree(store, 60);
}
