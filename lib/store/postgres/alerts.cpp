// The alerts tables of the shared store: applying the rules' findings (open, bump, escalate,
// resolve by itself), people's transitions, the reads perf-alerts lists and shows, and the
// health figures; as the SQLite engine does them (store/sqlite/alerts.cpp). Every change
// takes the alerts' advisory lock first (alert_rows.h).

#include <algorithm>
#include <string>

#include "store/postgres/alert_rows.h"
#include "store/postgres/postgres_engine.h"

namespace perfguard {

namespace {

constexpr std::string_view kReadWhat = "cannot read the alerts";
constexpr std::string_view kWriteWhat = "cannot store the alerts";
constexpr std::string_view kPerfguard = "perfguard";  // who a rule's own transitions are by
constexpr int kRunsKept = 100;                        // alert_runs rows kept per alert

pq::Params& add_optional_real(pq::Params& p, const std::optional<double>& v) {
  return v ? p.add(*v) : p.add_null();
}

pq::Params key_params(const AlertKey& key) {
  pq::Params p;
  p.add(to_string(key.rule)).add(key.step).add(key.repo).add(key.branch);
  return p;
}

// The writes of one batch of alert changes, inside the caller's transaction.
class AlertWriter {
 public:
  explicit AlertWriter(pq::Connection& c) : c_(c) {}

  Result<std::optional<Alert>> unresolved(const AlertKey& key) {
    auto rows = c_.exec(kReadWhat,
                        "SELECT " + std::string(kAlertColumns) +
                            " FROM alerts WHERE rule = $1 AND step = $2 AND repo = $3"
                            " AND branch = $4 AND state < 3",
                        key_params(key));
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<Alert>();
    return std::optional<Alert>(read_alert(*rows, 0));
  }

  Result<std::int64_t> insert(const Alert& a, std::int64_t evaluated_to_us) {
    pq::Params p = key_params(a.key);
    p.add(static_cast<int>(a.severity)).add(a.summary);
    add_optional_real(p, a.value);
    add_optional_real(p, a.limit);
    p.add(a.first_seen_us).add(a.host).add(evaluated_to_us);
    auto id = c_.exec(kWriteWhat,
                      "INSERT INTO alerts (rule, step, repo, branch, severity, state, summary,"
                      " value, limit_value, first_seen_us, last_seen_us, count, host,"
                      " evaluated_to_us) VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $9, 1,"
                      " $10, $11) RETURNING id",
                      p);
    if (!id) return id.error();
    return id->int64(0, 0);
  }

  // The newest run judged for `key` by any of its alerts, resolved ones included; or that of
  // the unresolved one.
  Result<std::int64_t> judged_to(const AlertKey& key, bool unresolved_only) {
    auto rows =
        c_.exec(kReadWhat,
                unresolved_only ? "SELECT evaluated_to_us FROM alerts WHERE rule = $1 AND step = $2"
                                  " AND repo = $3 AND branch = $4 AND state < 3"
                                : "SELECT coalesce(max(evaluated_to_us), 0) FROM alerts WHERE"
                                  " rule = $1 AND step = $2 AND repo = $3 AND branch = $4",
                key_params(key));
    if (!rows) return rows.error();
    return rows->size() == 0 ? std::int64_t{0} : rows->int64(0, 0);
  }

  Status judged(std::int64_t id, std::int64_t evaluated_to_us) {
    return run("UPDATE alerts SET evaluated_to_us = $2 WHERE id = $1",
               pq::Params().add(id).add(evaluated_to_us));
  }

  // A firing finding on an unresolved alert: counted, last seen now, severity raised (never
  // lowered), summary and figures the newest; its clear runs start again.
  Status bump(const Alert& a) {
    pq::Params p;
    p.add(a.id).add(a.last_seen_us).add(static_cast<int>(a.severity)).add(a.summary);
    add_optional_real(p, a.value);
    add_optional_real(p, a.limit);
    return run(
        "UPDATE alerts SET count = count + 1, last_seen_us = $2, severity = $3, summary = $4,"
        " value = $5, limit_value = $6, clear_runs = 0 WHERE id = $1",
        p);
  }

  // A clear finding on an unresolved alert: the number of clear findings in a row.
  Result<std::int64_t> count_clear(std::int64_t id) {
    auto rows = c_.exec(kWriteWhat,
                        "UPDATE alerts SET clear_runs = clear_runs + 1 WHERE id = $1"
                        " RETURNING clear_runs",
                        pq::Params().add(id));
    if (!rows) return rows.error();
    if (rows->size() != 1) return c_.error(kWriteWhat, "an alert vanished");
    return rows->int64(0, 0);
  }

  Status set_state(const Alert& a) {
    pq::Params p;
    p.add(a.id).add(static_cast<int>(a.state)).add(a.snoozed_until_us).add(a.acknowledged_by);
    p.add(a.resolved_us);
    return run(
        "UPDATE alerts SET state = $2, snoozed_until_us = $3, acknowledged_by = $4,"
        " resolved_us = $5 WHERE id = $1",
        p);
  }

  Status event(const Alert& a, std::optional<AlertState> from, std::string_view by,
               std::string_view note, std::int64_t at_us) {
    pq::Params p;
    p.add(a.id).add(at_us).add(by);
    if (from) {
      p.add(static_cast<int>(*from));
    } else {
      p.add_null();
    }
    p.add(static_cast<int>(a.state)).add(static_cast<int>(a.severity)).add(note);
    return run(
        "INSERT INTO alert_events (alert_id, at_us, \"by\", from_state, to_state, severity,"
        " note) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        p);
  }

  Status runs(std::int64_t alert_id, const std::vector<RunRef>& runs, std::int64_t now_us) {
    if (runs.empty()) return {};
    for (const RunRef& r : runs) {
      pq::Params p;
      p.add(alert_id).add(static_cast<std::int64_t>(r.trace_id)).add(r.step).add(r.started_us);
      p.add(r.duration_us).add(static_cast<int>(r.status)).add(now_us);
      if (Status s = run("INSERT INTO alert_runs (alert_id, trace_id, step, started_us,"
                         " duration_us, status, seen_us) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                         " ON CONFLICT DO NOTHING",
                         p);
          !s) {
        return s;
      }
    }
    return run(
        "DELETE FROM alert_runs WHERE alert_id = $1 AND seen_us <"
        " (SELECT seen_us FROM alert_runs WHERE alert_id = $1"
        " ORDER BY seen_us DESC LIMIT 1 OFFSET $2)",
        pq::Params().add(alert_id).add(kRunsKept - 1));
  }

  // One outbox row per channel that takes the alert's severity.
  Status notify(const Alert& a, std::string_view event, const AlertApplyOptions& options) {
    for (const NotifyChannel& channel : options.channels) {
      if (a.severity < channel.min_severity) continue;
      if (Status s = run("INSERT INTO notifications (alert_id, event, channel, created_us,"
                         " next_attempt_us) VALUES ($1, $2, $3, $4, $4)",
                         pq::Params().add(a.id).add(event).add(channel.key).add(options.now_us));
          !s) {
        return s;
      }
    }
    return {};
  }

 private:
  Status run(const std::string& sql, const pq::Params& params) {
    auto done = c_.exec(kWriteWhat, sql, params);
    if (!done) return done.error();
    return {};
  }

  pq::Connection& c_;
};

// The WHERE clause of an AlertQuery, its parameters added to `p` as they are used.
std::string query_filter(const AlertQuery& q, pq::Params& p) {
  std::string text = " FROM alerts WHERE true";
  auto next = [&] { return "$" + std::to_string(p.size()); };
  if (!q.include_resolved) text += " AND state < 3";
  if (q.min_severity) {
    p.add(static_cast<int>(*q.min_severity));
    text += " AND severity >= " + next();
  }
  // A snooze that has run out is open again.
  if (q.state == AlertState::open) {
    p.add(q.now_us);
    text += " AND (state = 0 OR (state = 2 AND snoozed_until_us <= " + next() + "))";
  } else if (q.state == AlertState::snoozed) {
    p.add(q.now_us);
    text += " AND state = 2 AND snoozed_until_us > " + next();
  } else if (q.state) {
    p.add(static_cast<int>(*q.state));
    text += " AND state = " + next();
  }
  if (!q.step.empty()) {
    p.add(q.step);
    text += " AND step = " + next();
  }
  if (!q.repo.empty()) {
    p.add(q.repo);
    text += " AND repo = " + next();
  }
  if (q.since_us) {
    p.add(*q.since_us);
    text += " AND last_seen_us >= " + next();
  }
  return text;
}

}  // namespace

Result<std::vector<AlertChange>> PostgresStore::apply_findings(
    const std::vector<AlertFinding>& findings, const AlertApplyOptions& options) {
  std::vector<AlertChange> changes;
  if (findings.empty()) return changes;
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  if (Status s = begin_locking_alerts(tx, kWriteWhat); !s) return s.error();
  AlertWriter w(c);
  for (const AlertFinding& f : findings) {
    // A run is judged once: evaluating the rules again (perf-alerts scan after a record)
    // changes nothing.
    std::int64_t newest = 0;
    for (const RunRef& run : f.runs) newest = std::max(newest, run.started_us);
    auto existing = w.unresolved(f.key);
    if (!existing) return existing.error();
    auto judged = w.judged_to(f.key, existing->has_value());
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
  if (Status s = tx.commit(kWriteWhat); !s) return s.error();
  return changes;
}

Result<std::vector<Alert>> PostgresStore::alerts(const AlertQuery& q) {
  pq::Params p;
  std::string text = "SELECT " + std::string(kAlertColumns) + query_filter(q, p) +
                     " ORDER BY severity DESC, last_seen_us DESC, id DESC";
  if (q.limit > 0) {
    p.add(q.limit);
    text += " LIMIT $" + std::to_string(p.size());
  }
  auto rows = connection_->exec(kReadWhat, text, p);
  if (!rows) return rows.error();
  std::vector<Alert> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(read_alert(*rows, i));
  return out;
}

Result<std::int64_t> PostgresStore::count_alerts(const AlertQuery& q) {
  pq::Params p;
  auto rows = connection_->exec(kReadWhat, "SELECT count(*)" + query_filter(q, p), p);
  if (!rows) return rows.error();
  return rows->int64(0, 0);
}

Result<std::optional<Alert>> PostgresStore::alert(std::int64_t id) {
  auto rows = connection_->exec(
      kReadWhat, "SELECT " + std::string(kAlertColumns) + " FROM alerts WHERE id = $1",
      pq::Params().add(id));
  if (!rows) return rows.error();
  if (rows->size() == 0) return std::optional<Alert>();
  return std::optional<Alert>(read_alert(*rows, 0));
}

Result<std::vector<AlertEvent>> PostgresStore::alert_events(std::int64_t id) {
  auto rows = connection_->exec(kReadWhat,
                                "SELECT alert_id, at_us, \"by\", from_state, to_state, severity,"
                                " note FROM alert_events WHERE alert_id = $1 ORDER BY id",
                                pq::Params().add(id));
  if (!rows) return rows.error();
  std::vector<AlertEvent> out;
  for (int i = 0; i < rows->size(); ++i) {
    AlertEvent e;
    e.alert_id = rows->int64(i, 0);
    e.at_us = rows->int64(i, 1);
    e.by = rows->text(i, 2);
    if (auto from = rows->optional_int64(i, 3)) {
      e.from = static_cast<AlertState>(std::clamp<std::int64_t>(*from, 0, 3));
    }
    e.to = static_cast<AlertState>(std::clamp<std::int64_t>(rows->int64(i, 4), 0, 3));
    e.severity = static_cast<Severity>(std::clamp<std::int64_t>(rows->int64(i, 5), 0, 2));
    e.note = rows->text(i, 6);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<AlertRun>> PostgresStore::alert_runs(std::int64_t id) {
  auto rows = connection_->exec(kReadWhat,
                                "SELECT trace_id, step, started_us, duration_us, status, seen_us"
                                " FROM alert_runs WHERE alert_id = $1"
                                " ORDER BY started_us, trace_id",
                                pq::Params().add(id));
  if (!rows) return rows.error();
  std::vector<AlertRun> out;
  for (int i = 0; i < rows->size(); ++i) {
    AlertRun r;
    r.run.trace_id = static_cast<std::uint64_t>(rows->int64(i, 0));
    r.run.step = rows->text(i, 1);
    r.run.started_us = rows->int64(i, 2);
    r.run.duration_us = rows->int64(i, 3);
    r.run.status = static_cast<StepStatus>(std::clamp<std::int64_t>(rows->int64(i, 4), 0, 4));
    r.seen_us = rows->int64(i, 5);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<AlertChange>> PostgresStore::transition(const std::vector<std::int64_t>& ids,
                                                           const AlertTransition& t) {
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  if (Status s = begin_locking_alerts(tx, kWriteWhat); !s) return s.error();
  AlertWriter w(c);
  std::vector<AlertChange> changes;
  for (std::int64_t id : ids) {
    auto found = alert(id);
    if (!found) return found.error();
    if (!*found) {
      return Error{ExitCode::usage, "no alert #" + std::to_string(id) + " in " + c.name() +
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
  if (Status s = tx.commit(kWriteWhat); !s) return s.error();
  return changes;
}

Status PostgresStore::record_health(const std::string& repo, std::int64_t measured_us,
                                    const std::vector<HealthFigureRow>& figures) {
  constexpr std::string_view kWhat = "cannot record the health figures";
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  if (Status s = tx.begin(kWhat); !s) return s;
  for (const HealthFigureRow& f : figures) {
    auto done = c.exec(kWhat,
                       "INSERT INTO health_figures (repo, name, measured_us, value)"
                       " VALUES ($1, $2, $3, $4) ON CONFLICT (repo, name, measured_us)"
                       " DO UPDATE SET value = excluded.value",
                       pq::Params().add(repo).add(f.name).add(measured_us).add(f.value));
    if (!done) return done.error();
  }
  return tx.commit(kWhat);
}

}  // namespace perfguard
