// perf-alerts check: the gate a CI job step or a pre-push hook calls. Exit 3 while any open
// (unacknowledged, unsnoozed) alert is at or above --fail-on; 0 otherwise, and 0 while the
// emergency pause mark is set.
#include <cstdio>

#include "commands.h"
#include "core/clock.h"

namespace perfguard::alerts_tool {

namespace {
constexpr int kShown = 20;  // blocking alerts listed in text
}  // namespace

Check::Check()
    : Command("check",
              "Exit 3 while an open alert is at or above --fail-on (the CI gate); --format also "
              "takes junit, github and gitlab") {}

void Check::add_options(CLI::App& command) {
  add_typed_option(command, "--fail-on", fail_on, severity_option(),
                   "The least severity that fails: info, warning or critical")
      ->type_name("LEVEL");
  place.add_options(command);
}

// --format takes junit, github and gitlab here, besides the common formats.
Status Check::prepare(CommonOptions& common) {
  const std::string& f = common.format;
  if (f == "junit") report = Report::junit;
  if (f == "github") report = Report::github;
  if (f == "gitlab") report = Report::gitlab;
  if (report != Report::none) {
    common.format = "text";
  } else if (!common.json && !parse_format(f)) {
    return make_error(ExitCode::usage,
                      "unknown --format '" + f +
                          "' (expected text, json, jsonl, csv, tsv, junit, github or gitlab)");
  }
  return {};
}

Result<ExitCode> Check::run(ToolSession& session) {
  const std::int64_t now = now_unix_us();
  GateResult gate;
  gate.fail_on = fail_on;
  std::int64_t blocking = 0;
  gate.paused = session.paused;
  if (!gate.paused) {
    auto store = open_existing_store(session);
    // No store yet where the repository keeps it: nothing was ever recorded, so nothing is
    // open. A store named with --db, PERFGUARD_DB or [store] path must be there: a mistyped
    // path must not pass the gate.
    const bool named = session.store_is_shared() || !session.options.db.empty() ||
                       session.config.store_path.has_value();
    if (!store && (named || session.store_exists())) return store.error();
    if (store) {
      // Open (unacknowledged, unsnoozed or with the snooze run out), at or above the level.
      AlertQuery q;
      q.min_severity = fail_on;
      q.state = AlertState::open;
      q.now_us = now;
      q.repo = place.repo_for(session);
      if (place.branch.empty()) {
        auto count = store->count_alerts(q);
        if (!count) return count.error();
        blocking = *count;
        // For people, the first few (most severe, most recent); the machine formats list all.
        if (report == Report::none && session.format == Format::text) q.limit = kShown;
      }
      auto alerts = place.alerts(*store, q);
      if (!alerts) return alerts.error();
      if (!place.branch.empty()) {
        blocking = static_cast<std::int64_t>(alerts->size());
        if (report == Report::none && session.format == Format::text &&
            alerts->size() > static_cast<std::size_t>(kShown)) {
          alerts->resize(static_cast<std::size_t>(kShown));
        }
      }
      gate.blocking = std::move(*alerts);
    }
  }
  const ExitCode code = gate.paused || blocking == 0 ? ExitCode::ok : ExitCode::breach;

  switch (report) {
    case Report::junit:
      std::fputs(junit_report(gate, now).c_str(), stdout);
      return code;
    case Report::github:
      std::fputs(github_report(gate).c_str(), stdout);
      return code;
    case Report::gitlab:
      std::fputs(gitlab_report(gate).c_str(), stdout);
      return code;
    case Report::none:
      break;
  }
  if (session.format != Format::text) {
    const char* status = gate.paused ? "paused" : gate.passed() ? "pass" : "fail";
    write_table(stdout, session.format, alert_table(gate.blocking, now), "alerts",
                {{"status", status}, {"fail_on", to_string(fail_on)}});
    return code;
  }
  if (gate.paused) {
    if (!session.options.quiet)
      std::printf("paused (perf-recover --emergency): nothing blocks until perf-recover resume\n");
    return code;
  }
  for (const Alert& a : gate.blocking) {
    std::printf("#%lld %s %s on %s: %s\n", static_cast<long long>(a.id), to_string(a.severity),
                to_string(a.key.rule), printable(a.key.step).c_str(), printable(a.summary).c_str());
  }
  if (gate.passed()) {
    if (!session.options.quiet) std::printf("no open alert at or above %s\n", to_string(fail_on));
  } else {
    std::printf("%s at or above %s (perf-alerts ack ID, or snooze, to let it pass)\n",
                plural(static_cast<std::size_t>(blocking), "open alert", "open alerts").c_str(),
                to_string(fail_on));
  }
  return code;
}

}  // namespace perfguard::alerts_tool
