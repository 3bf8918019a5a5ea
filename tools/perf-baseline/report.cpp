// perf-baseline report: one self-contained HTML page of charts.
#include <cstdio>

#include "commands.h"
#include "core/clock.h"
#include "output/progress.h"
#include "report/html_report.h"

namespace perfguard::baseline_tool {

Report::Report()
    : Command("report",
              "Write one self-contained HTML page of charts: durations, thresholds, baselines, "
              "breaches") {}

void Report::add_options(CLI::App& command) {
  command.add_option("-o,--output", output, "The HTML file to write (- for stdout)")
      ->type_name("FILE")
      ->required();
  add_typed_option(command, "--since", since, perfguard::since(),
                   "Runs started this long ago or later, or all")
      ->type_name("DURATION")
      ->capture_default_str();
  command.add_option("--step", step, "Only this step")->type_name("STEP");
  add_run_filter(command, filter);
}

Result<ExitCode> Report::run(ToolSession& session) {
  auto store = open_existing_store(session);
  if (!store) return store.error();
  ReportQuery query;
  query.step = step;
  query.now_us = now_unix_us();
  query.since_us = since.start_us(query.now_us);
  query.thresholds = session.config.thresholds;
  query.filter = filter;
  auto report = [&] {
    Progress progress(session.options.quiet);
    progress.begin("reading the runs for the report");
    if (progress.on()) store->while_working([&] { progress.tick(); });
    auto collected = collect_report(*store, query);
    store->while_working({});
    return collected;
  }();  // the line cleared before anything is said
  if (!report) return report.error();
  const std::string html = render_html_report(*report);
  if (output == "-") {
    std::fwrite(html.data(), 1, html.size(), stdout);
    return ExitCode::ok;
  }
  if (Status written = write_report_file(output, html); !written) return written.error();
  const auto runs = static_cast<std::int64_t>(report->run_count());
  const auto steps = static_cast<std::int64_t>(report->steps.size());
  const Table summary{
      {"output", "steps", "runs", "since"},
      {{output, steps, runs, query.since_us ? format_timestamp(*query.since_us) : "all"}}};
  print_summary(
      session, summary,
      "wrote " + output + ": " + plural(static_cast<std::size_t>(steps), "step", "steps") + ", " +
          plural(static_cast<std::size_t>(runs), "run", "runs") + in_window(since.window()));
  return ExitCode::ok;
}

}  // namespace perfguard::baseline_tool
