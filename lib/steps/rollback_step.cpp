#include "steps/rollback_step.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/fault.h"
#include "git/clean_check.h"
#include "git/git.h"
#include "git/object_reader.h"
#include "git/tree_diff.h"
#include "steps/preconditions.h"
#include "steps/step_timer.h"

namespace perfguard {

namespace {

bool relative_to_head(const std::string& target) {
  return target.rfind("HEAD", 0) == 0 || target.rfind("@", 0) == 0;
}

std::vector<std::string> split_status(const std::string& porcelain) {
  std::vector<std::string> lines;
  std::istringstream in(porcelain);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> split_nul(const std::string& text) {
  std::vector<std::string> items;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\0', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) items.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return items;
}

ChildCommand quiet(ChildCommand cmd) {
  cmd.out = StreamMode::capture;
  cmd.err = StreamMode::capture;
  return cmd;
}

bool has_assume_unchanged(const TrackedScan& scan) {
  if (!scan.index.index) return false;
  const auto& entries = scan.index.index->entries;
  return std::any_of(entries.begin(), entries.end(),
                     [](const IndexEntry& e) { return e.assume_unchanged; });
}

bool shallow_at(const Repository& repo, const std::string& oid) {
  std::ifstream shallow(repo.common_dir() / "shallow");
  std::string line;
  while (std::getline(shallow, line)) {
    if (line == oid) return true;
  }
  return false;
}

// What a reset to the target (or a restore of paths from it) may touch, found at once:
// `git rev-parse` for the target's commit and HEAD's tree, `git diff-index --cached` for the
// paths where the index and the target differ, and an lstat() of every tracked file for
// the ones that differ from the index.
struct Resolution {
  std::string target_oid;
  SnapshotScope scope;
};

struct Trees {
  ObjectReader objects;
  std::string target_oid, head_tree, target_tree;
};

// The target's commit, and HEAD's and the target's trees, read in-process; nothing when any
// of it needs git.
std::optional<Trees> read_trees(const Repository& repo, const Head& head,
                                const std::string& target) {
  auto objects = ObjectReader::open(repo);
  if (!objects) return std::nullopt;
  auto commit = resolve_commit(repo, head, target, *objects);
  if (!commit) return std::nullopt;
  auto head_tree = commit_tree(*objects, head.oid);
  auto target_tree = commit_tree(*objects, *commit);
  if (!head_tree || !target_tree) return std::nullopt;
  return Trees{std::move(*objects), *commit, *head_tree, *target_tree};
}

// A Resolution without starting git, for a whole-tree rollback to HEAD~N, HEAD^N or a full
// commit id (nearly every rollback): the commits and trees are read in-process, and the
// index is compared with the target's tree where its cache-tree does not already prove them
// equal. Nothing when any of it needs git; `git diff-index` alone is asked when only the
// comparison does.
std::optional<Result<Resolution>> resolve_in_process(const Repository& repo, const Head& head,
                                                     const std::string& target) {
  auto trees = read_trees(repo, head, target);
  if (!trees) return std::nullopt;
  Resolution r;
  r.target_oid = trees->target_oid;
  r.scope.head_tree = trees->head_tree;
  std::optional<std::vector<std::string>> changed;
  r.scope.scan = scan_tracked_files(repo, [&](const IndexFile& index) {
    changed = diff_index_to_tree(index, trees->target_tree, trees->objects);
  });
  if (!changed) {
    auto listed = git_output(repo, {"diff-index", "--cached", "-z", "--name-only", "--no-renames",
                                    trees->target_oid, "--"});
    if (!listed) return Result<Resolution>(listed.error());
    changed = split_nul(*listed);
  }
  if (received_interrupt() != 0) {
    return Result<Resolution>(
        make_error(ExitCode::interrupted, "interrupted before anything was changed"));
  }
  r.scope.paths = std::move(*changed);
  return Result<Resolution>(std::move(r));
}

Result<Resolution> resolve_target(const Repository& repo, const Head& head, std::string target,
                                  const std::vector<std::string>& paths) {
  if (target.empty() || target[0] == '-') {
    return make_error(ExitCode::usage, "'" + target + "' is not a revision");
  }
  const std::string as_written = target;
  if (target.rfind(":/", 0) == 0) {  // a message search: a suffix would become part of it
    auto found = git_output(repo, {"rev-parse", "--verify", "--quiet", "--end-of-options", target});
    if (!found || !is_hex_oid(trim_right(*found))) {
      return make_error(ExitCode::usage, "no commit message matches '" + target.substr(2) + "'");
    }
    target = trim_right(*found);
  }
  if (paths.empty()) {
    if (auto r = resolve_in_process(repo, head, target)) return std::move(*r);
  }
  auto rev_parse =
      spawn(quiet(git_command(repo, {"rev-parse", target + "^{commit}", head.oid + "^{tree}"})));
  if (!rev_parse) return rev_parse.error();
  std::vector<std::string> diff_args = {"diff-index",   "--cached",           "-z", "--name-only",
                                        "--no-renames", target + "^{commit}", "--"};
  diff_args.insert(diff_args.end(), paths.begin(), paths.end());
  auto diff = spawn(quiet(git_command(repo, diff_args)));
  if (!diff) return diff.error();
  Resolution r;
  r.scope.scan = scan_tracked_files(repo);
  const ChildOutcome resolved = rev_parse->wait();
  const ChildOutcome changed = diff->wait();
  if (received_interrupt() != 0) {
    return make_error(ExitCode::interrupted, "interrupted before anything was changed");
  }
  std::istringstream lines(resolved.out);
  std::string commit, tree;
  if (resolved.success() && std::getline(lines, commit) && std::getline(lines, tree) &&
      is_hex_oid(commit) && is_hex_oid(tree)) {
    if (!changed.success()) {
      return make_error(ExitCode::step_failed,
                        "git diff-index failed: " + git_message(changed.err));
    }
    r.target_oid = commit;
    r.scope.head_tree = tree;
    r.scope.paths = split_nul(changed.out);
    return r;
  }
  if (relative_to_head(as_written) && !rev_parse_commit(repo, "HEAD^")) {
    if (shallow_at(repo, head.oid)) {
      return make_error(ExitCode::refused, as_written +
                                               " is not in this shallow clone: fetch more "
                                               "history first (git fetch --deepen=1)");
    }
    return make_error(ExitCode::refused, as_written + " does not exist: HEAD is the root commit");
  }
  return make_error(ExitCode::usage, "unknown revision '" + as_written +
                                         "': name a commit, branch or tag (e.g. HEAD~1)");
}

StepRecord validate(const Repository& repo, const RollbackOptions& options, std::string& error) {
  StepTimer timer("validate", options.validate_timeout, options.kill_grace);
  for (auto [part, args] : {std::pair<const char*, std::vector<std::string>>{"status", {"status"}},
                            {"log", {"log", "--oneline", "-5"}}}) {
    ChildCommand cmd = git_command(repo, args);
    cmd.out = cmd.err = options.git_output;
    auto outcome = timer.run(part, cmd);
    if (!outcome) {
      error = outcome.error().message;
      break;
    }
    if (timer.stopped()) {
      error = git_message(outcome->err);
      break;
    }
  }
  return timer.finish(options.validate_threshold, options.warn_only);
}

void add_validation(const Repository& repo, const RollbackOptions& options, RollbackRun& run) {
  const StepStatus rolled_back = run.records.front().status;
  if (!options.validate || (rolled_back != StepStatus::ok && rolled_back != StepStatus::breach)) {
    return;
  }
  std::string error;
  StepRecord record = validate(repo, options, error);
  record.head_before = record.head_after = run.records.front().head_after;
  if (run.git_error.empty()) run.git_error = error;
  run.records.push_back(std::move(record));
}

}  // namespace

namespace {

// `git reset MODE` to the target. Submodules are other repositories: their work trees are
// never the rollback's to move.
std::vector<std::string> reset_args(const char* mode, const std::string& target_oid) {
  return {"reset", mode, "--no-recurse-submodules", target_oid};
}

// Every precondition of a rollback, checked from git's files before anything runs.
Result<Head> check_rollback(const Repository& repo, const RollbackOptions& options) {
  if (auto ok = require_work_tree(repo); !ok) return ok.error();
  auto head = require_born_head(repo);
  if (!head) return head.error();
  if (!options.force) {
    if (auto ok = require_no_operation_in_progress(repo); !ok) return ok.error();
  }
  if (auto ok = require_index_unlocked(repo); !ok) return ok.error();
  if (options.paths.empty()) {  // a reset moves HEAD's branch; a restore of paths does not
    if (auto ok = require_refs_unlocked(repo, *head); !ok) return ok.error();
  }
  if (options.keep && !options.paths.empty()) {
    return make_error(ExitCode::usage, "--keep applies to a whole-tree rollback, not to paths");
  }
  // The snapshot may need no git, but the reset does: without one, leave even the snapshot
  // untaken, with the message starting git would have given.
  if (!find_program("git")) {
    return make_error(ExitCode::step_failed, "git: not found on PATH: install it or fix PATH");
  }
  return head;
}

Result<RollbackPlan> resolve_plan(const Repository& repo, const RollbackOptions& options,
                                  const Head& head) {
  RollbackPlan plan;
  plan.head = head;
  plan.target = options.target;
  auto resolved = resolve_target(repo, head, options.target, options.paths);
  if (!resolved) return resolved.error();
  plan.target_oid = resolved->target_oid;
  plan.scope = std::move(resolved->scope);
  plan.paths = options.paths;
  if (options.paths.empty()) {
    plan.git_args = reset_args(options.keep ? "--keep" : "--hard", plan.target_oid);
  } else {
    plan.git_args = {"restore",
                     "--no-recurse-submodules",
                     "--source=" + plan.target_oid,
                     "--staged",
                     "--worktree",
                     "--"};
    plan.git_args.insert(plan.git_args.end(), options.paths.begin(), options.paths.end());
  }
  return plan;
}

// Every entry merged, and none that git would not look at or would not commit: git's own
// check before a two-way reset writes a file then proves what a scan would.
bool plain_index(const IndexFile& index) {
  return std::none_of(index.entries.begin(), index.entries.end(), [](const IndexEntry& e) {
    return e.stage != 0 || e.assume_unchanged || e.skip_worktree || e.intent_to_add;
  });
}

// The plan of a whole-tree `reset --hard` that can start with a two-way reset before the tree
// is scanned (see Snapshot, format 3): its scope holds the index and the paths where it and
// the target differ, nothing scanned yet. Nothing when the index is not plain, or the
// target, its trees or the comparison need git: the plan with the scan is made then.
std::optional<RollbackPlan> plan_before_scan(const Repository& repo, const RollbackOptions& options,
                                             const Head& head) {
  if (!options.paths.empty() || options.keep || !repo.work_tree()) return std::nullopt;
  const std::string& target = options.target;
  if (target.empty() || target[0] == '-' || target.rfind(":/", 0) == 0) return std::nullopt;
  auto trees = read_trees(repo, head, target);
  if (!trees) return std::nullopt;
  RollbackPlan plan;
  plan.scope.scan.index = read_index_file(repo.index_file());
  const auto& index = plan.scope.scan.index.index;
  // Nothing staged, as the index's own cache-tree proves: a two-way reset then leaves the
  // index as `reset --hard` does, and writes only where HEAD and the target differ.
  if (!index || !plain_index(*index) || index->cache_tree_root != trees->head_tree) {
    return std::nullopt;
  }
  auto changed = diff_index_to_tree(*index, trees->target_tree, trees->objects);
  if (!changed) return std::nullopt;
  std::sort(changed->begin(), changed->end());
  plan.head = head;
  plan.target = target;
  plan.target_oid = trees->target_oid;
  plan.scope.paths = std::move(*changed);
  plan.scope.head_tree = trees->head_tree;
  plan.scope.before_scan = true;
  plan.git_args = reset_args("--hard", plan.target_oid);
  return plan;
}

}  // namespace

Result<RollbackPlan> plan_rollback(const Repository& repo, const RollbackOptions& options,
                                   TreeScan scan) {
  auto head = check_rollback(repo, options);
  if (!head) return head.error();
  if (scan == TreeScan::alongside_reset) {
    if (auto plan = plan_before_scan(repo, options, *head)) return std::move(*plan);
  }
  return resolve_plan(repo, options, *head);
}

namespace {

std::size_t local_changes(const Repository& repo) {
  auto changes = git_output(repo, {"status", "--porcelain", "--untracked-files=all"},
                            {{"GIT_OPTIONAL_LOCKS", "0"}});
  return changes ? split_status(*changes).size() : 0;
}

}  // namespace

RollbackPreview preview_rollback(const Repository& repo, const RollbackPlan& plan,
                                 const RollbackOptions& options) {
  RollbackPreview preview;
  preview.action = "rollback";
  preview.head = plan.head;
  preview.local_changes = local_changes(repo);
  preview.target = plan.target;
  preview.target_oid = plan.target_oid;
  preview.git_args = plan.git_args;
  preview.validate = options.validate;
  return preview;
}

namespace {

// After a snapshot of a clean tree, a reset need not prove the tree clean again. `git reset
// --keep` (a two-way merge from HEAD) writes the same files as `--hard` when every tracked
// file is unchanged and nothing untracked stands where the target puts a file, but it trusts
// the index for the files the target leaves alone where `--hard` lstat()s each of them once
// more: in git's own repository 17.0 ms instead of 21.6, in the generated one 26.5 instead
// of 35.3 (medians of 25, interleaved). And a file changed after the snapshot's proof is
// never overwritten, where `--hard` would overwrite it: git keeps the change where the target
// leaves the file alone, and refuses, changing nothing, where it does not.
bool two_way_reset_holds(const RollbackPlan& plan, const RollbackOptions& options,
                         const Snapshot& snapshot) {
  return plan.paths.empty() && !options.keep && !snapshot.dirty && !snapshot.untracked_in_the_way;
}

// Writes what a child said, once it has ended, where `mode` would have sent it as it ran.
void replay(const ChildOutcome& outcome, StreamMode mode) {
  if (mode == StreamMode::inherit) {
    std::fputs(outcome.out.c_str(), stdout);
    std::fputs(outcome.err.c_str(), stderr);
  } else if (mode == StreamMode::tee || mode == StreamMode::to_stderr) {
    std::fputs((outcome.out + outcome.err).c_str(), stderr);
  }
}

// A git command that moves the tree, run as one part of the step.
struct TreeMove {
  std::vector<std::string> args;
  std::string part = "reset";
  // An attempt (a two-way reset): when git refuses it, nothing has changed and the caller
  // takes another way, so its refusal is not the user's to read.
  bool attempt = false;
  std::optional<std::string> input;  // git's stdin
  std::function<void()> meanwhile;   // work of the caller's while git runs
};

// Runs `move`; false when git failed (or refused the attempt).
Result<bool> move_tree(const Repository& repo, TreeMove move, const RollbackOptions& options,
                       StepTimer& timer, RollbackRun& run) {
  ChildCommand cmd = git_command(repo, std::move(move.args));
  cmd.stdin_data = std::move(move.input);
  // An attempt's refusal is not the user's to read; what it says when it succeeds is.
  const bool attempt = move.attempt;
  cmd.out = cmd.err = attempt ? StreamMode::capture : options.git_output;
  auto child = timer.start(cmd);
  if (!child) return child.error();
  if (options.on_git_started) options.on_git_started();
  crash_point("during-reset");
  if (move.meanwhile) move.meanwhile();
  ChildOutcome outcome =
      attempt ? timer.finish_attempt(move.part, *child) : timer.finish_part(move.part, *child);
  if (attempt && outcome.success()) replay(outcome, options.git_output);
  if (!outcome.success() && (!attempt || timer.stopped())) run.git_error = git_message(outcome.err);
  return outcome.success();
}

std::string part_of(const RollbackPlan& plan) {
  return plan.paths.empty() ? "reset" : "restore";
}

// What a first attempt at moving the tree left to do.
enum class Attempt {
  done,       // the tree is moved, or the step stopped (killed, interrupted, failed)
  refused,    // git changed nothing: something changed after the snapshot's proof
  hard_next,  // the snapshot holds everything `reset --hard` touches: run it
};

// A plan made before the scan (see Snapshot, format 3): `git reset --keep` starts as soon as
// the partial snapshot is written, and the tracked files the reset cannot write are scanned
// while it runs. A clean tree (the scan proves every other file unchanged and nothing
// staged; git proves the files it writes unchanged before writing them) is then moved
// exactly as `reset --hard` moves it, and the snapshot is completed. Local changes the
// two-way reset kept are held in the snapshot before `reset --hard` discards them, as it
// would have without the attempt.
Result<Attempt> reset_before_scan(const Repository& repo, RollbackPlan& plan,
                                  const RollbackOptions& options, Snapshot& snapshot,
                                  StepTimer& timer, RollbackRun& run) {
  SnapshotScope& scope = plan.scope;
  if (snapshot.untracked_in_the_way) {  // git would refuse: hold the rest, then reset --hard
    auto completed = timer.time("snapshot", [&] {
      scan_index_entries(repo, scope.scan, {});
      return complete_snapshot(repo, snapshot, scope);
    });
    if (!completed) return completed.error();  // nothing was changed
    return Attempt::hard_next;
  }
  // While git resets: the scan, and the snapshot completed once it proves the tree clean
  // (completed or not, interrupted or out of disk, it holds what this reset touches).
  bool clean = false;
  auto scan_alongside = [&] {
    scan_index_entries(repo, scope.scan, scope.paths);
    clean = scope.proven_clean();
    if (clean) (void)complete_snapshot(repo, snapshot, scope);
  };
  auto moved = move_tree(
      repo, {reset_args("--keep", plan.target_oid), "reset", true, std::nullopt, scan_alongside},
      options, timer, run);
  if (!moved) return moved.error();
  if (timer.stopped()) return Attempt::done;
  if (!*moved) return Attempt::refused;
  if (clean) return Attempt::done;
  crash_point("after-two-way-reset");
  // Local changes the two-way reset kept, found again against the index git wrote (the
  // target's tree: nothing was staged), are held with the index as it was; then exactly those
  // files are written from that index, as `reset --hard` would have written them, and
  // ORIG_HEAD and the reflog stay as the one reset made them.
  std::vector<std::string> changed;
  auto completed = timer.time("snapshot", [&] {
    SnapshotScope whole = scope;
    whole.scan.unproven = changed = scan_tracked_files(repo).unproven;
    whole.scan.unchanged = false;
    return complete_snapshot(repo, snapshot, whole);
  });
  if (!completed) {
    timer.fail();
    run.git_error = "the local changes were kept: " + completed.error().message;
    return Attempt::done;
  }
  std::string listed;
  for (const auto& path : changed) listed += path + '\0';
  auto discarded = move_tree(
      repo, {{"checkout-index", "-f", "-u", "-z", "--stdin"}, "reset", false, std::move(listed)},
      options, timer, run);
  if (!discarded) return discarded.error();
  return Attempt::done;
}

// run_rollback, with the plan made by `make_plan` (in the snapshot's part: finding what the
// reset may touch is most of the snapshot's work).
Result<RollbackRun> rollback_with(const Repository& repo, const RollbackOptions& options,
                                  const std::function<Result<RollbackPlan>()>& make_plan) {
  RollbackRun run;
  StepTimer timer("rollback", options.rollback_timeout, options.kill_grace);
  // The snapshot's ref is written only once the plan stands, so a refusal changes nothing.
  std::optional<RollbackPlan> planned;
  auto snapshot_of = [&](const std::function<Result<RollbackPlan>()>& plan_now,
                         const Snapshot* retakes) {
    return timer.time("snapshot", [&]() -> Result<Snapshot> {
      auto plan = plan_now();
      if (!plan) return plan.error();
      planned = std::move(*plan);
      crash_point("during-snapshot");
      std::string reason = options.snapshot_reason.empty() ? "before rollback to " + options.target
                                                           : options.snapshot_reason;
      return take_snapshot(repo, planned->head, {options.tool, reason, retakes}, planned->scope);
    });
  };
  auto snapshot = snapshot_of(make_plan, nullptr);
  if (!snapshot) return snapshot.error();  // nothing was changed
  run.snapshot = *snapshot;
  crash_point("after-snapshot");

  Attempt attempt = Attempt::hard_next;
  if (planned->scope.before_scan) {
    auto early = reset_before_scan(repo, *planned, options, *run.snapshot, timer, run);
    if (!early) return early.error();
    attempt = *early;
  } else {
    if (has_assume_unchanged(planned->scope.scan)) {
      auto cleared = timer.time("clear-flags", [&] { return release_assume_unchanged(repo); });
      if (!cleared) {
        timer.fail();
        run.git_error = cleared.error().message;
      }
    }
    if (!timer.stopped() && two_way_reset_holds(*planned, options, *snapshot)) {
      auto two_way =
          move_tree(repo, {reset_args("--keep", planned->target_oid), part_of(*planned), true},
                    options, timer, run);
      if (!two_way) return two_way.error();
      attempt = *two_way ? Attempt::done : Attempt::refused;
    }
  }
  if (attempt == Attempt::refused && !timer.stopped()) {
    // Something changed after the proof: the snapshot is taken again, whole, from a new plan,
    // and the reset runs as planned.
    RollbackOptions again = options;
    again.target = planned->target_oid;
    const std::string as_written = planned->target;
    const Snapshot first = *run.snapshot;
    auto retaken = snapshot_of([&] { return plan_rollback(repo, again); }, &first);
    if (!retaken) return retaken.error();  // nothing was changed
    planned->target = as_written;
    run.snapshot = *retaken;
    attempt = Attempt::hard_next;
  }
  if (attempt == Attempt::hard_next && !timer.stopped()) {
    if (auto planned_reset =
            move_tree(repo, {planned->git_args, part_of(*planned)}, options, timer, run);
        !planned_reset) {
      return planned_reset.error();
    }
  }

  const RollbackPlan& plan = *planned;
  StepRecord record = timer.finish(options.rollback_threshold, options.warn_only);
  record.head_before = plan.head.oid;
  if (auto after = repo.head()) record.head_after = after->oid;
  record.labels = {
      {"target", plan.target},
      {"target_oid", plan.target_oid},
      {"snapshot", run.snapshot->id},
      {"mode", plan.paths.empty() ? (options.keep ? std::string("keep") : std::string("hard"))
                                  : std::string("paths")}};
  run.records.push_back(std::move(record));
  add_validation(repo, options, run);
  return run;
}

}  // namespace

Result<RollbackRun> run_rollback(const Repository& repo, const RollbackOptions& options) {
  return rollback_with(repo, options,
                       [&] { return plan_rollback(repo, options, TreeScan::alongside_reset); });
}

Result<RollbackRun> run_rollback(const Repository& repo, RollbackPlan plan,
                                 const RollbackOptions& options) {
  // Taken once: the plan holds the index read (its bytes and entries), not copied again.
  return rollback_with(repo, options, [&]() -> Result<RollbackPlan> { return std::move(plan); });
}

namespace {

// The preconditions of an undo, and the snapshot it would restore.
Result<std::pair<Head, Snapshot>> check_undo(const Repository& repo, const std::string& id,
                                             const RollbackOptions& options) {
  if (auto ok = require_work_tree(repo); !ok) return ok.error();
  auto head = require_born_head(repo);
  if (!head) return head.error();
  if (!options.force) {
    if (auto ok = require_no_operation_in_progress(repo); !ok) return ok.error();
  }
  if (auto ok = require_index_unlocked(repo); !ok) return ok.error();
  if (auto ok = require_refs_unlocked(repo, *head); !ok) return ok.error();
  auto wanted = find_snapshot(repo, id);
  if (!wanted) return wanted.error();
  if (wanted->branch != head->ref) {
    std::string was =
        wanted->branch.empty() ? "a detached HEAD" : "branch " + Head{wanted->branch, ""}.branch();
    std::string now = head->detached() ? "HEAD is detached" : "HEAD is on " + head->branch();
    return make_error(ExitCode::refused, "snapshot " + wanted->id + " was taken on " + was +
                                             " but " + now + ": switch back first");
  }
  return std::pair(*head, *wanted);
}

}  // namespace

Result<RollbackPreview> preview_undo(const Repository& repo, const std::string& id,
                                     const RollbackOptions& options) {
  auto checked = check_undo(repo, id, options);
  if (!checked) return checked.error();
  RollbackPreview preview;
  preview.action = "undo";
  preview.head = checked->first;
  preview.local_changes = local_changes(repo);
  preview.restore = checked->second;
  preview.validate = options.validate;
  return preview;
}

Result<RollbackRun> run_undo(const Repository& repo, const std::string& id,
                             const RollbackOptions& options) {
  auto checked = check_undo(repo, id, options);
  if (!checked) return checked.error();
  // Named references, not a structured binding: clang before 16 cannot capture those.
  const auto& head = checked->first;
  const auto& wanted = checked->second;

  RollbackRun run;
  StepTimer timer("rollback", options.rollback_timeout, options.kill_grace);
  // The present state is snapshotted first, so that the undo can itself be undone: it must
  // hold what the reset to the snapshot's HEAD touches and every path the restore writes.
  auto snapshot = timer.time("snapshot", [&]() -> Result<Snapshot> {
    auto resolved = resolve_target(repo, head, wanted.head, {});
    if (!resolved) return resolved.error();
    auto restored = restored_paths(repo, wanted);
    if (!restored) return restored.error();
    SnapshotScope scope = std::move(resolved->scope);
    scope.paths.insert(scope.paths.end(), restored->begin(), restored->end());
    return take_snapshot(repo, head, {options.tool, "before undoing to snapshot " + wanted.id},
                         scope);
  });
  if (!snapshot) return snapshot.error();
  run.snapshot = *snapshot;
  if (options.on_git_started) options.on_git_started();
  auto restored = timer.time("restore", [&] { return restore_snapshot(repo, wanted); });
  if (!restored) {
    timer.fail();
    run.git_error = restored.error().message;
  }
  StepRecord record = timer.finish(options.rollback_threshold, options.warn_only);
  record.head_before = head.oid;
  if (auto after = repo.head()) record.head_after = after->oid;
  record.labels = {{"mode", "undo"}, {"undo", wanted.id}, {"snapshot", run.snapshot->id}};
  run.records.push_back(std::move(record));
  add_validation(repo, options, run);
  return run;
}

}  // namespace perfguard
