// The alerts tables: applying the rules' findings (open, bump, escalate, resolve by itself),
// people's transitions, the reads perf-alerts lists and shows, and the health figures.
// Severity and state are stored as their enum's number (schema.cpp, version 6).

#include <algorithm>
#include <string>

#include "store/sqlite/alert_rows.h"
#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

namespace {

using sql::Statement;

constexpr std::string_view kReadWhat = "cannot read the alerts";
constexpr std::string_view kWriteWhat = "cannot store the alerts";
constexpr std::string_view kPerfguard = "perfguard";  // who a rule's own transitions are by
constexpr int kRunsKept = 100;                        // alert_runs rows kept per alert

void bind_optional_real(sqlite3_stmt* s, int index, const std::optional<double>& v) {
  if (v) {
    sqlite3_bind_double(s, index, *v);
  } else {
    sqlite3_bind_null(s, index);
  }
}

// The statements of one batch of alert writes, inside the caller's transaction.
class AlertWriter {
 public:
  AlertWriter(sqlite3* db, const std::filesystem::path& path) : db_(db), path_(path) {}

  Result<std::optional<Alert>> unresolved(const AlertKey& key) {
    sql::Reused find(db_, find_,
                     "SELECT " + std::string(kAlertColumns) +
                         " FROM alerts WHERE rule = ?1 AND step = ?2 AND repo = ?3"
                         " AND branch = ?4 AND state < 3");
    if (!find) return sql::error(db_, path_, kReadWhat);
    sqlite3_stmt* s = find.get();
    sql::bind_text(s, 1, to_string(key.rule));
    sql::bind_text(s, 2, key.step);
    sql::bind_text(s, 3, key.repo);
    sql::bind_text(s, 4, key.branch);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return std::optional<Alert>(read_alert(s));
    if (rc != SQLITE_DONE) return sql::error(db_, path_, kReadWhat);
    return std::optional<Alert>();
  }

  Result<std::int64_t> insert(const Alert& a, std::int64_t evaluated_to_us) {
    sql::Reused s(db_, insert_,
                  "INSERT INTO alerts (rule, step, repo, branch, severity, state, summary, value,"
                  " limit_value, first_seen_us, last_seen_us, count, host, evaluated_to_us)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?9, ?9, 1, ?10, ?11)");
    if (!s) return sql::error(db_, path_, kWriteWhat);
    sql::bind_text(s.get(), 1, to_string(a.key.rule));
    sql::bind_text(s.get(), 2, a.key.step);
    sql::bind_text(s.get(), 3, a.key.repo);
    sql::bind_text(s.get(), 4, a.key.branch);
    sqlite3_bind_int(s.get(), 5, static_cast<int>(a.severity));
    sql::bind_text(s.get(), 6, a.summary);
    bind_optional_real(s.get(), 7, a.value);
    bind_optional_real(s.get(), 8, a.limit);
    sqlite3_bind_int64(s.get(), 9, a.first_seen_us);
    sql::bind_text(s.get(), 10, a.host);
    sqlite3_bind_int64(s.get(), 11, evaluated_to_us);
    if (sqlite3_step(s.get()) != SQLITE_DONE) return sql::error(db_, path_, kWriteWhat);
    return sqlite3_last_insert_rowid(db_);
  }

  // The newest run judged for `key` by any of its alerts, resolved ones included; and that
  // of the unresolved one.
  Result<std::int64_t> judged_to(const AlertKey& key, bool unresolved_only) {
    sql::Reused s(db_, judged_to_[unresolved_only],
                  unresolved_only ? "SELECT evaluated_to_us FROM alerts WHERE rule = ?1 AND"
                                    " step = ?2 AND repo = ?3 AND branch = ?4 AND state < 3"
                                  : "SELECT max(evaluated_to_us) FROM alerts WHERE rule = ?1 AND"
                                    " step = ?2 AND repo = ?3 AND branch = ?4");
    if (!s) return sql::error(db_, path_, kReadWhat);
    sql::bind_text(s.get(), 1, to_string(key.rule));
    sql::bind_text(s.get(), 2, key.step);
    sql::bind_text(s.get(), 3, key.repo);
    sql::bind_text(s.get(), 4, key.branch);
    int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) return std::int64_t{0};
    if (rc != SQLITE_ROW) return sql::error(db_, path_, kReadWhat);
    return sqlite3_column_int64(s.get(), 0);
  }

  Status judged(std::int64_t id, std::int64_t evaluated_to_us) {
    sql::Reused s(db_, judged_, "UPDATE alerts SET evaluated_to_us = ?2 WHERE id = ?1");
    if (!s) return sql::error(db_, path_, kWriteWhat);
    sqlite3_bind_int64(s.get(), 1, id);
    sqlite3_bind_int64(s.get(), 2, evaluated_to_us);
    if (sqlite3_step(s.get()) != SQLITE_DONE) return sql::error(db_, path_, kWriteWhat);
    return {};
  }

  // A firing finding on an unresolved alert: counted, last seen now, severity raised (never
  // lowered), summary and figures the newest; its clear runs start again.
  Status bump(const Alert& a) {
    sql::Reused s(db_, bump_,
                  "UPDATE alerts SET count = count + 1, last_seen_us = ?2,"
                  " severity = ?3, summary = ?4, value = ?5, limit_value = ?6,"
                  " clear_runs = 0 WHERE id = ?1");
    if (!s) return sql::error(db_, path_, kWriteWhat);
    sqlite3_bind_int64(s.get(), 1, a.id);
    sqlite3_bind_int64(s.get(), 2, a.last_seen_us);
    sqlite3_bind_int(s.get(), 3, static_cast<int>(a.severity));
    sql::bind_text(s.get(), 4, a.summary);
    bind_optional_real(s.get(), 5, a.value);
    bind_optional_real(s.get(), 6, a.limit);
    if (sqlite3_step(s.get()) != SQLITE_DONE) return sql::error(db_, path_, kWriteWhat);
    return {};
  }

  // A clear finding on an unresolved alert: the number of clear findings in a row.
  Result<std::int64_t> count_clear(std::int64_t id) {
    sql::Reused s(
        db_, count_clear_,
        "UPDATE alerts SET clear_runs = clear_runs + 1 WHERE id = ?1 RETURNING clear_runs");
    if (!s) return sql::error(db_, path_, kWriteWhat);
    sqlite3_bind_int64(s.get(), 1, id);
    if (sqlite3_step(s.get()) != SQLITE_ROW) return sql::error(db_, path_, kWriteWhat);
    return sqlite3_column_int64(s.get(), 0);
  }

  Status set_state(const Alert& a) {
    sql::Reused s(db_, set_state_,
                  "UPDATE alerts SET state = ?2, snoozed_until_us = ?3,"
                  " acknowledged_by = ?4, resolved_us = ?5 WHERE id = ?1");
    if (!s) return sql::error(db_, path_, kWriteWhat);
    sqlite3_bind_int64(s.get(), 1, a.id);
    sqlite3_bind_int(s.get(), 2, static_cast<int>(a.state));
    sql::bind_optional(s.get(), 3, a.snoozed_until_us);
    sql::bind_text(s.get(), 4, a.acknowledged_by);
    sql::bind_optional(s.get(), 5, a.resolved_us);
    if (sqlite3_step(s.get()) != SQLITE_DONE) return sql::error(db_, path_, kWriteWhat);
    return {};
  }

  Status event(const Alert& a, std::optional<AlertState> from, std::string_view by,
               std::string_view note, std::int64_t at_us) {
    sql::Reused insert(db_, insert_event_,
                       "INSERT INTO alert_events (alert_id, at_us, by, from_state,"
                       " to_state, severity, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!insert) return sql::error(db_, path_, kWriteWhat);
    sqlite3_stmt* s = insert.get();
    sqlite3_bind_int64(s, 1, a.id);
    sqlite3_bind_int64(s, 2, at_us);
    sql::bind_text(s, 3, by);
    if (from) {
      sqlite3_bind_int(s, 4, static_cast<int>(*from));
    } else {
      sqlite3_bind_null(s, 4);
    }
    sqlite3_bind_int(s, 5, static_cast<int>(a.state));
    sqlite3_bind_int(s, 6, static_cast<int>(a.severity));
    sql::bind_text(s, 7, note);
    if (sqlite3_step(s) != SQLITE_DONE) return sql::error(db_, path_, kWriteWhat);
    return {};
  }

  Status runs(std::int64_t alert_id, const std::vector<RunRef>& runs, std::int64_t now_us) {
    if (runs.empty()) return {};
    sql::Reused s(db_, insert_runs_,
                  "INSERT OR IGNORE INTO alert_runs (alert_id, trace_id, step,"
                  " started_us, duration_us, status, seen_us)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!s) return sql::error(db_, path_, kWriteWhat);
    for (const RunRef& run : runs) {
      sqlite3_reset(s.get());
      sqlite3_bind_int64(s.get(), 1, alert_id);
      sqlite3_bind_int64(s.get(), 2, static_cast<sqlite3_int64>(run.trace_id));
      sql::bind_text(s.get(), 3, run.step);
      sqlite3_bind_int64(s.get(), 4, run.started_us);
      sqlite3_bind_int64(s.get(), 5, run.duration_us);
      sqlite3_bind_int(s.get(), 6, static_cast<int>(run.status));
      sqlite3_bind_int64(s.get(), 7, now_us);
      if (sqlite3_step(s.get()) != SQLITE_DONE) return sql::error(db_, path_, kWriteWhat);
    }
    sql::Reused trim(db_, trim_runs_,
                     "DELETE FROM alert_runs WHERE alert_id = ?1 AND seen_us <"
                     " (SELECT seen_us FROM alert_runs WHERE alert_id = ?1"
                     " ORDER BY seen_us DESC LIMIT 1 OFFSET ?2)");
    if (!trim) return sql::error(db_, path_, kWriteWhat);
    sqlite3_bind_int64(trim.get(), 1, alert_id);
    sqlite3_bind_int(trim.get(), 2, kRunsKept - 1);
    if (sqlite3_step(trim.get()) != SQLITE_DONE) return sql::error(db_, path_, kWriteWhat);
    return {};
  }

  // One outbox row per channel that takes the alert's severity.
  Status notify(const Alert& a, std::string_view event, const AlertApplyOptions& options) {
    for (const NotifyChannel& channel : options.channels) {
      if (a.severity < channel.min_severity) continue;
      sql::Reused s(db_, notify_,
                    "INSERT INTO notifications (alert_id, event, channel, created_us,"
                    " next_attempt_us) VALUES (?1, ?2, ?3, ?4, ?4)");
      if (!s) return sql::error(db_, path_, kWriteWhat);
      sqlite3_bind_int64(s.get(), 1, a.id);
      sql::bind_text(s.get(), 2, event);
      sql::bind_text(s.get(), 3, channel.key);
      sqlite3_bind_int64(s.get(), 4, options.now_us);
      if (sqlite3_step(s.get()) != SQLITE_DONE) return sql::error(db_, path_, kWriteWhat);
    }
    return {};
  }

 private:
  sqlite3* db_;
  const std::filesystem::path& path_;
  // Kept for the next finding of the batch (sql::Reused).
  Statement find_, insert_, judged_to_[2], judged_, bump_, count_clear_, set_state_, insert_event_,
      insert_runs_, trim_runs_, notify_;
};

}  // namespace

Result<std::vector<AlertChange>> SqliteStore::apply_findings(
    const std::vector<AlertFinding>& findings, const AlertApplyOptions& options) {
  std::vector<AlertChange> changes;
  if (findings.empty()) return changes;
  sql::WriteTransaction tx(db_, writers_);
  if (!tx.begin()) return sql::error(db_, path_, kWriteWhat);
  AlertWriter w(db_, path_);
  for (const AlertFinding& f : findings) {
    // A run is judged once: evaluating the rules again (perf-alerts scan after a record)
    // changes nothing.
    std::int64_t newest = 0;
    for (const RunRef& run : f.runs) newest = std::max(newest, run.started_us);
    auto existing = w.unresolved(f.key);
    if (!existing) return existing.error();
    auto judged = w.judged_to(f.key, *existing ? true : false);
    if (!judged) return judged.error();
    if (!f.runs.empty() && newest <= *judged) continue;
    if (*existing) {
      if (auto s = w.judged((*existing)->id, newest); !s) return s.error();
    }
    if (f.firing && !*existing) {
      Alert a;
      a.key = f.key;
      a.severity = f.severity;
      a.summary = f.summary;
      a.value = f.value;
      a.limit = f.limit;
      a.first_seen_us = a.last_seen_us = options.now_us;
      a.host = options.host;
      auto id = w.insert(a, newest);
      if (!id) return id.error();
      a.id = *id;
      if (auto s = w.event(a, std::nullopt, kPerfguard, a.summary, options.now_us); !s)
        return s.error();
      if (auto s = w.runs(a.id, f.runs, options.now_us); !s) return s.error();
      if (auto s = w.notify(a, "opened", options); !s) return s.error();
      changes.push_back({AlertChange::Kind::opened, std::move(a)});
    } else if (f.firing) {
      Alert a = std::move(**existing);
      bool escalated = f.severity > a.severity;
      a.severity = std::max(a.severity, f.severity);
      a.summary = f.summary;
      a.value = f.value;
      a.limit = f.limit;
      a.last_seen_us = options.now_us;
      a.count += 1;
      if (auto s = w.bump(a); !s) return s.error();
      if (auto s = w.runs(a.id, f.runs, options.now_us); !s) return s.error();
      if (escalated) {
        // An acknowledgement or a snooze was for the lesser severity: it asks again.
        std::optional<AlertState> from = a.state;
        a.state = AlertState::open;
        a.snoozed_until_us.reset();
        a.acknowledged_by.clear();
        if (auto s = w.set_state(a); !s) return s.error();
        if (auto s = w.event(a, from, kPerfguard, "escalated: " + a.summary, options.now_us); !s)
          return s.error();
        if (auto s = w.notify(a, "escalated", options); !s) return s.error();
      }
      changes.push_back(
          {escalated ? AlertChange::Kind::escalated : AlertChange::Kind::bumped, std::move(a)});
    } else if (*existing) {
      Alert a = std::move(**existing);
      auto clear = w.count_clear(a.id);
      if (!clear) return clear.error();
      if (*clear < options.resolve_after) continue;
      std::optional<AlertState> from = a.state;
      a.state = AlertState::resolved;
      a.resolved_us = options.now_us;
      a.snoozed_until_us.reset();
      if (auto s = w.set_state(a); !s) return s.error();
      std::string note = "cleared for " + std::to_string(*clear) +
                         (*clear == 1 ? " evaluation" : " evaluations in a row");
      if (auto s = w.event(a, from, kPerfguard, note, options.now_us); !s) return s.error();
      if (auto s = w.notify(a, "resolved", options); !s) return s.error();
      changes.push_back({AlertChange::Kind::resolved, std::move(a)});
    }
  }
  if (!tx.commit()) return sql::error(db_, path_, kWriteWhat);
  return changes;
}

namespace {

// The WHERE clause of an AlertQuery (parameters ?1 to ?5 and ?7; see bind_query).
std::string query_filter(const AlertQuery& q) {
  std::string text = " FROM alerts WHERE 1";
  if (!q.include_resolved) text += " AND state < 3";
  if (q.min_severity) text += " AND severity >= ?1";
  // A snooze that has run out is open again (?7 is now).
  if (q.state == AlertState::open) {
    text += " AND (state = 0 OR (state = 2 AND snoozed_until_us <= ?7))";
  } else if (q.state == AlertState::snoozed) {
    text += " AND state = 2 AND snoozed_until_us > ?7";
  } else if (q.state) {
    text += " AND state = ?2";
  }
  if (!q.step.empty()) text += " AND step = ?3";
  if (!q.repo.empty()) text += " AND repo = ?4";
  if (q.since_us) text += " AND last_seen_us >= ?5";
  return text;
}

void bind_query(sqlite3_stmt* s, const AlertQuery& q) {
  if (q.min_severity) sqlite3_bind_int(s, 1, static_cast<int>(*q.min_severity));
  if (q.state) sqlite3_bind_int(s, 2, static_cast<int>(*q.state));
  sql::bind_text(s, 3, q.step);
  sql::bind_text(s, 4, q.repo);
  if (q.since_us) sqlite3_bind_int64(s, 5, *q.since_us);
  if (q.limit > 0) sqlite3_bind_int(s, 6, q.limit);
  if (q.state) sqlite3_bind_int64(s, 7, q.now_us);
}

}  // namespace

Result<std::vector<Alert>> SqliteStore::alerts(const AlertQuery& q) {
  // Unresolved alerts, most severe and most recent first, come in the order of the partial
  // index alerts_by_rank: a LIMIT stops early however many there are.
  std::string text = "SELECT " + std::string(kAlertColumns) + query_filter(q) +
                     " ORDER BY severity DESC, last_seen_us DESC, id DESC";
  if (q.limit > 0) text += " LIMIT ?6";
  sql::ReadTransaction tx(db_);
  Statement s = sql::prepare(db_, text);
  if (!tx.ok() || !s) return sql::error(db_, path_, kReadWhat);
  bind_query(s.get(), q);
  std::vector<Alert> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(read_alert(s.get()));
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kReadWhat);
  return out;
}

Result<std::int64_t> SqliteStore::count_alerts(const AlertQuery& q) {
  // Unresolved alerts of every state but snoozed are counted from alert_counts, whatever
  // their number: whether a snooze has run out depends on now, so those are counted row by
  // row through alerts_snoozed. Any other question reads the alerts themselves.
  std::string text = "SELECT count(*)" + query_filter(q);
  const bool counted = !q.include_resolved && q.step.empty() && !q.since_us &&
                       q.state != AlertState::snoozed && q.state != AlertState::resolved;
  if (counted) {
    std::string where = " WHERE 1";
    if (q.min_severity) where += " AND severity >= ?1";
    if (!q.repo.empty()) where += " AND repo = ?4";
    text = "SELECT coalesce(sum(n), 0)";
    if (q.state == AlertState::open) {
      text +=
          " + (SELECT count(*) FROM alerts" + where + " AND state = 2 AND snoozed_until_us <= ?7)";
      where += " AND state = 0";
    } else if (q.state) {
      where += " AND state = ?2";
    }
    text += " FROM alert_counts" + where;
  }
  Statement s = sql::prepare(db_, text);
  if (!s) return sql::error(db_, path_, kReadWhat);
  bind_query(s.get(), q);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return sql::error(db_, path_, kReadWhat);
  return sqlite3_column_int64(s.get(), 0);
}

Result<std::optional<Alert>> SqliteStore::alert(std::int64_t id) {
  Statement s =
      sql::prepare(db_, "SELECT " + std::string(kAlertColumns) + " FROM alerts WHERE id = ?1");
  if (!s) return sql::error(db_, path_, kReadWhat);
  sqlite3_bind_int64(s.get(), 1, id);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return std::optional<Alert>(read_alert(s.get()));
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kReadWhat);
  return std::optional<Alert>();
}

Result<std::vector<AlertEvent>> SqliteStore::alert_events(std::int64_t id) {
  Statement s = sql::prepare(db_,
                             "SELECT alert_id, at_us, by, from_state, to_state, severity, note"
                             " FROM alert_events WHERE alert_id = ?1 ORDER BY id");
  if (!s) return sql::error(db_, path_, kReadWhat);
  sqlite3_bind_int64(s.get(), 1, id);
  std::vector<AlertEvent> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    AlertEvent e;
    e.alert_id = sqlite3_column_int64(s.get(), 0);
    e.at_us = sqlite3_column_int64(s.get(), 1);
    e.by = sql::column_text(s.get(), 2);
    if (!sql::column_is_null(s.get(), 3))
      e.from = static_cast<AlertState>(std::clamp(sqlite3_column_int(s.get(), 3), 0, 3));
    e.to = static_cast<AlertState>(std::clamp(sqlite3_column_int(s.get(), 4), 0, 3));
    e.severity = static_cast<Severity>(std::clamp(sqlite3_column_int(s.get(), 5), 0, 2));
    e.note = sql::column_text(s.get(), 6);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kReadWhat);
  return out;
}

Result<std::vector<AlertRun>> SqliteStore::alert_runs(std::int64_t id) {
  Statement s = sql::prepare(db_,
                             "SELECT trace_id, step, started_us, duration_us, status, seen_us"
                             " FROM alert_runs WHERE alert_id = ?1 ORDER BY started_us, trace_id");
  if (!s) return sql::error(db_, path_, kReadWhat);
  sqlite3_bind_int64(s.get(), 1, id);
  std::vector<AlertRun> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    AlertRun r;
    r.run.trace_id = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 0));
    r.run.step = sql::column_text(s.get(), 1);
    r.run.started_us = sqlite3_column_int64(s.get(), 2);
    r.run.duration_us = sqlite3_column_int64(s.get(), 3);
    r.run.status = static_cast<StepStatus>(std::clamp(sqlite3_column_int(s.get(), 4), 0, 4));
    r.seen_us = sqlite3_column_int64(s.get(), 5);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kReadWhat);
  return out;
}

Result<std::vector<AlertChange>> SqliteStore::transition(const std::vector<std::int64_t>& ids,
                                                         const AlertTransition& t) {
  sql::WriteTransaction tx(db_, writers_);
  if (!tx.begin()) return sql::error(db_, path_, kWriteWhat);
  AlertWriter w(db_, path_);
  std::vector<AlertChange> changes;
  for (std::int64_t id : ids) {
    auto found = alert(id);
    if (!found) return found.error();
    if (!*found) {
      return Error{ExitCode::usage, "no alert #" + std::to_string(id) + " in " + path_.string() +
                                        " (perf-alerts list --all)"};
    }
    Alert a = std::move(**found);
    if (a.state == AlertState::resolved) {
      return Error{ExitCode::usage, "alert #" + std::to_string(id) + " is resolved already"};
    }
    std::optional<AlertState> from = a.state;
    a.state = t.to;
    AlertChange::Kind kind = AlertChange::Kind::acknowledged;
    if (t.to == AlertState::acknowledged) {
      a.acknowledged_by = t.by;
      a.snoozed_until_us.reset();
    } else if (t.to == AlertState::snoozed) {
      a.snoozed_until_us = t.until_us;
      a.acknowledged_by.clear();
      kind = AlertChange::Kind::snoozed;
    } else if (t.to == AlertState::resolved) {
      a.resolved_us = t.now_us;
      a.snoozed_until_us.reset();
      kind = AlertChange::Kind::resolved;
    } else {
      a.snoozed_until_us.reset();
      a.acknowledged_by.clear();
      kind = AlertChange::Kind::reopened;
    }
    if (auto s = w.set_state(a); !s) return s.error();
    if (auto s = w.event(a, from, t.by, t.note, t.now_us); !s) return s.error();
    if (t.to == AlertState::resolved) {
      AlertApplyOptions told;
      told.now_us = t.now_us;
      told.channels = t.channels;
      if (auto s = w.notify(a, "resolved", told); !s) return s.error();
    }
    changes.push_back({kind, std::move(a)});
  }
  if (!tx.commit()) return sql::error(db_, path_, kWriteWhat);
  return changes;
}

Status SqliteStore::record_health(const std::string& repo, std::int64_t measured_us,
                                  const std::vector<HealthFigureRow>& figures) {
  sql::WriteTransaction tx(db_, writers_);
  if (!tx.begin()) return sql::error(db_, path_, "cannot record the health figures");
  Statement s = sql::prepare(db_,
                             "INSERT OR REPLACE INTO health_figures (repo, name, measured_us,"
                             " value) VALUES (?1, ?2, ?3, ?4)");
  if (!s) return sql::error(db_, path_, "cannot record the health figures");
  for (const HealthFigureRow& f : figures) {
    sqlite3_reset(s.get());
    sql::bind_text(s.get(), 1, repo);
    sql::bind_text(s.get(), 2, f.name);
    sqlite3_bind_int64(s.get(), 3, measured_us);
    sqlite3_bind_double(s.get(), 4, f.value);
    if (sqlite3_step(s.get()) != SQLITE_DONE)
      return sql::error(db_, path_, "cannot record the health figures");
  }
  if (!tx.commit()) return sql::error(db_, path_, "cannot record the health figures");
  return {};
}

}  // namespace perfguard
