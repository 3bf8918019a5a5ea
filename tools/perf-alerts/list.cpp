// perf-alerts list: the unresolved alerts (every alert with --all), most severe first.
#include <cstdio>

#include "commands.h"
#include "core/clock.h"

namespace perfguard::alerts_tool {

List::List() : Command("list", "The unresolved alerts, most severe and most recent first") {}

void List::add_options(CLI::App& command) {
  command.add_flag("--all", all, "Resolved alerts too");
  add_typed_option(command, "--severity", min_severity, severity_option(),
                   "Only alerts at or above this severity: info, warning or critical")
      ->type_name("LEVEL");
  state_option = add_typed_option(command, "--state", state, alert_state(),
                                  "Only alerts in this state: open, acknowledged, snoozed or "
                                  "resolved")
                     ->type_name("STATE");
  command.add_option("--step", step, "Only alerts on this step (or health figure)")
      ->type_name("STEP");
  add_typed_option(command, "--since", since, perfguard::since(),
                   "Only alerts last seen this recently (`24h`, `7d`) or `all`")
      ->type_name("WINDOW");
  add_typed_option(command, "--limit", limit, count(0), "At most this many alerts (0: all)")
      ->type_name("N");
  place.add_options(command);
}

Result<ExitCode> List::run(ToolSession& session) {
  auto store = open_existing_store(session);
  if (!store) return store.error();
  const std::int64_t now = now_unix_us();
  AlertQuery q;
  q.include_resolved = all || (state_option->count() && state == AlertState::resolved);
  q.min_severity = min_severity;
  if (state_option->count()) q.state = state;
  q.step = step;
  q.repo = place.repo_for(session);
  q.now_us = now;
  q.since_us = since.start_us(now);
  q.limit = limit;
  auto alerts = place.alerts(*store, q);
  if (!alerts) return alerts.error();

  if (session.format != Format::text) {
    write_table(stdout, session.format, alert_table(*alerts, now), "alerts");
    return ExitCode::ok;
  }
  if (alerts->empty()) {
    if (!session.options.quiet) {
      std::printf("%s\n", all ? "no alerts" : "no unresolved alerts (perf-alerts list --all)");
    }
    return ExitCode::ok;
  }
  std::vector<std::vector<std::string>> lines = {
      {"ID", "SEVERITY", "STATE", "RULE", "STEP", "BRANCH", "LAST SEEN", "COUNT", "SUMMARY"}};
  for (const Alert& a : *alerts) {
    lines.push_back({"#" + std::to_string(a.id), to_string(a.severity), to_string(state_at(a, now)),
                     to_string(a.key.rule), a.key.step, a.key.branch,
                     format_timestamp(a.last_seen_us).substr(0, 19) + "Z", std::to_string(a.count),
                     a.summary});
  }
  std::fputs(
      aligned_columns(lines, {true, false, false, false, false, false, false, true, false}).c_str(),
      stdout);
  return ExitCode::ok;
}

}  // namespace perfguard::alerts_tool
