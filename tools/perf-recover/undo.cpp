// perf-recover undo [ID]: puts back the snapshot a recovery took (the newest recovery's when
// no id is given): HEAD, branch, index and work tree, untracked files included, exactly as
// they were. perf-rollback --undo's machinery: the present state is snapshotted first, so an
// undo can itself be undone.
#include "commands.h"
#include "output/table.h"

namespace perfguard::recover_tool {

Undo::Undo()
    : Command("undo",
              "Put back a recovery's snapshot exactly (default: the newest recovery's); the "
              "present state is snapshotted first") {}

void Undo::add_options(CLI::App& command) {
  command.add_option("id", id, "The snapshot (perf-recover list)")->type_name("ID");
  command.add_flag("--dry-run", dry_run, "Print what would be restored and change nothing");
  command.add_flag("--force", force, "Run over a merge, rebase, cherry-pick, revert or bisect");
}

Result<ExitCode> Undo::run(ToolSession& session) {
  std::string wanted = id;
  if (wanted.empty()) {
    auto snapshots = find_snapshots(session);
    if (!snapshots) return snapshots.error();
    for (const Snapshot& s : *snapshots) {
      if (s.tool == session.tool) {
        wanted = s.id;
        break;
      }
    }
    if (wanted.empty()) {
      return make_error(ExitCode::usage,
                        "no recovery has taken a snapshot in this work tree (perf-recover list "
                        "shows every snapshot; name one)");
    }
  }
  RollbackOptions options = rollback_options(session);
  options.force = force;
  if (dry_run) {
    auto preview = preview_undo(session.repository, wanted, options);
    if (!preview) return preview.error();
    const Snapshot& s = *preview->restore;
    std::printf(
        "would snapshot the present state of HEAD %s\n"
        "would restore snapshot %s: HEAD %s%s (%s)\n",
        preview->head.oid.substr(0, 12).c_str(), s.id.c_str(), s.head.substr(0, 12).c_str(),
        s.dirty ? " with its local changes" : ", clean", printable(s.reason).c_str());
    return ExitCode::ok;
  }
  options.on_git_started = [&] { session.open_store_early(); };
  auto run = run_undo(session.repository, wanted, options);
  if (!run) return run.error();
  ExitCode code = ExitCode::ok;
  for (const auto& r : run->records) code = most_severe(code, ExitCode{r.exit_code});
  if (!run->git_error.empty() && session.options.quiet) session.error(run->git_error);
  code = record_steps(session, run->records, code, run->snapshot);
  print_steps(session, run->records, code);
  if (session.format == Format::text && run->snapshot &&
      !(session.options.quiet && code == ExitCode::ok)) {
    std::printf(
        "restored %s; the state before it is snapshot %s: undo with `perf-recover undo "
        "%s`\n",
        wanted.c_str(), run->snapshot->id.c_str(), run->snapshot->id.c_str());
  }
  ship_later(session);
  return code;
}

}  // namespace perfguard::recover_tool
