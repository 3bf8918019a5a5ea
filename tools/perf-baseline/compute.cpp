// perf-baseline compute: a baseline per step from its recent completed runs, stored as the
// step's active one when it is new or moved.
#include "baseline/baseline.h"
#include "commands.h"
#include "core/clock.h"

namespace perfguard::baseline_tool {

Compute::Compute()
    : Command("compute", "Compute and store a baseline per step from its recent completed runs") {}

void Compute::add_options(CLI::App& command) {
  command.add_option("--step", step, "Only this step (default: every step)")->type_name("STEP");
  add_typed_option(command, "--window", window, positive_duration(),
                   "Runs started this long ago or later")
      ->type_name("DURATION")
      ->capture_default_str();
  add_typed_option(command, "--min-samples", min_samples, count(1), "Completed runs needed")
      ->type_name("INT")
      ->capture_default_str();
  add_typed_option(command, "--multiplier", multiplier, perfguard::multiplier(),
                   "Stored for perf-alerts: how far above the baseline is a regression")
      ->type_name("NUMBER")
      ->capture_default_str();
  add_typed_option(command, "--scope", scope,
                   choice("a scope", {"all", "repo", "branch"}, parse_baseline_scope, to_string),
                   "One baseline for all runs, per repo or branch")
      ->type_name("all|repo|branch")
      ->capture_default_str();
  add_typed_option(command, "--min-change", min_change, fraction(),
                   "Replace the active baseline only when a percentile moved more than this")
      ->type_name("PERCENT")
      ->capture_default_str();
  command.add_flag("--force", force, "Replace the active baseline whatever moved");
  add_run_filter(command, filter, /*places_only=*/true);
}

Result<ExitCode> Compute::run(ToolSession& session) {
  ComputeOptions options;
  options.step = step;
  options.window = window;
  options.scope = scope;
  options.min_change = min_change;
  options.min_samples = min_samples;
  options.multiplier = multiplier;
  options.force = force;
  options.now_us = now_unix_us();
  options.filter = filter;
  // A baseline is kept per step, repository and branch as its scope says: a filter picks
  // some of those, and never stands a part of the runs in for all of them.
  if (!filter.repo.empty() && scope == BaselineScope::all) {
    return make_error(ExitCode::usage,
                      "--repo picks the baselines of one repository: it needs --scope repo or "
                      "--scope branch");
  }
  if (!filter.branch.empty() && scope != BaselineScope::branch) {
    return make_error(ExitCode::usage,
                      "--branch picks the baselines of one branch: it needs --scope branch");
  }

  auto store = open_existing_store(session);
  if (!store) return store.error();
  auto results = compute_baselines(*store, options);
  if (!results) return results.error();
  // Too few samples is a note, not a failure: exit 0 (see perf-baseline(1)).
  if (!(session.format == Format::text && session.options.quiet)) {
    print_compute(render_context(session, options.now_us), *results, options);
  }
  return ExitCode::ok;
}

}  // namespace perfguard::baseline_tool
