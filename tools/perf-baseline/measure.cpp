// perf-baseline measure: synthetic runs of the steps in a throwaway clone.
#include <cstdio>

#include "baseline/measure.h"
#include "commands.h"
#include "output/progress.h"

namespace perfguard::baseline_tool {

Measure::Measure()
    : Command("measure",
              "Record synthetic runs of the steps in a throwaway clone, leaving your work "
              "untouched") {}

void Measure::add_options(CLI::App& command) {
  add_typed_option(command, "--runs", runs, count(1), "How many runs")
      ->type_name("INT")
      ->capture_default_str();
  command.add_option("--steps", steps, "The steps to record: commit, rollback, validate")
      ->type_name("STEP,…")
      ->delimiter(',')
      ->capture_default_str();
  command.add_flag("--warn-only", warn_only, "Record breaches but exit 0 for them");
  // Checked once the list is whole: each name once, in the order given, at least one.
  command.callback([this] {
    auto chosen = parse_measure_steps(steps);
    if (!chosen) throw CLI::ValidationError(chosen.error().message);
    steps = *chosen;
  });
}

Result<ExitCode> Measure::run(ToolSession& session) {
  if (Status local = local_store_only(session, "measure"); !local) return local.error();
  if (!session.in_repository) {
    return make_error(ExitCode::usage,
                      "measure runs the steps in a copy of a repository: run it inside one or "
                      "pass -C DIR");
  }
  MeasureOptions options;
  options.runs = runs;
  options.steps = steps;
  options.thresholds = session.config.thresholds;
  options.timeouts = session.config.timeouts;
  options.warn_only = warn_only;
  options.tool = session.tool;
  session.info("measuring " + std::to_string(runs) + " runs in a throwaway clone under " +
               measure_parent(session.repository).string());
  auto measured = [&] {
    Progress progress(session.options.quiet);
    progress.begin("measuring in a throwaway clone", "runs", static_cast<std::uint64_t>(runs));
    options.record = [&](std::vector<StepRecord>& records) {
      progress.clear();  // what recording may warn of goes on a line of its own
      return record_steps(session, records, ExitCode::ok);
    };
    if (progress.on()) {
      options.progress = [&](int done, int) { progress.update(static_cast<std::uint64_t>(done)); };
    }
    return run_measure(session.repository, options);
  }();  // the line cleared before anything is said
  if (!measured) return measured.error();
  if (!measured->git_error.empty()) session.error("in the throwaway clone: " + measured->git_error);
  print_steps(session, measured->records, measured->code);
  const std::string done = plural(static_cast<std::size_t>(measured->runs_done), "run", "runs");
  if (session.format == Format::text && !session.options.quiet) {
    std::string names;
    for (const auto& s : options.steps) names += (names.empty() ? "" : ", ") + s;
    std::printf("recorded %s of %s with synthetic=true; the throwaway clone is removed\n",
                done.c_str(), names.c_str());
  }
  if (measured->code == ExitCode::interrupted) {
    session.error("interrupted after " + done + "; the throwaway clone is removed");
  }
  ship_later(session);
  return measured->code;
}

}  // namespace perfguard::baseline_tool
