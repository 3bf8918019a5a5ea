#pragma once
// The store's alerts: what the rules found (AlertFinding) and what that did to the alerts
// table (AlertChange), the reads perf-alerts lists and shows, people's transitions, the
// outbox of notifications, and the repository health figures. The rules themselves are in
// lib/alerts; the store only keeps what they decide, one unresolved alert per key.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "trace/record.h"

namespace perfguard {

// A recorded run that made a rule fire: the record's trace id and step name identify it in
// every engine; its start, duration and status are kept with the alert (a prune may delete
// the run itself).
struct RunRef {
  std::uint64_t trace_id = 0;
  std::string step;
  std::int64_t started_us = 0;
  std::int64_t duration_us = 0;
  StepStatus status = StepStatus::ok;
};

// A run an alert keeps, and when the alert saw it.
struct AlertRun {
  RunRef run;
  std::int64_t seen_us = 0;
};

// One rule's verdict on one key at one evaluation. A firing finding opens the key's alert or
// bumps the unresolved one (escalating its severity when higher); a clear one counts towards
// the unresolved alert resolving itself.
struct AlertFinding {
  AlertKey key;
  bool firing = false;
  Severity severity = Severity::warning;
  std::string summary;
  std::optional<double> value, limit;
  std::vector<RunRef> runs;  // the runs behind it, if any
};

// Where a new, escalated or resolved alert is to be announced: a channel (`notify`, or a
// webhook's key) and the least severity it takes.
struct NotifyChannel {
  std::string key;
  Severity min_severity = Severity::warning;
};

struct AlertApplyOptions {
  std::int64_t now_us = 0;
  std::string host;
  std::int64_t resolve_after = 3;  // clear findings in a row before an alert resolves itself
  std::vector<NotifyChannel> channels;
};

// What applying the findings (or a person's transition) did to one alert.
struct AlertChange {
  enum class Kind { opened, bumped, escalated, resolved, acknowledged, snoozed, reopened };
  Kind kind = Kind::opened;
  Alert alert;  // as it is after the change
};
const char* to_string(AlertChange::Kind kind);

// Which alerts perf-alerts lists.
struct AlertQuery {
  bool include_resolved = false;
  std::optional<Severity> min_severity;
  std::optional<AlertState> state;
  std::string step;
  std::string repo;                      // empty: every repository
  std::optional<std::int64_t> since_us;  // last seen at or after
  int limit = 0;                         // 0: no limit
  std::int64_t now_us = 0;               // for state: a snooze that has run out is open
};

// A person's transition of alerts (perf-alerts ack, snooze, resolve).
struct AlertTransition {
  AlertState to = AlertState::acknowledged;
  std::string by;
  std::string note;
  std::optional<std::int64_t> until_us;  // snooze only
  std::int64_t now_us = 0;
  std::vector<NotifyChannel> channels;  // told of a resolution, as of a rule's
};

// A recorded run as the rules read it (Store::recent_runs): newest first.
struct RecentRun {
  std::uint64_t trace_id = 0;
  std::int64_t started_us = 0;
  std::int64_t duration_us = 0;
  StepStatus status = StepStatus::ok;
  std::optional<std::int64_t> threshold_us;
};

// The order of recent runs, the same from every engine and every copy of the records: the
// later start first; of two started at the same instant, the greater trace id (unsigned; in
// SQL `(trace_id < 0) DESC, trace_id DESC`), not whichever a store happened to number last.
inline bool newer(const RecentRun& a, const RecentRun& b) {
  if (a.started_us != b.started_us) return a.started_us > b.started_us;
  return a.trace_id > b.trace_id;
}

// Which runs: of one step, in one repository (and branch, unless any), started at or after
// `since_us`, newest first (`newer`), at most `limit`; found among the step's newest 2,000 runs
// in the store, whatever their place, so that a branch with a short history costs no more to
// read than one with a long history.
struct RunQuery {
  std::string step;
  std::string repo;
  std::optional<std::string> branch;  // none: every branch
  std::int64_t since_us = 0;
  int limit = 100;
};

// A notification waiting in the outbox, claimed by one sender for a while.
struct PendingNotification {
  std::int64_t id = 0;
  std::string event;  // opened, escalated, resolved, test
  std::string channel;
  int attempts = 0;  // before this one
  Alert alert;
};

// What became of one delivery attempt.
struct NotificationResult {
  bool sent = false;
  bool give_up = false;  // a permanent failure: do not retry
  std::optional<std::int64_t> retry_at_us;
  std::string error;
};

// One figure of a repository health measurement.
struct HealthFigureRow {
  std::string name;
  double value = 0;
};

}  // namespace perfguard
