// perf-baseline trend: per day or hour, the runs of each step and their percentiles.
#include "commands.h"
#include "core/clock.h"

namespace perfguard::baseline_tool {

Trend::Trend() : Command("trend", "Per day or hour: runs, mean, p50, p95, p99, with a chart") {}

void Trend::add_options(CLI::App& command) {
  command.add_option("--step", step, "Only this step")->type_name("STEP");
  add_typed_option(command, "--days", days, count(1), "Today and the days before it (UTC)")
      ->type_name("INT")
      ->capture_default_str();
  add_typed_option(command, "--by", by,
                   choice("a period", {"day", "hour"}, parse_trend_period, to_string),
                   "One row per day or per hour")
      ->type_name("day|hour")
      ->capture_default_str();
  add_run_filter(command, filter);
}

Result<ExitCode> Trend::run(ToolSession& session) {
  auto store = open_existing_store(session);
  if (!store) return store.error();
  TrendQuery query{step, days, by, now_unix_us(), filter};
  auto points = step_trend(*store, query);
  if (!points) return points.error();
  print_trend(render_context(session, query.now_us), *points, query);
  return ExitCode::ok;
}

}  // namespace perfguard::baseline_tool
