// perf-baseline: baselines, statistics, trends and the slowest runs, from the recorded steps.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include <unistd.h>

#include "baseline/baseline.h"
#include "baseline/measure.h"
#include "baseline/queries.h"
#include "baseline/render.h"
#include "cli/common.h"
#include "core/clock.h"
#include "exchange/exchange.h"
#include "git/git.h"
#include "output/json.h"
#include "report/html_report.h"
#include "store/step_reads.h"

using namespace perfguard;

namespace {

struct ComputeArgs {
  std::string step, window = "7d", scope = "all", min_change = "5%";
  std::int64_t min_samples = 10;
  std::string multiplier = "2";
  bool force = false;
};

struct StatsArgs {
  std::string step, since = "7d";
};

struct TrendArgs {
  std::string step, by = "day";
  int days = 30;
};

struct SlowestArgs {
  std::string step, since = "24h";
  int limit = 20;
  int spans = 3;
};

// A window such as `7d`; `all` for no limit, which is returned as 0. A zero or negative
// window is an error: `0s` would select nothing, and reading it as "all" surprised people.
Result<Duration> window_flag(const std::string& name, const std::string& text) {
  if (text == "all") return Duration{};
  auto d = parse_duration(text);
  if (!d) return make_error(ExitCode::usage, name + ": " + d.error().message + ", or all");
  if (d->us <= 0) {
    return make_error(ExitCode::usage, name + ": '" + text +
                                           "' is not a window: it must be positive "
                                           "(like 7d), or all for every run");
  }
  return *d;
}

// The largest --multiplier: a regression 1000 times the baseline is no threshold at all.
constexpr double kMaxMultiplier = 1000;

// `5%` or `0.05`.
Result<double> fraction_flag(const std::string& name, const std::string& text) {
  std::string number = text;
  bool percent = !number.empty() && number.back() == '%';
  if (percent) number.pop_back();
  char* end = nullptr;
  double v = std::strtod(number.c_str(), &end);
  if (number.empty() || *end || !std::isfinite(v) || v < 0 || (!percent && v > 1)) {
    return make_error(ExitCode::usage,
                      name + ": '" + text + "' is not a fraction: write it as 5% or 0.05");
  }
  return percent ? v / 100 : v;
}

// The store, which must exist: reading never creates one.
Result<Store> open_store(const ToolSession& session) {
  auto store = Store::open({session.store_path(), session.config.busy_timeout, false});
  if (!store) return store.error();
  // Steps added with plain SQL are rolled up first; a read-only store is read as it is.
  if (Status rolled = store->catch_up_rollups(); !rolled) {
    session.warn(rolled.error().message + "; steps added since the last roll-up are left out");
  }
  return store;
}

RenderContext render_context(const ToolSession& session, std::int64_t now) {
  return {stdout, session.format, unicode_charts(stdout), now};
}

int compute_command(ToolSession& session, const ComputeArgs& args) {
  ComputeOptions options;
  options.step = args.step;
  auto window = window_flag("--window", args.window);
  if (!window) return report_error(session.tool, window.error());
  auto scope = parse_baseline_scope(args.scope);
  if (!scope) {
    return report_error(session.tool,
                        make_error(ExitCode::usage, "--scope: '" + args.scope +
                                                        "' is not a scope: all, repo or branch"));
  }
  auto min_change = fraction_flag("--min-change", args.min_change);
  if (!min_change) return report_error(session.tool, min_change.error());
  if (window->us == 0 || args.min_samples < 1) {
    return report_error(session.tool,
                        make_error(ExitCode::usage, "--window and --min-samples must be positive"));
  }
  // strtod reads `inf`, `nan` and `1e999` as numbers: only finite ones in range pass.
  char* end = nullptr;
  const double multiplier = std::strtod(args.multiplier.c_str(), &end);
  if (args.multiplier.empty() || *end || !std::isfinite(multiplier) || !(multiplier > 0) ||
      multiplier > kMaxMultiplier) {
    return report_error(session.tool,
                        make_error(ExitCode::usage, "--multiplier: '" + args.multiplier +
                                                        "' is not a multiplier: a finite number "
                                                        "above 0 and at most 1000, like 2 or 1.5"));
  }
  options.window = *window;
  options.scope = *scope;
  options.min_change = *min_change;
  options.min_samples = args.min_samples;
  options.multiplier = multiplier;
  options.force = args.force;
  options.now_us = now_unix_us();

  auto store = open_store(session);
  if (!store) return report_error(session.tool, store.error());
  auto results = compute_baselines(*store, options);
  if (!results) return report_error(session.tool, results.error());
  // Too few samples is a note, not a failure: exit 0 (see perf-baseline(1)).
  if (!(session.format == Format::text && session.options.quiet)) {
    print_compute(render_context(session, options.now_us), *results, options);
  }
  return 0;
}

int show_command(ToolSession& session) {
  auto store = open_store(session);
  if (!store) return report_error(session.tool, store.error());
  auto baselines = store->active_baselines();
  if (!baselines) return report_error(session.tool, baselines.error());
  print_show(render_context(session, now_unix_us()),
             with_headroom(*baselines, session.config.thresholds));
  return 0;
}

int stats_command(ToolSession& session, const StatsArgs& args) {
  auto since = window_flag("--since", args.since);
  if (!since) return report_error(session.tool, since.error());
  auto store = open_store(session);
  if (!store) return report_error(session.tool, store.error());
  const std::int64_t now = now_unix_us();
  StatsQuery query{args.step,
                   since->us > 0 ? now - since->us : std::numeric_limits<std::int64_t>::min()};
  auto stats = step_stats(*store, query);
  if (!stats) return report_error(session.tool, stats.error());
  print_stats(render_context(session, now), *stats, *since);
  return 0;
}

int trend_command(ToolSession& session, const TrendArgs& args) {
  auto by = parse_trend_period(args.by);
  if (!by || args.days < 1) {
    return report_error(session.tool,
                        make_error(ExitCode::usage, "--by must be day or hour, --days positive"));
  }
  auto store = open_store(session);
  if (!store) return report_error(session.tool, store.error());
  TrendQuery query{args.step, args.days, *by, now_unix_us()};
  auto points = step_trend(*store, query);
  if (!points) return report_error(session.tool, points.error());
  print_trend(render_context(session, query.now_us), *points, query);
  return 0;
}

int slowest_command(ToolSession& session, const SlowestArgs& args) {
  auto since = window_flag("--since", args.since);
  if (!since) return report_error(session.tool, since.error());
  if (args.limit < 1 || args.spans < 0) {
    return report_error(session.tool, make_error(ExitCode::usage,
                                                 "--limit must be positive, --spans not negative"));
  }
  auto store = open_store(session);
  if (!store) return report_error(session.tool, store.error());
  const std::int64_t now = now_unix_us();
  SlowestQuery query{since->us > 0 ? now - since->us : std::numeric_limits<std::int64_t>::min(),
                     args.limit, args.step, args.spans};
  auto slowest = slowest_steps(*store, query);
  if (!slowest) return report_error(session.tool, slowest.error());
  print_slowest(render_context(session, now), *slowest, *since);
  return 0;
}

// ---- import, export, prune ---------------------------------------------------------------

struct ImportArgs {
  std::string input, format, step;
  bool skip_bad = false;
};

struct ExportArgs {
  std::string format = "jsonl", since, step, output;
};

struct PruneArgs {
  std::string older_than;
  bool dry_run = false;
};

std::string plural(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The directory git writes trace2 event files to: GIT_TRACE2_EVENT when it names one, else
// trace2.eventTarget (asked with tracing off, so the question leaves no event file).
std::string trace2_directory(const ToolSession& session) {
  const char* env = std::getenv("GIT_TRACE2_EVENT");
  std::error_code ec;
  if (env && env[0] == '/' && std::filesystem::is_directory(env, ec)) return env;
  if (!session.in_repository) return {};
  auto target = git_output(session.repository, {"config", "--get", "trace2.eventTarget"},
                           {{"GIT_TRACE2_EVENT", "0"}});
  if (!target) return {};
  std::string dir = trim_right(*target);
  return !dir.empty() && dir[0] == '/' && std::filesystem::is_directory(dir, ec) ? dir : "";
}

// What an import stopped by Ctrl-C or SIGTERM did, and where the rest is: it stores nothing
// (one transaction, rolled back), so the next import of the same input takes it all.
std::string interrupted_import(const ImportRequest& request, const ImportSummary& summary) {
  std::string line = "interrupted: nothing imported";
  if (summary.read > 0) {
    line += " (the " + plural(summary.read, "step", "steps") + " read so far were rolled back)";
  }
  if (request.format == ImportFormat::journal && request.input.empty()) {
    return line + "; the journal is left for the next `import --format journal`";
  }
  if (request.format == ImportFormat::trace2) {
    return line + "; the event files stay for the next import, which takes them all";
  }
  std::error_code ec;
  if (request.input == "-" || std::filesystem::is_fifo(request.input, ec)) {
    return line + "; what was read from " +
           (request.input == "-" ? "stdin" : request.input.string()) +
           " is not stored: import it again";
  }
  return line + "; " + request.input.string() + " is left for the next import, which takes it all";
}

int import_command(ToolSession& session, const ImportArgs& args) {
  const std::string& tool = session.tool;
  auto format = parse_import_format(args.format);
  if (!format) {
    return report_error(tool,
                        make_error(ExitCode::usage, "--format: '" + args.format +
                                                        "' is not an import format: jsonl, csv, "
                                                        "hyperfine, journal or trace2"));
  }
  if (!args.step.empty() && *format != ImportFormat::hyperfine) {
    return report_error(tool, make_error(ExitCode::usage,
                                         "--step names hyperfine's runs; the other formats "
                                         "carry their step names"));
  }
  ImportRequest request;
  request.format = *format;
  request.input = args.input;
  request.skip_bad = args.skip_bad;
  request.options.step = args.step;
  request.options.context = session.context;
  request.options.now_us = now_unix_us();
  if (*format == ImportFormat::trace2 && args.input.empty()) {
    request.input = trace2_directory(session);
    if (request.input.empty()) {
      return report_error(tool, make_error(ExitCode::usage,
                                           "no trace2 directory: name it, or point "
                                           "trace2.eventTarget at one (see docs/trace2.md)"));
    }
    session.info("reading trace2 events from " + request.input.string());
  }

  ImportSummary summary;
  Status imported =
      import_records({session.store_path(), session.config.busy_timeout, true}, request, summary);
  const bool interrupted = !imported && imported.error().code == ExitCode::interrupted;
  // Not the input's business, so not an error: said once per import, also with --quiet.
  for (const ImportProblem& p : summary.left_alone) session.warn(to_string(p));
  // One bad line, nothing imported: one line of error that names it and says what to do.
  if (!imported && !interrupted && !args.skip_bad && summary.bad == 1 &&
      summary.problems.size() == 1) {
    return report_error(tool, make_error(imported.error().code,
                                         to_string(summary.problems.front()) +
                                             "; nothing imported: fix or remove that line, or "
                                             "pass --skip-bad to import the rest"));
  }
  for (const ImportProblem& p : summary.problems) {
    session.error(to_string(p) + (args.skip_bad ? " (skipped)" : ""));
  }
  if (summary.bad > summary.problems.size()) {
    session.error("… and " +
                  plural(summary.bad - summary.problems.size(), "more bad line", "more bad lines"));
  }
  if (!session.options.quiet) {
    for (const std::string& note : summary.notes)
      std::fprintf(stderr, "%s: %s\n", tool.c_str(), note.c_str());
  }
  if (interrupted) {
    return report_error(tool,
                        make_error(ExitCode::interrupted, interrupted_import(request, summary)));
  }
  if (!imported) return report_error(tool, imported.error());

  if (session.format == Format::json || session.format == Format::jsonl) {
    JsonWriter w;
    w.begin_object();
    w.key("read").value(static_cast<std::int64_t>(summary.read));
    w.key("imported").value(static_cast<std::int64_t>(summary.imported));
    w.key("duplicates").value(static_cast<std::int64_t>(summary.duplicates));
    w.key("skipped").value(static_cast<std::int64_t>(summary.bad));
    w.key("files_removed").value(static_cast<std::int64_t>(summary.files_removed));
    w.key("files_left").value(static_cast<std::int64_t>(summary.files_deferred));
    w.key("files_left_alone").value(static_cast<std::int64_t>(summary.left_alone.size()));
    w.key("snapshots").value(static_cast<std::int64_t>(summary.snapshots));
    w.key("other_stores").value(static_cast<std::int64_t>(summary.other_stores));
    w.end_object();
    std::printf("%s\n", w.str().c_str());
  } else if (!session.options.quiet) {
    std::string line = "imported " + plural(summary.imported, "step", "steps");
    std::vector<std::string> more;
    if (summary.duplicates) more.push_back(std::to_string(summary.duplicates) + " already stored");
    if (summary.bad) more.push_back(plural(summary.bad, "bad line", "bad lines") + " skipped");
    if (summary.snapshots) more.push_back(plural(summary.snapshots, "snapshot", "snapshots"));
    if (summary.other_stores) {
      more.push_back(plural(summary.other_stores, "record", "records") + " left for other stores");
    }
    if (summary.files_removed) {
      more.push_back(plural(summary.files_removed, "event file", "event files") + " removed");
    }
    if (summary.files_deferred) {
      more.push_back(plural(summary.files_deferred, "event file", "event files") +
                     " left for next time");
    }
    if (!summary.left_alone.empty()) {
      more.push_back(plural(summary.left_alone.size(), "other file", "other files") +
                     " left alone");
    }
    for (std::size_t i = 0; i < more.size(); ++i) line += (i ? ", " : " (") + more[i];
    if (!more.empty()) line += ")";
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

int export_command(ToolSession& session, const ExportArgs& args) {
  const std::string& tool = session.tool;
  auto format = parse_export_format(args.format);
  if (!format) {
    return report_error(tool,
                        make_error(ExitCode::usage, "--format: '" + args.format +
                                                        "' is not an export format: jsonl, csv, "
                                                        "prometheus or otlp"));
  }
  ExportRequest request;
  request.format = *format;
  request.step = args.step;
  request.output = args.output;
  if (!args.since.empty() && args.since != "all") {
    auto since = window_flag("--since", args.since);
    if (!since) return report_error(tool, since.error());
    request.since_us = now_unix_us() - since->us;
  }
  auto store = Store::open({session.store_path(), session.config.busy_timeout, false});
  if (!store) return report_error(tool, store.error());
  auto count = export_records(*store, request);
  if (!count) return report_error(tool, count.error());
  if (!args.output.empty() && args.output != "-") {
    session.info("wrote " + plural(*count, "step", "steps") + " to " + args.output);
  }
  return 0;
}

int prune_command(ToolSession& session, const PruneArgs& args) {
  const std::string& tool = session.tool;
  auto age = parse_duration(args.older_than);
  if (!age || age->us <= 0) {
    return report_error(
        tool, make_error(ExitCode::usage, "--older-than: " + (age ? std::string("must be positive")
                                                                  : age.error().message)));
  }
  const std::int64_t before = now_unix_us() - age->us;
  auto store = Store::open({session.store_path(), session.config.busy_timeout, false});
  if (!store) return report_error(tool, store.error());
  auto counts = store->prune_steps(before, args.dry_run);
  if (!counts) return report_error(tool, counts.error());
  if (session.format == Format::json || session.format == Format::jsonl) {
    JsonWriter w;
    w.begin_object();
    w.key("dry_run").value(args.dry_run);
    w.key("before").value(format_timestamp(before));
    w.key("steps").value(counts->steps);
    w.key("spans").value(counts->spans);
    w.end_object();
    std::printf("%s\n", w.str().c_str());
  } else if (!session.options.quiet) {
    std::printf(
        "%s %s and %s that started before %s (older than %s)\n",
        args.dry_run ? "would remove" : "removed",
        plural(static_cast<std::size_t>(counts->steps), "step", "steps").c_str(),
        plural(static_cast<std::size_t>(counts->spans), "child span", "child spans").c_str(),
        format_timestamp(before).c_str(), format_duration(*age).c_str());
  }
  return 0;
}

// ---- report, measure ------------------------------------------------------------------------

struct ReportArgs {
  std::string output, since = "30d", step;
};

struct MeasureArgs {
  int runs = 10;
  std::vector<std::string> steps = {"commit", "rollback", "validate"};
  bool warn_only = false;
};

int report_command(ToolSession& session, const ReportArgs& args) {
  const std::string& tool = session.tool;
  auto since = window_flag("--since", args.since);
  if (!since) return report_error(tool, since.error());
  auto store = open_store(session);
  if (!store) return report_error(tool, store.error());
  ReportQuery query;
  query.step = args.step;
  query.now_us = now_unix_us();
  if (since->us > 0) query.since_us = query.now_us - since->us;
  query.thresholds = session.config.thresholds;
  auto report = collect_report(*store, query);
  if (!report) return report_error(tool, report.error());
  const std::string html = render_html_report(*report);
  if (args.output == "-") {
    std::fwrite(html.data(), 1, html.size(), stdout);
    return 0;
  }
  if (Status written = write_report_file(args.output, html); !written) {
    return report_error(tool, written.error());
  }
  const auto runs = static_cast<std::int64_t>(report->run_count());
  const auto steps = static_cast<std::int64_t>(report->steps.size());
  if (session.format == Format::json || session.format == Format::jsonl) {
    JsonWriter w;
    w.begin_object();
    w.key("output").value(args.output);
    w.key("steps").value(steps);
    w.key("runs").value(runs);
    w.key("since").value(since->us > 0 ? format_timestamp(*query.since_us) : "all");
    w.end_object();
    std::printf("%s\n", w.str().c_str());
  } else if (!session.options.quiet) {
    std::printf("wrote %s: %s, %s%s\n", args.output.c_str(),
                plural(static_cast<std::size_t>(steps), "step", "steps").c_str(),
                plural(static_cast<std::size_t>(runs), "run", "runs").c_str(),
                in_window(*since).c_str());
  }
  return 0;
}

int measure_command(ToolSession& session, const MeasureArgs& args) {
  const std::string& tool = session.tool;
  if (!session.in_repository) {
    return report_error(tool, make_error(ExitCode::usage,
                                         "measure runs the steps in a copy of a repository: "
                                         "run it inside one or pass -C DIR"));
  }
  auto steps = parse_measure_steps(args.steps);
  if (!steps) return report_error(tool, steps.error());
  if (args.runs < 1) {
    return report_error(tool, make_error(ExitCode::usage, "--runs must be positive"));
  }
  MeasureOptions options;
  options.runs = args.runs;
  options.steps = *steps;
  options.thresholds = session.config.thresholds;
  options.timeouts = session.config.timeouts;
  options.warn_only = args.warn_only;
  options.tool = tool;
  options.record = [&](std::vector<StepRecord>& records) {
    return record_steps(session, records, ExitCode::ok);
  };
  const bool progress = !session.options.quiet && ::isatty(STDERR_FILENO);
  if (progress) {
    options.progress = [](int done, int total) {
      std::fprintf(stderr, "\rmeasure: %d/%d", done, total);
      std::fflush(stderr);
    };
  }
  session.info("measuring " + std::to_string(args.runs) + " runs in a throwaway clone under " +
               measure_parent(session.repository).string());
  auto measured = run_measure(session.repository, options);
  if (progress) std::fputs("\r\033[K", stderr);
  if (!measured) return report_error(tool, measured.error());
  if (!measured->git_error.empty()) session.error("in the throwaway clone: " + measured->git_error);
  print_steps(session, measured->records, measured->code);
  if (session.format == Format::text && !session.options.quiet) {
    std::printf("recorded %s of %s with synthetic=true; the throwaway clone is removed\n",
                plural(static_cast<std::size_t>(measured->runs_done), "run", "runs").c_str(),
                [&] {
                  std::string names;
                  for (const auto& s : options.steps) names += (names.empty() ? "" : ", ") + s;
                  return names;
                }()
                    .c_str());
  }
  if (measured->code == ExitCode::interrupted) {
    session.error("interrupted after " +
                  plural(static_cast<std::size_t>(measured->runs_done), "run", "runs") +
                  "; the throwaway clone is removed");
  }
  return to_int(measured->code);
}

// Each subcommand takes the common options too (after its name), through fallthrough().
CLI::App* add_command(CLI::App& app, const std::string& name, const std::string& description) {
  CLI::App* sub = app.add_subcommand(name, description);
  sub->fallthrough();
  return sub;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string tool = "perf-baseline";
  CLI::App app{"Baselines, statistics, trends and the slowest runs of the recorded steps."};
  CommonOptions common;
  add_common_options(app, common, /*recording=*/false);
  app.require_subcommand(1);

  ComputeArgs compute;
  CLI::App* compute_cmd = add_command(
      app, "compute", "Compute and store a baseline per step from its recent completed runs");
  compute_cmd->add_option("--step", compute.step, "Only this step (default: every step)")
      ->type_name("STEP");
  compute_cmd->add_option("--window", compute.window, "Runs started this long ago or later")
      ->type_name("DURATION")
      ->capture_default_str();
  compute_cmd->add_option("--min-samples", compute.min_samples, "Completed runs needed")
      ->capture_default_str();
  compute_cmd
      ->add_option("--multiplier", compute.multiplier,
                   "Stored for perf-alerts: how far above the baseline is a regression")
      ->type_name("NUMBER")
      ->capture_default_str();
  compute_cmd->add_option("--scope", compute.scope, "One baseline for all runs, per repo or branch")
      ->type_name("all|repo|branch")
      ->capture_default_str();
  compute_cmd
      ->add_option("--min-change", compute.min_change,
                   "Replace the active baseline only when a percentile moved more than this")
      ->type_name("PERCENT")
      ->capture_default_str();
  compute_cmd->add_flag("--force", compute.force, "Replace the active baseline whatever moved");

  CLI::App* show_cmd = add_command(
      app, "show", "The active baselines, with each step's threshold and the headroom to p99");

  StatsArgs stats;
  CLI::App* stats_cmd = add_command(
      app, "stats", "Per step: runs, failures, breaches, mean, stddev, min, percentiles, max");
  stats_cmd->add_option("--step", stats.step, "Only this step")->type_name("STEP");
  stats_cmd->add_option("--since", stats.since, "Runs started this long ago or later, or all")
      ->type_name("DURATION")
      ->capture_default_str();

  TrendArgs trend;
  CLI::App* trend_cmd =
      add_command(app, "trend", "Per day or hour: runs, mean, p50, p95, p99, with a chart");
  trend_cmd->add_option("--step", trend.step, "Only this step")->type_name("STEP");
  trend_cmd->add_option("--days", trend.days, "Today and the days before it (UTC)")
      ->capture_default_str();
  trend_cmd->add_option("--by", trend.by, "One row per day or per hour")
      ->type_name("day|hour")
      ->capture_default_str();

  SlowestArgs slowest;
  CLI::App* slowest_cmd =
      add_command(app, "slowest", "The slowest runs, with their slowest child spans");
  slowest_cmd->add_option("--limit", slowest.limit, "How many runs")->capture_default_str();
  slowest_cmd->add_option("--since", slowest.since, "Runs started this long ago or later, or all")
      ->type_name("DURATION")
      ->capture_default_str();
  slowest_cmd->add_option("--step", slowest.step, "Only this step")->type_name("STEP");
  slowest_cmd->add_option("--spans", slowest.spans, "Child spans shown per run")
      ->capture_default_str();

  ImportArgs import_args;
  CLI::App* import_cmd = add_command(
      app, "import",
      "Take in records: our jsonl or csv, the journal, hyperfine's JSON, git's trace2 events");
  import_cmd
      ->add_option("input", import_args.input,
                   "A file, - for stdin, or a trace2 directory (default: the journal beside "
                   "the store; for trace2, trace2.eventTarget)")
      ->type_name("FILE|DIR|-");
  import_cmd
      ->add_option("--format", import_args.format,
                   "What the input is: jsonl, csv, hyperfine, journal or trace2")
      ->type_name("FORMAT")
      ->required();
  import_cmd->add_flag(
      "--skip-bad", import_args.skip_bad,
      "Import the good lines and skip the bad ones (else a bad line stops it all)");
  import_cmd
      ->add_option("--step", import_args.step,
                   "hyperfine: record every run as this step (default: the command)")
      ->type_name("NAME");

  ExportArgs export_args;
  CLI::App* export_cmd = add_command(
      app, "export", "Write the recorded steps as jsonl, csv, Prometheus text or OTLP/JSON traces");
  export_cmd
      ->add_option("--format", export_args.format,
                   "jsonl, csv, prometheus (for node_exporter's textfile collector) or otlp")
      ->type_name("FORMAT")
      ->capture_default_str();
  export_cmd->add_option("--since", export_args.since, "Only steps started this long ago or later")
      ->type_name("DURATION");
  export_cmd->add_option("--step", export_args.step, "Only this step")->type_name("STEP");
  export_cmd
      ->add_option("-o,--output", export_args.output,
                   "Write FILE (replaced whole, never seen half-written) instead of stdout")
      ->type_name("FILE");

  PruneArgs prune_args;
  CLI::App* prune_cmd =
      add_command(app, "prune", "Remove recorded steps (and their spans) older than an age");
  prune_cmd
      ->add_option("--older-than", prune_args.older_than,
                   "Remove steps started before now less this")
      ->type_name("DURATION")
      ->required();
  prune_cmd->add_flag("--dry-run", prune_args.dry_run, "Only count what would be removed");

  ReportArgs report_args;
  CLI::App* report_cmd =
      add_command(app, "report",
                  "Write one self-contained HTML page of charts: durations, thresholds, "
                  "baselines, breaches");
  report_cmd->add_option("-o,--output", report_args.output, "The HTML file to write (- for stdout)")
      ->type_name("FILE")
      ->required();
  report_cmd
      ->add_option("--since", report_args.since, "Runs started this long ago or later, or all")
      ->type_name("DURATION")
      ->capture_default_str();
  report_cmd->add_option("--step", report_args.step, "Only this step")->type_name("STEP");

  MeasureArgs measure_args;
  CLI::App* measure_cmd = add_command(
      app, "measure",
      "Record synthetic runs of the steps in a throwaway clone, leaving your work untouched");
  measure_cmd->add_option("--runs", measure_args.runs, "How many runs")->capture_default_str();
  measure_cmd
      ->add_option("--steps", measure_args.steps, "The steps to record: commit, rollback, validate")
      ->type_name("STEP,…")
      ->delimiter(',')
      ->capture_default_str();
  measure_cmd->add_flag("--warn-only", measure_args.warn_only,
                        "Record breaches but exit 0 for them");

  return run_tool(tool, app, argc, argv, [&]() -> int {
    auto session = open_session(tool, common, /*repository_optional=*/true);
    if (!session) return report_error(tool, session.error());
    if (*compute_cmd) return compute_command(*session, compute);
    if (*show_cmd) return show_command(*session);
    if (*stats_cmd) return stats_command(*session, stats);
    if (*trend_cmd) return trend_command(*session, trend);
    if (*slowest_cmd) return slowest_command(*session, slowest);
    if (*import_cmd) return import_command(*session, import_args);
    if (*export_cmd) return export_command(*session, export_args);
    if (*prune_cmd) return prune_command(*session, prune_args);
    if (*report_cmd) return report_command(*session, report_args);
    if (*measure_cmd) return measure_command(*session, measure_args);
    return to_int(ExitCode::usage);
  });
}
