// perf-alerts show ID: one alert, the runs that made it fire, and its history.
#include <cstdio>

#include "commands.h"
#include "core/clock.h"
#include "output/json.h"

namespace perfguard::alerts_tool {

Show::Show() : Command("show", "One alert: what it is about, the runs behind it, its history") {}

void Show::add_options(CLI::App& command) {
  command.add_option("id", id, "The alert's id (perf-alerts list)")->required()->type_name("ID");
}

Result<ExitCode> Show::run(ToolSession& session) {
  auto number = parse_alert_id(id);
  if (!number) return number.error();
  auto store = open_existing_store(session);
  if (!store) return store.error();
  auto alert = store->alert(*number);
  if (!alert) return alert.error();
  if (!*alert) {
    return make_error(ExitCode::usage, "no alert #" + std::to_string(*number) + " in " +
                                           store->name() + " (perf-alerts list --all)");
  }
  auto runs = store->alert_runs(*number);
  if (!runs) return runs.error();
  auto history = store->alert_events(*number);
  if (!history) return history.error();
  const std::int64_t now = now_unix_us();

  Table runs_table;
  runs_table.columns = {"trace_id", "step", "started_at", "duration_us", "status", "seen_at"};
  for (const AlertRun& r : *runs) {
    char trace[17];
    std::snprintf(trace, sizeof trace, "%016llx", static_cast<unsigned long long>(r.run.trace_id));
    runs_table.rows.push_back({std::string(trace), r.run.step, format_timestamp(r.run.started_us),
                               r.run.duration_us, to_string(r.run.status),
                               format_timestamp(r.seen_us)});
  }
  Table history_table;
  history_table.columns = {"at", "by", "from", "to", "severity", "note"};
  for (const AlertEvent& e : *history) {
    history_table.rows.push_back({format_timestamp(e.at_us), e.by,
                                  e.from ? Cell(to_string(*e.from)) : Cell(), to_string(e.to),
                                  to_string(e.severity), e.note});
  }

  if (session.format == Format::json) {
    // One object: the alert's columns as list writes them, with `runs` and `history`.
    std::string out;
    Table one = alert_table({**alert}, now);
    out += "{";
    for (std::size_t i = 0; i < one.columns.size(); ++i) {
      if (i) out += ",";
      append_json_string(out, one.columns[i]);
      out += ":";
      one.rows[0][i].append_json(out);
    }
    for (auto [name, table] : {std::pair{"runs", &runs_table}, {"history", &history_table}}) {
      out += ",\"" + std::string(name) + "\":[";
      for (std::size_t r = 0; r < table->rows.size(); ++r) {
        out += r ? ",{" : "{";
        for (std::size_t i = 0; i < table->columns.size(); ++i) {
          if (i) out += ",";
          append_json_string(out, table->columns[i]);
          out += ":";
          table->rows[r][i].append_json(out);
        }
        out += "}";
      }
      out += "]";
    }
    std::printf("%s}\n", out.c_str());
    return ExitCode::ok;
  }
  if (session.format != Format::text) {
    write_table(stdout, session.format, alert_table({**alert}, now), "alerts");
    return ExitCode::ok;
  }
  const Alert& a = **alert;
  std::vector<std::vector<std::string>> head = {
      {"alert", "#" + std::to_string(a.id) + " " + to_string(a.severity) + ", " +
                    to_string(state_at(a, now))},
      {"rule", to_string(a.key.rule)},
      {"step", a.key.step},
      {"repository", a.key.repo},
      {"branch", a.key.branch.empty() ? "(any)" : a.key.branch},
      {"summary", a.summary},
      {"first seen", format_timestamp(a.first_seen_us)},
      {"last seen", format_timestamp(a.last_seen_us)},
      {"count", std::to_string(a.count)},
  };
  if (a.snoozed_until_us) head.push_back({"snoozed until", format_timestamp(*a.snoozed_until_us)});
  if (!a.acknowledged_by.empty()) head.push_back({"acknowledged by", a.acknowledged_by});
  if (a.resolved_us) head.push_back({"resolved", format_timestamp(*a.resolved_us)});
  std::fputs(aligned_columns(head, {false, false}).c_str(), stdout);
  if (!runs->empty()) {
    std::printf("\nruns behind it:\n");
    std::vector<std::vector<std::string>> lines;
    for (const AlertRun& r : *runs) {
      lines.push_back({"  " + format_timestamp(r.run.started_us), r.run.step,
                       format_duration(Duration::micros(r.run.duration_us)),
                       to_string(r.run.status)});
    }
    std::fputs(aligned_columns(lines, {false, false, true, false}).c_str(), stdout);
  }
  std::printf("\nhistory:\n");
  std::vector<std::vector<std::string>> lines;
  for (const AlertEvent& e : *history) {
    std::string change =
        e.from ? std::string(to_string(*e.from)) + " -> " + to_string(e.to) : std::string("opened");
    lines.push_back({"  " + format_timestamp(e.at_us), e.by, change, e.note});
  }
  std::fputs(aligned_columns(lines, {false, false, false, false}).c_str(), stdout);
  return ExitCode::ok;
}

}  // namespace perfguard::alerts_tool
