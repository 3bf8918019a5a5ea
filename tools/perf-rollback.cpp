// perf-rollback: snapshot, roll back, validate; each timed against its threshold.
#include <sstream>

#include "cli/common.h"
#include "core/clock.h"
#include "output/json.h"
#include "output/table.h"
#include "steps/rollback_step.h"

using namespace perfguard;

namespace {

void write_snapshot_json(JsonWriter& w, const Snapshot& s) {
  w.begin_object()
      .key("id")
      .value(s.id)
      .key("ref")
      .value(s.ref())
      .key("commit")
      .value(s.commit)
      .key("head")
      .value(s.head)
      .key("branch")
      .value(s.branch)
      .key("dirty")
      .value(s.dirty)
      .key("created_at")
      .value(format_timestamp(s.created_us))
      .key("tool")
      .value(s.tool)
      .key("reason")
      .value(s.reason)
      .key("worktree")
      .value(s.worktree)
      .end_object();
}

// The work tree a snapshot belongs to, as --list-snapshots shows it.
std::string worktree_label(const Snapshot& s) {
  return s.worktree.empty() ? "main work tree" : s.worktree;
}

// Every work tree's snapshots: an undo takes only this work tree's, the others are marked.
int list_snapshots_command(ToolSession& session) {
  auto snapshots = list_snapshots(session.repository);
  if (!snapshots) return report_error(session.tool, snapshots.error());
  const std::string here = worktree_name(session.repository);
  switch (session.format) {
    case Format::text:
      for (const auto& s : *snapshots) {
        const std::string branch = s.branch.empty() ? "(detached)" : Head{s.branch, ""}.branch();
        const std::string elsewhere = s.worktree == here ? "" : "  [" + worktree_label(s) + "]";
        std::printf("%s  %s  %s  %s%s  %s%s\n", s.id.c_str(),
                    format_timestamp(s.created_us).c_str(), s.head.substr(0, 12).c_str(),
                    printable(branch).c_str(), s.dirty ? " +local changes" : "",
                    printable(s.reason).c_str(), printable(elsewhere).c_str());
      }
      break;
    case Format::json: {
      JsonWriter w;
      w.begin_array();
      for (const auto& s : *snapshots) write_snapshot_json(w, s);
      w.end_array();
      std::printf("%s\n", w.str().c_str());
      break;
    }
    case Format::jsonl:
      for (const auto& s : *snapshots) {
        JsonWriter w;
        write_snapshot_json(w, s);
        std::printf("%s\n", w.str().c_str());
      }
      break;
    case Format::csv:
    case Format::tsv: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& s : *snapshots) {
        rows.push_back({s.id, s.ref(), s.commit, s.head, s.branch, s.dirty ? "true" : "false",
                        format_timestamp(s.created_us), s.tool, s.reason, s.worktree});
      }
      write_table(stdout, session.format,
                  {"id", "ref", "commit", "head", "branch", "dirty", "created_at", "tool", "reason",
                   "worktree"},
                  rows);
      break;
    }
  }
  return 0;
}

std::string where(const Head& head) {
  return head.detached() ? " (detached)" : " on " + printable(head.branch());
}

// The plan for people: what would be snapshotted, run or restored, and validated.
std::string preview_text(const RollbackPreview& p) {
  std::ostringstream out;
  const std::size_t n = p.local_changes;
  const std::string changes =
      n ? " with " + std::to_string(n) + " local change" + (n == 1 ? "" : "s") : ", clean";
  if (p.restore) {
    const Snapshot& s = *p.restore;
    out << "would snapshot the present state of HEAD " << p.head.oid.substr(0, 12) << changes
        << "\n"
        << "would restore snapshot " << s.id << ": HEAD " << s.head.substr(0, 12)
        << where(Head{s.branch, s.head}) << (s.dirty ? " with its local changes" : ", clean")
        << " (" << printable(s.reason) << ")\n";
  } else {
    out << "would snapshot HEAD " << p.head.oid.substr(0, 12) << where(p.head) << changes << "\n";
    out << "would run: git";
    for (const auto& a : p.git_args) out << ' ' << printable(a);
    out << "   # " << printable(p.target) << "\n";
  }
  if (p.validate) out << "would validate: git status; git log --oneline -5\n";
  return out.str();
}

// The plan for scripts: one record, with the same fields in every machine format.
void write_preview(const RollbackPreview& p, Format format) {
  std::string command = "git";
  for (const auto& a : p.git_args) command += " " + a;
  const Snapshot none;
  const Snapshot& s = p.restore ? *p.restore : none;
  Table table;
  table.columns = {"action",        "head",           "branch",          "local_changes",
                   "target",        "target_oid",     "command",         "snapshot",
                   "snapshot_head", "snapshot_dirty", "snapshot_reason", "validate"};
  table.rows.push_back({p.action, p.head.oid, p.head.branch(),
                        static_cast<std::int64_t>(p.local_changes), p.target, p.target_oid,
                        p.restore ? Cell() : Cell(command), s.id, s.head,
                        p.restore ? Cell(s.dirty) : Cell(), s.reason, p.validate});
  // json: the one record itself, as jsonl writes it.
  write_table(stdout, format == Format::json ? Format::jsonl : format, table, "plan");
}

// --dry-run: the plan of a rollback or an undo, changing nothing.
int dry_run_command(const ToolSession& session, bool undo_requested, const std::string& undo,
                    const RollbackOptions& options) {
  Result<RollbackPreview> preview = make_error(ExitCode::usage, "");
  if (undo_requested) {
    preview = preview_undo(session.repository, undo, options);
  } else if (auto plan = plan_rollback(session.repository, options)) {
    preview = preview_rollback(session.repository, *plan, options);
  } else {
    preview = plan.error();
  }
  if (!preview) return report_error(session.tool, preview.error());
  if (session.format == Format::text) {
    std::fputs(preview_text(*preview).c_str(), stdout);
  } else {
    write_preview(*preview, session.format);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string tool = "perf-rollback";
  CLI::App app{"Snapshot, roll back and validate a repository, each step timed and recorded."};
  CommonOptions common;
  add_common_options(app, common);

  RollbackOptions flags;  // the command line's; the configuration's come with the session
  std::string rollback_threshold, validate_threshold, timeout, undo;
  bool no_validate = false, dry_run = false, list = false;
  app.add_option("target", flags.target, "The commit to roll back to (default HEAD~1)")
      ->type_name("TARGET");
  app.add_option("paths", flags.paths, "Restore only these paths from TARGET (after --)")
      ->type_name("PATH");
  app.add_flag("--keep", flags.keep, "Like `git reset --keep`: refuse to touch local changes");
  app.add_flag("--no-validate", no_validate, "Skip `git status` + `git log` after the rollback");
  app.add_flag("--dry-run", dry_run, "Print the plan and change nothing");
  app.add_flag("--force", flags.force, "Run over a merge, rebase, cherry-pick, revert or bisect");
  auto* undo_opt =
      app.add_option("--undo", undo, "Restore a snapshot exactly (default: the newest)")
          ->type_name("SNAPSHOT")
          ->expected(0, 1);
  app.add_flag("--list-snapshots", list, "List the safety snapshots, newest first");
  app.add_option("--threshold", rollback_threshold, "Rollback threshold (default 2s)")
      ->type_name("DURATION");
  app.add_option("--validate-threshold", validate_threshold, "Validation threshold (default 5s)")
      ->type_name("DURATION");
  app.add_option("--timeout", timeout, "Kill a step at this hard limit (exit 124)")
      ->type_name("DURATION");
  app.add_flag("--warn-only", flags.warn_only, "Report a breach but exit 0");

  return run_tool(tool, app, argc, argv, [&]() -> int {
    auto session = open_session(tool, common);
    if (!session) return report_error(tool, session.error());
    if (list) return list_snapshots_command(*session);

    RollbackOptions options = rollback_options(*session);
    options.target = flags.target;
    options.paths = flags.paths;
    options.keep = flags.keep;
    options.force = flags.force;
    options.warn_only = options.warn_only || flags.warn_only;
    options.validate = !no_validate;
    for (auto [flag, text, field] :
         {std::tuple{"--threshold", rollback_threshold, &options.rollback_threshold},
          std::tuple{"--validate-threshold", validate_threshold, &options.validate_threshold}}) {
      auto d = limit_flag_if_given(app, flag, text);
      if (!d) return report_error(tool, d.error());
      if (*d) *field = **d;
    }
    auto hard_limit = limit_flag_if_given(app, "--timeout", timeout);
    if (!hard_limit) return report_error(tool, hard_limit.error());
    if (*hard_limit) options.rollback_timeout = options.validate_timeout = *hard_limit;

    const bool undo_requested = undo_opt->count() > 0;
    if (dry_run) return dry_run_command(*session, undo_requested, undo, options);
    options.on_git_started = [&] { session->open_store_early(); };
    auto run = undo_requested ? run_undo(session->repository, undo, options)
                              : run_rollback(session->repository, options);
    if (!run) return report_error(tool, run.error());

    ExitCode code = ExitCode::ok;
    for (const auto& r : run->records) code = most_severe(code, ExitCode{r.exit_code});
    if (!run->git_error.empty() && common.quiet) session->error(run->git_error);
    code = record_steps(*session, run->records, code, run->snapshot);
    if (run->snapshot) {
      print_steps(*session, run->records, code, *run->snapshot,
                  "perf-rollback --undo " + run->snapshot->id);
    } else {
      print_steps(*session, run->records, code);
    }
    ship_later(*session);
    return to_int(code);
  });
}
