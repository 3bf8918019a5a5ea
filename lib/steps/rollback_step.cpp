#include "steps/rollback_step.h"

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "git/clean_check.h"
#include "git/git.h"
#include "steps/preconditions.h"
#include "steps/step_timer.h"

namespace perfguard {

namespace {

// Fault injection for the crash-safety tests: PERFGUARD_TEST_FAULT names a point at which
// the process kills itself with SIGKILL, as a power cut or `kill -9` would.
void crash_point(const char* point) {
  static const char* fault = std::getenv("PERFGUARD_TEST_FAULT");
  if (fault != nullptr && std::strcmp(fault, point) == 0) ::raise(SIGKILL);
}

std::string short_oid(const std::string& oid) {
  return oid.substr(0, 12);
}

bool relative_to_head(const std::string& target) {
  return target.rfind("HEAD", 0) == 0 || target.rfind("@", 0) == 0;
}

// True when none of the NUL-separated paths (relative to the top) exists on disk.
bool nothing_in_the_way(const Repository& repo, const std::string& paths) {
  const std::string root = repo.work_tree()->string() + "/";
  size_t pos = 0;
  while (pos < paths.size()) {
    size_t end = paths.find('\0', pos);
    if (end == std::string::npos) end = paths.size();
    struct stat st {};
    const std::string path = root + paths.substr(pos, end - pos);
    if (::lstat(path.c_str(), &st) == 0 || errno != ENOENT) return false;
    pos = end + 1;
  }
  return true;
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

ChildCommand quiet(ChildCommand cmd) {
  cmd.out = StreamMode::capture;
  cmd.err = StreamMode::capture;
  return cmd;
}

// The target, resolved while the tree is proven clean or not: `git rev-parse` for the
// target's commit and HEAD's tree, `git diff-tree` for the paths the target has and HEAD
// has not (an untracked file there would be overwritten), and an lstat() of every tracked
// file, all at once.
struct Resolution {
  std::string target_oid;
  bool proven_clean = false;
};

Result<Resolution> resolve_target(const Repository& repo, const std::string& target,
                                  bool whole_tree) {
  if (target.empty() || target[0] == '-') {
    return make_error(ExitCode::usage, "'" + target + "' is not a revision");
  }
  auto rev_parse =
      spawn(quiet(git_command(repo, {"rev-parse", target + "^{commit}", "HEAD^{tree}"})));
  if (!rev_parse) return rev_parse.error();
  std::optional<RunningChild> added;
  if (whole_tree) {
    auto child =
        spawn(quiet(git_command(repo, {"diff-tree", "-r", "-z", "--name-only", "--no-renames",
                                       "--diff-filter=A", "HEAD", target + "^{commit}"})));
    if (child) added.emplace(std::move(*child));
  }
  const TrackedScan scan = whole_tree ? scan_tracked_files(repo) : TrackedScan{};
  const ChildOutcome resolved = rev_parse->wait();
  std::istringstream lines(resolved.out);
  std::string commit, tree;
  if (resolved.success() && std::getline(lines, commit) && std::getline(lines, tree) &&
      is_hex_oid(commit) && is_hex_oid(tree)) {
    Resolution r{commit, scan.unchanged && scan.index_tree == tree};
    if (added) {
      const ChildOutcome paths = added->wait();
      r.proven_clean = r.proven_clean && paths.success() && nothing_in_the_way(repo, paths.out);
    }
    return r;
  }
  if (relative_to_head(target) && !rev_parse_commit(repo, "HEAD^")) {
    return make_error(ExitCode::refused, target + " does not exist: HEAD is the root commit");
  }
  return make_error(ExitCode::usage, "unknown revision '" + target +
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

// Every precondition of a rollback, checked from git's files before anything runs.
Result<Head> check_rollback(const Repository& repo, const RollbackOptions& options) {
  if (auto ok = require_work_tree(repo); !ok) return ok.error();
  auto head = require_born_head(repo);
  if (!head) return head.error();
  if (!options.force) {
    if (auto ok = require_no_operation_in_progress(repo); !ok) return ok.error();
  }
  if (auto ok = require_index_unlocked(repo); !ok) return ok.error();
  if (options.keep && !options.paths.empty()) {
    return make_error(ExitCode::usage, "--keep applies to a whole-tree rollback, not to paths");
  }
  return head;
}

Result<RollbackPlan> resolve_plan(const Repository& repo, const RollbackOptions& options,
                                  const Head& head) {
  RollbackPlan plan;
  plan.head = head;
  plan.target = options.target;
  auto resolved = resolve_target(repo, options.target, options.paths.empty());
  if (!resolved) return resolved.error();
  plan.target_oid = resolved->target_oid;
  plan.proven_clean = resolved->proven_clean;
  plan.paths = options.paths;
  if (options.paths.empty()) {
    plan.git_args = {"reset", options.keep ? "--keep" : "--hard", plan.target_oid};
  } else {
    plan.git_args = {"restore", "--source=" + plan.target_oid, "--staged", "--worktree", "--"};
    plan.git_args.insert(plan.git_args.end(), options.paths.begin(), options.paths.end());
  }
  return plan;
}

}  // namespace

Result<RollbackPlan> plan_rollback(const Repository& repo, const RollbackOptions& options) {
  auto head = check_rollback(repo, options);
  if (!head) return head.error();
  return resolve_plan(repo, options, *head);
}

std::string describe_plan(const Repository& repo, const RollbackPlan& plan,
                          const RollbackOptions& options) {
  std::ostringstream out;
  auto changes = git_output(repo, {"status", "--porcelain", "--untracked-files=all"},
                            {{"GIT_OPTIONAL_LOCKS", "0"}});
  size_t n = changes ? split_status(*changes).size() : 0;
  out << "would snapshot HEAD " << short_oid(plan.head.oid)
      << (plan.head.detached() ? " (detached)" : " on " + plan.head.branch());
  out << (n ? " with " + std::to_string(n) + " local change" + (n == 1 ? "" : "s")
            : std::string(", clean"))
      << "\n";
  out << "would run: git";
  for (const auto& a : plan.git_args) out << ' ' << a;
  out << "   # " << plan.target << "\n";
  if (options.validate) out << "would validate: git status; git log --oneline -5\n";
  return out.str();
}

Result<RollbackRun> run_rollback(const Repository& repo, const RollbackOptions& options) {
  auto head = check_rollback(repo, options);
  if (!head) return head.error();
  RollbackRun run;
  StepTimer timer("rollback", options.rollback_timeout, options.kill_grace);
  // The snapshot's commit is begun first, so that it is written while the target is
  // resolved and the tree proven clean (or not); its ref is written only once the plan
  // stands, so a refusal changes nothing.
  std::optional<RollbackPlan> planned;
  auto snapshot = timer.time("snapshot", [&]() -> Result<Snapshot> {
    auto pending =
        begin_snapshot(repo, *head, {options.tool, "before rollback to " + options.target});
    if (!pending) return pending.error();
    auto plan = resolve_plan(repo, options, *head);
    if (!plan) return plan.error();
    planned = *plan;
    auto taken = pending->finish(plan->proven_clean);
    if (!taken) return taken;
    if (auto saved = save_snapshot(repo, *taken); !saved) return saved.error();
    return taken;
  });
  if (!snapshot) return snapshot.error();  // nothing was changed
  const RollbackPlan& plan = *planned;
  run.snapshot = *snapshot;
  crash_point("after-snapshot");

  ChildCommand cmd = git_command(repo, plan.git_args);
  cmd.out = cmd.err = options.git_output;
  auto child = timer.start(cmd);
  if (!child) return child.error();
  crash_point("during-reset");
  ChildOutcome outcome = timer.finish_part(plan.paths.empty() ? "reset" : "restore", *child);
  if (!outcome.success()) run.git_error = git_message(outcome.err);

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

Result<std::string> describe_undo(const Repository& repo, const std::string& id,
                                  const RollbackOptions& options) {
  auto checked = check_undo(repo, id, options);
  if (!checked) return checked.error();
  const Snapshot& s = checked->second;
  std::ostringstream out;
  out << "would snapshot the present state of HEAD " << short_oid(checked->first.oid) << "\n"
      << "would restore snapshot " << s.id << ": HEAD " << short_oid(s.head)
      << (s.branch.empty() ? " (detached)" : " on " + Head{s.branch, ""}.branch())
      << (s.dirty ? " with its local changes" : ", clean") << " (" << s.reason << ")\n";
  if (options.validate) out << "would validate: git status; git log --oneline -5\n";
  return out.str();
}

Result<RollbackRun> run_undo(const Repository& repo, const std::string& id,
                             const RollbackOptions& options) {
  auto checked = check_undo(repo, id, options);
  if (!checked) return checked.error();
  const auto& [head, wanted] = *checked;

  RollbackRun run;
  StepTimer timer("rollback", options.rollback_timeout, options.kill_grace);
  SnapshotRequest request{options.tool, "before undoing to snapshot " + wanted.id};
  auto snapshot = timer.time("snapshot", [&] { return take_snapshot(repo, head, request); });
  if (!snapshot) return snapshot.error();
  run.snapshot = *snapshot;
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
