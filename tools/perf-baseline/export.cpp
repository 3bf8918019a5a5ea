// perf-baseline export: the recorded steps as jsonl, csv, Prometheus text or OTLP/JSON.
#include "commands.h"
#include "core/clock.h"

namespace perfguard::baseline_tool {

Export::Export()
    : Command("export",
              "Write the recorded steps as jsonl, csv, Prometheus text or OTLP/JSON traces") {}

void Export::add_options(CLI::App& command) {
  add_typed_option(command, "--format", format,
                   choice("an export format", {"jsonl", "csv", "prometheus", "otlp"},
                          parse_export_format, to_string),
                   "jsonl, csv, prometheus (for node_exporter's textfile collector) or otlp")
      ->type_name("FORMAT")
      ->capture_default_str();
  add_typed_option(command, "--since", since, perfguard::since(),
                   "Only steps started this long ago or later, or all")
      ->type_name("DURATION")
      ->capture_default_str();
  command.add_option("--step", step, "Only this step")->type_name("STEP");
  command
      .add_option("-o,--output", output,
                  "Write FILE (replaced whole, never seen half-written) instead of stdout")
      ->type_name("FILE");
  add_run_filter(command, filter);
}

Result<ExitCode> Export::run(ToolSession& session) {
  ExportRequest request;
  request.format = format;
  request.since_us = since.start_us(now_unix_us());
  request.step = step;
  request.filter = filter;
  request.output = output;
  auto store = Store::open(session.store_options(/*create=*/false));
  if (!store) return store.error();
  auto count = export_records(*store, request);
  if (!count) return count.error();
  if (!output.empty() && output != "-") {
    session.info("wrote " + plural(*count, "step", "steps") + " to " + output);
  }
  return ExitCode::ok;
}

}  // namespace perfguard::baseline_tool
