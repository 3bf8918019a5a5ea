// perf-baseline slowest: the slowest runs, with the child spans that took the time.
#include "commands.h"
#include "core/clock.h"

namespace perfguard::baseline_tool {

Slowest::Slowest() : Command("slowest", "The slowest runs, with their slowest child spans") {}

void Slowest::add_options(CLI::App& command) {
  add_typed_option(command, "--limit", limit, count(1), "How many runs")
      ->type_name("INT")
      ->capture_default_str();
  add_typed_option(command, "--since", since, perfguard::since(),
                   "Runs started this long ago or later, or all")
      ->type_name("DURATION")
      ->capture_default_str();
  command.add_option("--step", step, "Only this step")->type_name("STEP");
  add_typed_option(command, "--spans", spans, count(0), "Child spans shown per run")
      ->type_name("INT")
      ->capture_default_str();
  add_run_filter(command, filter);
}

Result<ExitCode> Slowest::run(ToolSession& session) {
  auto store = open_existing_store(session);
  if (!store) return store.error();
  const std::int64_t now = now_unix_us();
  auto slowest = slowest_steps(
      *store, SlowestQuery{since.start_us_or_earliest(now), limit, step, spans, filter});
  if (!slowest) return slowest.error();
  print_slowest(render_context(session, now), *slowest, since.window());
  return ExitCode::ok;
}

}  // namespace perfguard::baseline_tool
