// What perf-recover --auto decides (recover/auto_decision.h), against a real store: the
// triggers (open alerts of the rules a rollback can fix, runs of breaches), the decision
// matrix, and the cooldown and hourly limit that hold an automatic recovery back.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "recover/auto_decision.h"
#include "store/store.h"
#include "support.h"

using namespace perfguard;
using perfguard::test::TempDir;

namespace {

constexpr std::int64_t kMinuteUs = 60LL * 1000000;
constexpr std::int64_t kDay = 1795392000LL * 1000000;  // 2026-11-23T00:00:00Z
constexpr std::int64_t kNow = kDay + 15 * kHourUs;     // 15:00:00Z
constexpr const char* kRepo = "/src/app";

Store open_store(const std::filesystem::path& path) {
  auto store = Store::open(StoreOptions{path});
  REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().message));
  return std::move(store.value());
}

RunContext here() {
  RunContext c;
  c.repo = kRepo;
  c.branch = "main";
  c.tool = "perf-recover";
  return c;
}

// Records one step of `name` that started `ago_us` before now.
void record_step(Store& store, const std::string& name, std::int64_t ago_us, StepStatus status,
                 const std::string& repo = kRepo, const std::string& branch = "main") {
  static std::uint64_t next_trace = 1;
  StepRecord r;
  r.trace_id = next_trace++;
  r.step = name;
  r.root.name = name;
  r.root.start_us = kNow - ago_us;
  r.root.duration = status == StepStatus::breach ? Duration::millis(1500) : Duration::millis(200);
  r.status = status;
  r.threshold = Duration::seconds(1);
  r.context.repo = repo;
  r.context.branch = branch;
  r.context.tool = "perf-" + name;
  REQUIRE(store.record({r}).ok());
}

// Opens an alert of `rule` as the rules would, and returns its id.
std::int64_t open_alert(Store& store, AlertRuleKind rule, Severity severity,
                        const std::string& repo = kRepo, const std::string& step = "commit") {
  static std::int64_t next_run = 1;
  AlertFinding f;
  f.key = AlertKey{rule, step, repo, "main"};
  f.firing = true;
  f.severity = severity;
  f.summary = step + " took 1.5s, over its 1s threshold";
  f.value = 1.5;
  f.limit = 1.0;
  const std::int64_t run = next_run++;
  // Seen 30 seconds ago: after the recoveries the cases record (a minute ago at the latest).
  f.runs.push_back(RunRef{static_cast<std::uint64_t>(run), step, kNow - 30'000'000 + run, 1500000,
                          StepStatus::breach});
  AlertApplyOptions o;
  o.now_us = kNow - 30'000'000 + run;
  o.host = "h";
  auto changes = store.apply_findings({f}, o);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 1);
  return (*changes)[0].alert.id;
}

void transition(Store& store, std::int64_t id, AlertState to,
                std::optional<std::int64_t> until_us = std::nullopt) {
  AlertTransition t;
  t.to = to;
  t.by = "ana";
  t.until_us = until_us;
  t.now_us = kNow - kMinuteUs;
  REQUIRE(store.transition({id}, t).ok());
}

AutoDecision decide(Store& store, const RecoverConfig& config = {},
                    const RunContext& context = here(), std::int64_t now_us = kNow) {
  auto d = decide_auto(store, config, context, now_us);
  REQUIRE_MESSAGE(d.ok(), (d.ok() ? "" : d.error().message));
  return *d;
}

}  // namespace

TEST_CASE("no trigger: nothing to do, and the reason says what was looked for") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  record_step(store, "commit", 3 * kMinuteUs, StepStatus::ok);
  auto d = decide(store);
  CHECK(d.action == RecoverAction::none);
  CHECK_FALSE(d.held_back);
  CHECK(d.triggers.empty());
  CHECK(d.reason ==
        "no trigger: no open alert on the rules a rollback can fix, and no step breached 3 "
        "times in a row");
}

TEST_CASE("an open critical threshold alert recovers automatically") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  std::int64_t id = open_alert(store, AlertRuleKind::threshold, Severity::critical);
  auto d = decide(store);
  CHECK(d.action == RecoverAction::automatic);
  CHECK_FALSE(d.held_back);
  REQUIRE(d.triggers.size() == 1);
  CHECK(d.triggers[0].alert_id == id);
  CHECK(d.triggers[0].severity == Severity::critical);
  CHECK(d.triggers[0].step == "commit");
  CHECK(d.reason == "critical alert #" + std::to_string(id) +
                        " threshold on commit: commit took 1.5s, over its 1s threshold");
}

TEST_CASE("by default a warning asks a person and an info does nothing") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  SUBCASE("warning") {
    open_alert(store, AlertRuleKind::baseline, Severity::warning);
    auto d = decide(store);
    CHECK(d.action == RecoverAction::manual);
    CHECK(d.reason.starts_with("warning alert #1 baseline on commit: "));
    CHECK(d.reason.find("manual") != std::string::npos);
  }
  SUBCASE("info") {
    open_alert(store, AlertRuleKind::anomaly, Severity::info);
    auto d = decide(store);
    CHECK(d.action == RecoverAction::none);
    REQUIRE(d.triggers.size() == 1);  // a trigger, which the matrix maps to nothing
    CHECK(d.reason.starts_with("info alert #1 anomaly on commit: "));
    CHECK(d.reason.find("\"none\"") != std::string::npos);
  }
}

TEST_CASE("the decision matrix of the configuration decides, by the most severe trigger") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  open_alert(store, AlertRuleKind::failure, Severity::warning, kRepo, "rollback");
  std::int64_t critical = open_alert(store, AlertRuleKind::consecutive, Severity::critical);
  RecoverConfig config;
  SUBCASE("defaults: the critical one recovers") {
    auto d = decide(store, config);
    CHECK(d.action == RecoverAction::automatic);
    REQUIRE(d.triggers.size() == 2);
    CHECK(d.triggers[0].alert_id == critical);
    CHECK(d.triggers[1].severity == Severity::warning);
    CHECK(d.triggers[1].step == "rollback");
  }
  SUBCASE("critical = manual") {
    config.automatic.critical = RecoverAction::manual;
    auto d = decide(store, config);
    CHECK(d.action == RecoverAction::manual);
    CHECK(d.reason.starts_with("critical alert #" + std::to_string(critical)));
  }
  SUBCASE("critical = none: the warning does not decide in its place") {
    config.automatic.critical = RecoverAction::none;
    auto d = decide(store, config);
    CHECK(d.action == RecoverAction::none);
  }
  SUBCASE("warning = auto, critical = manual: still the critical one") {
    config.automatic.critical = RecoverAction::manual;
    config.automatic.warning = RecoverAction::automatic;
    CHECK(decide(store, config).action == RecoverAction::manual);
  }
}

TEST_CASE("acknowledged and snoozed alerts are owned by a person; a snooze run out is open") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  std::int64_t id = open_alert(store, AlertRuleKind::threshold, Severity::critical);
  REQUIRE(decide(store).action == RecoverAction::automatic);
  SUBCASE("acknowledged") {
    transition(store, id, AlertState::acknowledged);
    auto d = decide(store);
    CHECK(d.action == RecoverAction::none);
    CHECK(d.triggers.empty());
  }
  SUBCASE("snoozed until later") {
    transition(store, id, AlertState::snoozed, kNow + kMinuteUs);
    auto d = decide(store);
    CHECK(d.action == RecoverAction::none);
    CHECK(d.triggers.empty());
    // The same store a minute later: the snooze has run out.
    CHECK(decide(store, {}, here(), kNow + kMinuteUs).action == RecoverAction::automatic);
  }
  SUBCASE("snooze run out") {
    transition(store, id, AlertState::snoozed, kNow - 1);
    auto d = decide(store);
    CHECK(d.action == RecoverAction::automatic);
    REQUIRE(d.triggers.size() == 1);
    CHECK(d.triggers[0].alert_id == id);
  }
  SUBCASE("resolved") {
    transition(store, id, AlertState::resolved);
    CHECK(decide(store).triggers.empty());
  }
}

TEST_CASE("a step that breached its threshold N times in a row is a critical trigger") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  record_step(store, "commit", 30 * kMinuteUs, StepStatus::ok);
  record_step(store, "commit", 20 * kMinuteUs, StepStatus::breach);
  record_step(store, "commit", 15 * kMinuteUs, StepStatus::breach, kRepo, "dev");
  SUBCASE("N-1 breaches: nothing") {
    auto d = decide(store);
    CHECK(d.action == RecoverAction::none);
    CHECK(d.triggers.empty());
  }
  SUBCASE("N breaches, on any branch of the repository: recover") {
    record_step(store, "commit", 10 * kMinuteUs, StepStatus::timeout);
    auto d = decide(store);
    CHECK(d.action == RecoverAction::automatic);
    REQUIRE(d.triggers.size() == 1);
    CHECK(d.triggers[0].severity == Severity::critical);
    CHECK_FALSE(d.triggers[0].alert_id.has_value());
    CHECK(d.triggers[0].step == "commit");
    CHECK(d.reason == "critical commit breached its threshold 3 times in a row");
  }
  SUBCASE("a run that did not breach ends the run of breaches") {
    record_step(store, "commit", 12 * kMinuteUs, StepStatus::failed);
    record_step(store, "commit", 10 * kMinuteUs, StepStatus::breach);
    CHECK(decide(store).triggers.empty());
  }
  SUBCASE("N is the configuration's") {
    RecoverConfig config;
    config.automatic.consecutive = 2;
    auto d = decide(store, config);
    CHECK(d.action == RecoverAction::automatic);
    CHECK(d.reason == "critical commit breached its threshold 2 times in a row");
  }
  SUBCASE("breaches in another repository are not this one's") {
    for (int i = 0; i < 3; ++i) {
      record_step(store, "commit", (9 - i) * kMinuteUs, StepStatus::breach, "/src/other");
    }
    CHECK(decide(store).triggers.empty());
  }
}

TEST_CASE("every recorded step can breach in a row, and a run of breaches is no alert") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  for (int i = 0; i < 3; ++i)
    record_step(store, "validate", (40 - i) * kMinuteUs, StepStatus::breach);
  open_alert(store, AlertRuleKind::threshold, Severity::warning);
  auto d = decide(store);
  CHECK(d.action == RecoverAction::automatic);
  REQUIRE(d.triggers.size() == 2);
  CHECK(d.triggers[0].step == "validate");  // critical, before the warning alert
  CHECK(d.triggers[1].alert_id == 1);
}

TEST_CASE("the cooldown holds an automatic recovery back after any recovery") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  open_alert(store, AlertRuleKind::threshold, Severity::critical);
  // A person's perf-recover on another branch 4 minutes ago, which failed: still a recovery.
  record_step(store, "recover", 4 * kMinuteUs, StepStatus::failed, kRepo, "hotfix");
  RecoverConfig config;
  SUBCASE("held back, and told when it is possible again") {
    auto d = decide(store, config);
    CHECK(d.action == RecoverAction::none);
    CHECK(d.held_back);
    REQUIRE(d.triggers.size() == 1);
    CHECK(d.reason ==
          "cooldown: the last recovery was 4m ago, the cooldown is 10m (next possible at "
          "15:06:00Z)");
  }
  SUBCASE("when the cooldown has passed") {
    CHECK(decide(store, config, here(), kNow + 6 * kMinuteUs).action == RecoverAction::automatic);
    auto d = decide(store, config, here(), kNow + 6 * kMinuteUs - 1);
    CHECK(d.held_back);
  }
  SUBCASE("a cooldown of 0 is none") {
    config.automatic.cooldown = Duration{};
    auto d = decide(store, config);
    CHECK(d.action == RecoverAction::automatic);
    CHECK_FALSE(d.held_back);
  }
  SUBCASE("a longer cooldown") {
    config.automatic.cooldown = Duration::seconds(3600);
    auto d = decide(store, config);
    CHECK(d.held_back);
    CHECK(d.reason.ends_with("the cooldown is 1h (next possible at 15:56:00Z)"));
  }
}

TEST_CASE("the cooldown counts only this repository's recoveries") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  open_alert(store, AlertRuleKind::threshold, Severity::critical);
  record_step(store, "recover", 4 * kMinuteUs, StepStatus::ok, "/src/other");
  record_step(store, "rollback", 2 * kMinuteUs, StepStatus::ok);  // a rollback is no recovery
  auto d = decide(store);
  CHECK(d.action == RecoverAction::automatic);
  CHECK_FALSE(d.held_back);
}

TEST_CASE("neither the cooldown nor the hourly limit holds back telling people") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  open_alert(store, AlertRuleKind::threshold, Severity::warning);
  RecoverConfig config;
  config.automatic.max_per_hour = 0;
  record_step(store, "recover", kMinuteUs, StepStatus::ok);
  auto d = decide(store, config);
  CHECK(d.action == RecoverAction::manual);
  CHECK_FALSE(d.held_back);
}

TEST_CASE("the hourly limit holds an automatic recovery back") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  open_alert(store, AlertRuleKind::threshold, Severity::critical);
  // Over an hour ago: not counted.
  record_step(store, "recover", 61 * kMinuteUs, StepStatus::ok);
  // Four in the last hour, the newest past the cooldown.
  for (int ago : {55, 45, 35, 25}) record_step(store, "recover", ago * kMinuteUs, StepStatus::ok);
  SUBCASE("four: one more is allowed") {
    auto d = decide(store);
    CHECK(d.action == RecoverAction::automatic);
    CHECK_FALSE(d.held_back);
  }
  SUBCASE("five: held back") {
    record_step(store, "recover", 15 * kMinuteUs, StepStatus::breach, kRepo, "dev");
    auto d = decide(store);
    CHECK(d.action == RecoverAction::none);
    CHECK(d.held_back);
    // Possible again when the fifth newest (55 minutes ago) has left the hour.
    CHECK(d.reason ==
          "rate limit: 5 recoveries in the last hour (at most 5); next possible at 15:05:00Z");
  }
  SUBCASE("a lower limit") {
    RecoverConfig config;
    config.automatic.max_per_hour = 2;
    auto d = decide(store, config);
    CHECK(d.held_back);
    CHECK(d.reason.starts_with("rate limit: more than 2 recoveries in the last hour (at most 2)"));
  }
  SUBCASE("both: the hold that lasts longer is the reason") {
    record_step(store, "recover", 8 * kMinuteUs, StepStatus::ok);
    RecoverConfig config;
    auto d = decide(store, config);  // the cooldown until 15:02, the limit until 15:05
    CHECK(d.held_back);
    CHECK(d.reason ==
          "rate limit: 5 recoveries in the last hour (at most 5); next possible at 15:05:00Z");
    config.automatic.cooldown = Duration::seconds(30 * 60);  // until 15:22
    d = decide(store, config);
    CHECK(d.held_back);
    CHECK(d.reason.starts_with("cooldown: the last recovery was 8m ago"));
  }
}

TEST_CASE("an alert of another repository, or of no repository, is not a trigger") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  open_alert(store, AlertRuleKind::threshold, Severity::critical, "/src/other");
  open_alert(store, AlertRuleKind::threshold, Severity::critical, "");
  auto d = decide(store);
  CHECK(d.action == RecoverAction::none);
  CHECK(d.triggers.empty());
  // Seen from the other repository, its own alert is a trigger.
  RunContext other = here();
  other.repo = "/src/other";
  auto there = decide(store, {}, other);
  CHECK(there.action == RecoverAction::automatic);
  REQUIRE(there.triggers.size() == 1);
  CHECK(there.triggers[0].alert_id == 1);
}

TEST_CASE("alerts a rollback cannot fix are not triggers") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  open_alert(store, AlertRuleKind::health, Severity::critical, kRepo, "size");
  open_alert(store, AlertRuleKind::prediction, Severity::critical);
  open_alert(store, AlertRuleKind::rollback_rate, Severity::critical, kRepo, "rollback");
  open_alert(store, AlertRuleKind::degradation, Severity::critical);
  auto d = decide(store);
  CHECK(d.action == RecoverAction::none);
  CHECK(d.triggers.empty());
  CHECK(rollback_can_fix(AlertRuleKind::threshold));
  CHECK(rollback_can_fix(AlertRuleKind::baseline));
  CHECK(rollback_can_fix(AlertRuleKind::anomaly));
  CHECK(rollback_can_fix(AlertRuleKind::consecutive));
  CHECK(rollback_can_fix(AlertRuleKind::failure));
  CHECK_FALSE(rollback_can_fix(AlertRuleKind::health));
  CHECK_FALSE(rollback_can_fix(AlertRuleKind::prediction));
  CHECK_FALSE(rollback_can_fix(AlertRuleKind::rollback_rate));
  CHECK_FALSE(rollback_can_fix(AlertRuleKind::degradation));
  CHECK_FALSE(rollback_can_fix(AlertRuleKind::manual_recovery));
}

TEST_CASE("a person to decide fires the alert manual_recovery; nobody needed clears it") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  open_alert(store, AlertRuleKind::threshold, Severity::warning);
  auto manual = decide(store);
  REQUIRE(manual.action == RecoverAction::manual);
  auto fires = manual_recovery_finding(manual, here(), kNow);
  REQUIRE(fires);
  CHECK(fires->firing);
  CHECK(fires->key == AlertKey{AlertRuleKind::manual_recovery, "recover", here().repo, ""});
  CHECK(fires->severity == Severity::warning);  // the trigger's
  CHECK(fires->summary.find(
            "a recovery waits for a person (perf-recover --yes): warning alert #1") == 0);
  REQUIRE(fires->runs.size() == 1);
  CHECK(fires->runs[0].started_us == kNow);  // each decision a run of its own

  AutoDecision nothing;
  nothing.reason = "no trigger";
  auto clears = manual_recovery_finding(nothing, here(), kNow);
  REQUIRE(clears);
  CHECK_FALSE(clears->firing);
  AutoDecision automatic = manual;
  automatic.action = RecoverAction::automatic;
  CHECK_FALSE(manual_recovery_finding(automatic, here(), kNow)->firing);
  // Held back by the cooldown or the limit: neither.
  AutoDecision held = nothing;
  held.held_back = true;
  CHECK_FALSE(manual_recovery_finding(held, here(), kNow));
}

TEST_CASE("what the last recovery answered is no trigger again") {
  TempDir tmp;
  Store store = open_store(tmp / "perf.db");
  for (int ago : {40, 35, 30}) record_step(store, "commit", ago * kMinuteUs, StepStatus::breach);
  open_alert(store, AlertRuleKind::threshold, Severity::critical);  // seen 30s ago
  REQUIRE(decide(store).action == RecoverAction::automatic);
  // A recovery after all of it: the alert still open and the breaches before it are what it
  // answered.
  const std::int64_t later = kNow + 20 * kMinuteUs;
  record_step(store, "recover", -1 * kMinuteUs, StepStatus::ok);
  auto d = decide(store, RecoverConfig{}, here(), later);
  CHECK(d.action == RecoverAction::none);
  CHECK(d.triggers.empty());
  CHECK(d.reason.ends_with("since the last recovery"));
  // Breaching again after it is a trigger again.
  for (int ago : {-3, -4, -5}) record_step(store, "commit", ago * kMinuteUs, StepStatus::breach);
  d = decide(store, RecoverConfig{}, here(), later);
  CHECK(d.action == RecoverAction::automatic);
  REQUIRE(d.triggers.size() == 1);
  CHECK(d.triggers[0].why == "commit breached its threshold 3 times in a row");
}
