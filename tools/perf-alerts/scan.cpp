// perf-alerts scan: evaluates every rule on the newest run of every step, repository and
// branch recorded lately (cron, CI). A run is judged once, so scanning again changes nothing.
#include <cstdio>

#include "alerts/scan.h"
#include "commands.h"
#include "core/clock.h"

namespace perfguard::alerts_tool {

Scan::Scan() : Command("scan", "Evaluate every rule now on the newest runs (idempotent)") {}

void Scan::add_options(CLI::App& command) {
  add_typed_option(command, "--since", since, perfguard::since(),
                   "The steps recorded this recently are judged (`7d`) or `all`")
      ->type_name("WINDOW");
}

Result<ExitCode> Scan::run(ToolSession& session) {
  if (session.paused) {
    if (!session.options.quiet) {
      std::fprintf(stderr, "perf-alerts: paused (perf-recover --emergency): no rule evaluated\n");
    }
    return ExitCode::ok;
  }
  if (!session.config.alerts.enabled) {
    session.warn("[alerts] enabled = false: no rule evaluated");
    return ExitCode::ok;
  }
  auto store = open_store_for_alerts(session);
  if (!store) return store.error();
  const std::int64_t now = now_unix_us();
  auto scanned = scan_alerts(*store, session.config, session.context.host, now,
                             since.start_us_or_earliest(now));
  if (!scanned) return scanned.error();
  const std::vector<AlertChange>* changes = &scanned->changes;
  const std::size_t judged = scanned->runs_judged;

  if (session.format != Format::text) {
    Table t = alert_table({}, now);
    t.columns.insert(t.columns.begin(), "change");
    for (const AlertChange& c : *changes) {
      std::vector<Cell> row = alert_table({c.alert}, now).rows.front();
      row.insert(row.begin(), Cell(to_string(c.kind)));
      t.rows.push_back(std::move(row));
    }
    write_table(stdout, session.format, t, "changes",
                {{"runs_judged", static_cast<std::int64_t>(judged)}});
  } else if (!session.options.quiet) {
    for (const AlertChange& c : *changes) {
      std::printf("#%lld %s %s: %s\n", static_cast<long long>(c.alert.id), to_string(c.kind),
                  to_string(c.alert.severity), printable(c.alert.summary).c_str());
    }
    std::printf("%s judged, %s\n", plural(judged, "run", "runs").c_str(),
                plural(changes->size(), "alert changed", "alerts changed").c_str());
  }
  return ExitCode::ok;
}

}  // namespace perfguard::alerts_tool
