// perf-alerts health: the repository measured the way git-sizer does (lib/health), each
// figure against its limit with the command that helps, recorded in the store (health_trend)
// so that its growth is a trend like a step's, and the health alerts raised or cleared.

#include <cmath>
#include <cstdio>

#include "alerts/channels.h"
#include "commands.h"
#include "core/clock.h"
#include "health/health.h"
#include "output/progress.h"

namespace perfguard::alerts_tool {

namespace {

std::string figure_text(const HealthFigure& f, double value) {
  if (f.unit == "bytes") return format_size(std::llround(value));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", value);
  return (f.lower_bound ? ">=" : "") + std::string(buf);
}

// The rollbacks and recoveries of the last hour, a figure of the store rather than of git.
Result<HealthFigure> rollback_figure(Store& store, const ToolSession& session, std::int64_t now) {
  const auto& rate = session.config.alerts.rollback_rate;
  std::int64_t count = 0;
  for (const char* step : {"rollback", "recover"}) {
    RunQuery q;
    q.step = step;
    q.repo = session.context.repo;
    q.since_us = now - rate.window.us;
    q.limit = 100000;
    auto runs = store.recent_runs(q);
    if (!runs) return runs.error();
    count += static_cast<std::int64_t>(runs->size());
  }
  HealthFigure f;
  f.name = "rollbacks_last_hour";
  f.value = static_cast<double>(count);
  f.unit = "count";
  f.limit = static_cast<double>(rate.max) + 1;
  f.level = count > rate.max ? Concern::warning : Concern::ok;
  f.reference = "[alerts.rollback_rate] max (" + std::to_string(rate.max) + ")";
  f.advice = "many rollbacks in an hour: look at what keeps being rolled back";
  return f;
}

}  // namespace

Result<ExitCode> Health::run(ToolSession& session) {
  if (!session.in_repository) {
    return make_error(ExitCode::usage, "health measures a repository: run it in one (or -C DIR)");
  }
  HealthOptions options;
  options.deep = deep;
  options.limits.repository_size = session.config.alerts.health.max_size;
  options.limits.commits = session.config.alerts.health.max_commits;
  auto report = [&] {
    Progress progress(session.options.quiet || !deep);
    // Two passes, each from 0 to its end: every object's header, then the trees that can rank.
    int pass = 0;
    std::uint64_t last = 0;
    if (progress.on()) {
      options.progress = [&](std::uint64_t done, std::uint64_t total) {
        if (pass == 0 || done < last) {
          ++pass;
          progress.begin(pass == 1 ? "reading object headers" : "reading trees",
                         pass == 1 ? "objects" : "trees", total);
        }
        last = done;
        progress.update(done, total);
      };
    }
    return measure_health(session.repository.work_tree().value_or(session.repository.git_dir()),
                          options);
  }();  // the line cleared before anything is said
  if (!report) return report.error();
  const std::int64_t now = now_unix_us();

  auto store = open_store_for_alerts(session);
  if (!store) return store.error();
  std::vector<HealthFigure> figures = report->figures;
  auto rollbacks = rollback_figure(*store, session, now);
  if (!rollbacks) return rollbacks.error();
  figures.push_back(*rollbacks);

  std::vector<HealthFigureRow> rows;
  for (const HealthFigure& f : figures) rows.push_back({f.name, f.value});
  if (auto recorded = store->record_health(session.context.repo, now, rows); !recorded)
    return recorded.error();

  std::vector<AlertChange> changes;
  if (!session.paused && session.config.alerts.enabled && session.config.alerts.health.enabled) {
    std::vector<AlertFinding> findings;
    for (const HealthFigure& f : figures) {
      if (!f.limit || f.name == "rollbacks_last_hour") continue;  // that one is a rule's own
      AlertFinding finding;
      finding.key = AlertKey{AlertRuleKind::health, f.name, session.context.repo, ""};
      finding.firing = f.level == Concern::warning;
      finding.severity = session.config.alerts.health.severity;
      finding.value = f.value;
      finding.limit = f.limit;
      finding.summary = f.name + " is " + figure_text(f, f.value) + ", at or above " +
                        figure_text(f, *f.limit) + (f.fix.empty() ? "" : ": " + f.fix);
      finding.runs.push_back(RunRef{0, f.name, now, 0, StepStatus::ok});
      findings.push_back(std::move(finding));
    }
    auto applied =
        store->apply_findings(findings, apply_options(session.config, session.context.host, now));
    if (!applied) return applied.error();
    changes = std::move(*applied);
    send_notifications_later(session, changes);
  }

  if (session.format != Format::text) {
    Table t;
    t.columns = {"name", "value", "unit", "limit", "level", "reference", "fix", "lower_bound"};
    for (const HealthFigure& f : figures) {
      t.rows.push_back({f.name, f.value, f.unit, f.limit ? Cell(*f.limit) : Cell(),
                        to_string(f.level), f.reference, f.fix, f.lower_bound});
    }
    write_table(stdout, session.format, t, "figures",
                {{"repo", session.context.repo}, {"deep", deep}});
    return ExitCode::ok;
  }
  std::vector<std::vector<std::string>> lines = {{"FIGURE", "VALUE", "LIMIT", "LEVEL", "FIX"}};
  for (const HealthFigure& f : figures) {
    lines.push_back({f.name, figure_text(f, f.value), f.limit ? figure_text(f, *f.limit) : "",
                     to_string(f.level), f.fix});
  }
  std::fputs(aligned_columns(lines, {false, true, true, false, false}).c_str(), stdout);
  for (const auto* list : {&report->largest_blobs, &report->largest_trees}) {
    if (list->empty()) continue;
    std::printf("\n%s:\n", list == &report->largest_blobs ? "largest blobs" : "largest trees");
    for (const LargeObject& o : *list) {
      std::string what = list == &report->largest_blobs
                             ? format_size(static_cast<std::int64_t>(o.size))
                             : std::to_string(o.entries) + " entries";
      std::printf("  %s  %s  %s\n", o.oid.substr(0, 12).c_str(), what.c_str(),
                  printable(o.path).c_str());
    }
  }
  for (const AlertChange& c : changes) {
    std::printf("alert #%lld %s %s: %s\n", static_cast<long long>(c.alert.id), to_string(c.kind),
                to_string(c.alert.severity), printable(c.alert.summary).c_str());
  }
  return ExitCode::ok;
}

}  // namespace perfguard::alerts_tool
