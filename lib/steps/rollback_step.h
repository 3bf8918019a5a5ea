#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/result.h"
#include "git/repository.h"
#include "process/runner.h"
#include "safety/snapshot.h"
#include "trace/record.h"

namespace perfguard {

struct RollbackOptions {
  std::string target = "HEAD~1";
  std::vector<std::string> paths;  // restore only these paths from the target
  bool keep = false;               // `reset --keep`: refuse to touch local changes
  bool validate = true;
  bool force = false;      // run over a merge, rebase, cherry-pick, revert or bisect
  bool warn_only = false;  // a breach is recorded but exits 0
  Duration rollback_threshold = Duration::seconds(2);
  Duration validate_threshold = Duration::seconds(5);
  std::optional<Duration> rollback_timeout, validate_timeout;
  Duration kill_grace = Duration::seconds(2);
  StreamMode git_output = StreamMode::tee;
  std::string tool = "perf-rollback";
  std::string snapshot_reason;  // the snapshot's reason; empty: "before rollback to TARGET"
  // Called once, when the step has passed every check and taken its snapshot and git starts
  // moving the tree. Work that can overlap git's goes here (the tool opens its store).
  std::function<void()> on_git_started;
};

// What a rollback will do, decided before anything changes.
struct RollbackPlan {
  Head head;
  std::string target;      // as the user wrote it
  std::string target_oid;  // the commit it names
  // What the reset or restore may touch: the snapshot holds exactly that.
  SnapshotScope scope;
  std::vector<std::string> paths;
  std::vector<std::string> git_args;  // the git command that moves the tree
};

struct RollbackRun {
  std::vector<StepRecord> records;   // "rollback", then "validate" unless skipped
  std::optional<Snapshot> snapshot;  // the safety snapshot taken first
  std::string git_error;             // git's message when a part failed
};

// When a plan scans the tracked files: at once, or (where the rollback can start its
// two-way reset before the scan: a whole-tree reset, nothing staged, a plain index) while
// the reset runs, in which case the plan's scope says `before_scan`.
enum class TreeScan { now, alongside_reset };

// Checks every precondition and resolves the target; changes nothing. Refusals are
// ExitCode::refused; a target that names no commit is ExitCode::usage.
Result<RollbackPlan> plan_rollback(const Repository& repo, const RollbackOptions& options,
                                   TreeScan scan = TreeScan::now);

// What a rollback or an undo would do, for --dry-run; nothing has changed.
struct RollbackPreview {
  std::string action;  // "rollback" or "undo"
  Head head;
  std::size_t local_changes = 0;      // lines of `git status --porcelain`
  std::string target, target_oid;     // rollback: the target as written and its commit
  std::vector<std::string> git_args;  // rollback: the git command that would move the tree
  std::optional<Snapshot> restore;    // undo: the snapshot that would be restored
  bool validate = true;
};

RollbackPreview preview_rollback(const Repository& repo, const RollbackPlan& plan,
                                 const RollbackOptions& options);

// Checks, resolves and snapshots (span "snapshot"), then `git reset --hard TARGET` (or
// `--keep`, or a restore of PATHs; span "reset" or "restore"), timed as the step
// "rollback"; then `git status` and `git log --oneline -5` as "validate". Where it can
// (TreeScan::alongside_reset), the reset starts as a two-way `reset --keep` right after a
// partial snapshot and the tree is scanned while it runs; it ends as `reset --hard` ends.
// Refusals and a bad target are errors, as from plan_rollback, and change nothing.
Result<RollbackRun> run_rollback(const Repository& repo, const RollbackOptions& options);
// The same with the plan plan_rollback made with these options a moment ago, so the tree is
// scanned once. Only when nothing can have changed since (no question asked in between):
// the snapshot holds what the plan found.
Result<RollbackRun> run_rollback(const Repository& repo, RollbackPlan plan,
                                 const RollbackOptions& options);

// What --undo would do, for --dry-run; checks the same preconditions, changes nothing.
Result<RollbackPreview> preview_undo(const Repository& repo, const std::string& id,
                                     const RollbackOptions& options);

// Puts back the named snapshot (the newest when `id` is empty), after taking a snapshot of
// the present state so the undo can itself be undone. Timed as "rollback" (labelled
// mode=undo), then validated.
Result<RollbackRun> run_undo(const Repository& repo, const std::string& id,
                             const RollbackOptions& options);

}  // namespace perfguard
