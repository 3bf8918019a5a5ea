#pragma once
// Alerts written out: as a table (perf-alerts list, and check's json, in every --format),
// and as the reports CI systems read from `perf-alerts check`: JUnit XML, GitHub workflow
// commands, a GitLab Code Quality report.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "output/table.h"
#include "store/alerts.h"

namespace perfguard {

// One row per alert. Columns (a contract, like every machine format): id, severity, state,
// rule, step, repo, branch, summary, value, limit, first_seen, last_seen, count,
// snoozed_until, acknowledged_by, resolved_at, host. Times are ISO-8601 UTC; a snooze that
// has run out shows state `open`.
Table alert_table(const std::vector<Alert>& alerts, std::int64_t now_us);

// The state an alert is in at `now_us` (a snooze that ran out is open again).
AlertState state_at(const Alert& alert, std::int64_t now_us);

// What `perf-alerts check` found: the alerts that block at its level, and whether the pause
// mark is set.
struct GateResult {
  Severity fail_on = Severity::critical;
  std::vector<Alert> blocking;  // active, at or above fail_on
  bool paused = false;
  bool passed() const { return paused || blocking.empty(); }
};

// JUnit XML: one test suite `perfguard`, one failing test case per blocking alert (or one
// passing case when none), as Jenkins, GitLab and GitHub test reporters read it.
std::string junit_report(const GateResult& gate, std::int64_t now_us);

// GitHub Actions workflow commands: `::error title=…::…` per blocking alert (::warning and
// ::notice for the lesser severities), escaped as GitHub documents (`%25`, `%0D`, `%0A`, and
// `%3A`, `%2C` in properties).
std::string github_report(const GateResult& gate);

// A GitLab Code Quality report: a JSON array of issues (description, check_name,
// fingerprint, severity, location).
std::string gitlab_report(const GateResult& gate);

}  // namespace perfguard
