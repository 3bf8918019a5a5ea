// perf-baseline import: records from our jsonl or csv, the journal, hyperfine's JSON or
// git's trace2 events, taken into the store in one transaction.
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "alerts/scan.h"
#include "commands.h"
#include "core/clock.h"
#include "git/git.h"
#include "output/progress.h"

namespace perfguard::baseline_tool {

namespace {

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

// The problems of the input, one line each (the first 20, then a count), and the notes.
void report_problems(const ToolSession& session, const ImportSummary& summary, bool skip_bad) {
  for (const ImportProblem& p : summary.problems) {
    session.error(to_string(p) + (skip_bad ? " (skipped)" : ""));
  }
  if (summary.bad > summary.problems.size()) {
    session.error("… and " +
                  plural(summary.bad - summary.problems.size(), "more bad line", "more bad lines"));
  }
  if (!session.options.quiet) {
    for (const std::string& note : summary.notes)
      std::fprintf(stderr, "%s: %s\n", session.tool.c_str(), note.c_str());
  }
}

Table summary_table(const ImportSummary& summary) {
  auto n = [](std::size_t v) { return Cell(static_cast<std::int64_t>(v)); };
  return {{"read", "imported", "duplicates", "skipped", "files_removed", "files_left",
           "files_left_alone", "snapshots", "other_stores"},
          {{n(summary.read), n(summary.imported), n(summary.duplicates), n(summary.bad),
            n(summary.files_removed), n(summary.files_deferred), n(summary.left_alone.size()),
            n(summary.snapshots), n(summary.other_stores)}}};
}

// `imported 3 steps (1 already stored, 2 bad lines skipped)`.
std::string summary_line(const ImportSummary& summary) {
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
    more.push_back(plural(summary.left_alone.size(), "other file", "other files") + " left alone");
  }
  for (std::size_t i = 0; i < more.size(); ++i) line += (i ? ", " : " (") + more[i];
  if (!more.empty()) line += ")";
  return line;
}

}  // namespace

Import::Import()
    : Command("import",
              "Take in records: our jsonl or csv, the journal, hyperfine's JSON, git's trace2 "
              "events") {}

void Import::add_options(CLI::App& command) {
  command
      .add_option("input", input,
                  "A file, - for stdin, or a trace2 directory (default: the journal beside "
                  "the store; for trace2, trace2.eventTarget)")
      ->type_name("FILE|DIR|-");
  add_typed_option(command, "--format", format,
                   choice("an import format", {"jsonl", "csv", "hyperfine", "journal", "trace2"},
                          parse_import_format, to_string),
                   "What the input is: jsonl, csv, hyperfine, journal or trace2")
      ->type_name("FORMAT")
      ->required();
  command.add_flag("--skip-bad", skip_bad,
                   "Import the good lines and skip the bad ones (else a bad line stops it all)");
  command
      .add_option("--step", step, "hyperfine: record every run as this step (default: the command)")
      ->type_name("NAME");
  // Checked once every option is read, whatever their order.
  command.callback([this] {
    if (!step.empty() && format != ImportFormat::hyperfine) {
      throw CLI::ValidationError(
          "--step names hyperfine's runs; the other formats carry their step names");
    }
  });
}

namespace {

// The rules judge the newest imported runs (of the last week) once the import is in: in bulk,
// as perf-alerts scan would. An import is not undone when that fails: it is said, and the
// next scan judges them.
Result<ExitCode> judge_imported(ToolSession& session, const ImportSummary& summary,
                                std::int64_t now_us) {
  if (summary.imported == 0 || session.paused || !session.config.alerts.enabled) {
    return ExitCode::ok;
  }
  auto store = Store::open(session.store_options(/*create=*/false));
  if (!store) return store.error();
  constexpr std::int64_t kWeekUs = 7 * 24 * 3600 * 1000000LL;
  auto scanned =
      scan_alerts(*store, session.config, session.context.host, now_us, now_us - kWeekUs);
  if (!scanned) {
    session.warn(scanned.error().message +
                 "; the imported runs were not judged by the alert "
                 "rules (perf-alerts scan judges them)");
    return ExitCode::store;
  }
  send_notifications_later(session, scanned->changes);
  if (session.format == Format::text && !session.options.quiet) {
    for (const AlertChange& c : scanned->changes) {
      std::printf("alert #%lld %s %s: %s\n", static_cast<long long>(c.alert.id), to_string(c.kind),
                  to_string(c.alert.severity), printable(c.alert.summary).c_str());
    }
  }
  return ExitCode::ok;
}

// Imported records are shipped like recorded ones, when the store ships to a shared one.
void ship_imported(ToolSession& session, const ImportSummary& summary) {
  if (summary.imported == 0 || !session.config.shared) return;
  if (auto store = Store::open({session.store_path(), session.config.busy_timeout, false})) {
    note_records_to_ship(session, *store);
  }
  ship_later(session);
}

}  // namespace

Result<ExitCode> Import::run(ToolSession& session) {
  if (Status local = local_store_only(session, "import"); !local) return local.error();
  ImportRequest request;
  request.format = format;
  request.input = input;
  request.skip_bad = skip_bad;
  request.options.step = step;
  request.options.context = session.context;
  request.options.now_us = now_unix_us();
  if (format == ImportFormat::trace2 && input.empty()) {
    request.input = trace2_directory(session);
    if (request.input.empty()) {
      return make_error(ExitCode::usage,
                        "no trace2 directory: name it, or point trace2.eventTarget at one (see "
                        "docs/trace2.md)");
    }
    session.info("reading trace2 events from " + request.input.string());
  }

  ImportSummary summary;
  Status imported = [&] {
    Progress progress(session.options.quiet);
    request.progress = &progress;
    Status s =
        import_records({session.store_path(), session.config.busy_timeout, true}, request, summary);
    request.progress = nullptr;
    return s;
  }();  // the line cleared before anything is said
  const bool interrupted = !imported && imported.error().code == ExitCode::interrupted;
  // Not the input's business, so not an error: said once per import, also with --quiet.
  for (const ImportProblem& p : summary.left_alone) session.warn(to_string(p));
  // One bad line, nothing imported: one line of error that names it and says what to do.
  if (!imported && !interrupted && !skip_bad && summary.bad == 1 && summary.problems.size() == 1) {
    return make_error(imported.error().code, to_string(summary.problems.front()) +
                                                 "; nothing imported: fix or remove that line, "
                                                 "or pass --skip-bad to import the rest");
  }
  report_problems(session, summary, skip_bad);
  if (interrupted) return make_error(ExitCode::interrupted, interrupted_import(request, summary));
  if (!imported) return imported.error();
  print_summary(session, summary_table(summary), summary_line(summary));
  auto judged = judge_imported(session, summary, request.options.now_us);
  ship_imported(session, summary);
  return judged;
}

}  // namespace perfguard::baseline_tool
