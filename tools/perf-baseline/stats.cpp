// perf-baseline stats: per step, how its runs ended and how long the completed ones took.
#include "commands.h"
#include "core/clock.h"

namespace perfguard::baseline_tool {

Stats::Stats()
    : Command("stats", "Per step: runs, failures, breaches, mean, stddev, min, percentiles, max") {}

void Stats::add_options(CLI::App& command) {
  command.add_option("--step", step, "Only this step")->type_name("STEP");
  add_typed_option(command, "--since", since, perfguard::since(),
                   "Runs started this long ago or later, or all")
      ->type_name("DURATION")
      ->capture_default_str();
  add_run_filter(command, filter);
}

Result<ExitCode> Stats::run(ToolSession& session) {
  auto store = open_existing_store(session);
  if (!store) return store.error();
  const std::int64_t now = now_unix_us();
  auto stats = step_stats(*store, StatsQuery{step, since.start_us_or_earliest(now), filter});
  if (!stats) return stats.error();
  print_stats(render_context(session, now), *stats, since.window());
  return ExitCode::ok;
}

}  // namespace perfguard::baseline_tool
