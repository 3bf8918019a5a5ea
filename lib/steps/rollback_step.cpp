#include "steps/rollback_step.h"

#include <signal.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

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

std::vector<std::string> split_status(const std::string& porcelain) {
  std::vector<std::string> lines;
  std::istringstream in(porcelain);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// The target's commit and HEAD's tree, from one `git rev-parse`.
Result<std::pair<std::string, std::string>> resolve_target(const Repository& repo,
                                                           const std::string& target) {
  if (target.empty() || target[0] == '-') {
    return make_error(ExitCode::usage, "'" + target + "' is not a revision");
  }
  if (auto both = git_output(repo, {"rev-parse", target + "^{commit}", "HEAD^{tree}"})) {
    std::istringstream lines(*both);
    std::string commit, tree;
    if (std::getline(lines, commit) && std::getline(lines, tree) && is_hex_oid(commit) &&
        is_hex_oid(tree)) {
      return std::pair(commit, tree);
    }
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
  return timer.finish(options.validate_threshold);
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

Result<RollbackPlan> plan_rollback(const Repository& repo, const RollbackOptions& options) {
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

  RollbackPlan plan;
  plan.head = *head;
  plan.target = options.target;
  auto resolved = resolve_target(repo, options.target);
  if (!resolved) return resolved.error();
  plan.target_oid = resolved->first;
  plan.head_tree = resolved->second;
  plan.paths = options.paths;
  if (options.paths.empty()) {
    plan.git_args = {"reset", options.keep ? "--keep" : "--hard", plan.target_oid};
  } else {
    plan.git_args = {"restore", "--source=" + plan.target_oid, "--staged", "--worktree", "--"};
    plan.git_args.insert(plan.git_args.end(), options.paths.begin(), options.paths.end());
  }
  return plan;
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

Result<RollbackRun> run_rollback(const Repository& repo, const RollbackPlan& plan,
                                 const RollbackOptions& options) {
  RollbackRun run;
  StepTimer timer("rollback", options.rollback_timeout, options.kill_grace);
  SnapshotRequest request{
      options.tool, "before rollback to " + plan.target + " (" + short_oid(plan.target_oid) + ")",
      plan.head_tree};
  auto snapshot = timer.time("snapshot", [&] { return take_snapshot(repo, plan.head, request); });
  if (!snapshot) return snapshot.error();  // nothing was changed
  run.snapshot = *snapshot;
  crash_point("after-snapshot");

  ChildCommand cmd = git_command(repo, plan.git_args);
  cmd.out = cmd.err = options.git_output;
  auto child = timer.start(cmd);
  if (!child) return child.error();
  crash_point("during-reset");
  ChildOutcome outcome = timer.finish_part(plan.paths.empty() ? "reset" : "restore", *child);
  if (!outcome.success()) run.git_error = git_message(outcome.err);

  StepRecord record = timer.finish(options.rollback_threshold);
  record.head_before = plan.head.oid;
  if (auto head = repo.head()) record.head_after = head->oid;
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

Result<RollbackRun> run_undo(const Repository& repo, const std::string& id,
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

  RollbackRun run;
  StepTimer timer("rollback", options.rollback_timeout, options.kill_grace);
  SnapshotRequest request{options.tool, "before undoing to snapshot " + wanted->id};
  auto snapshot = timer.time("snapshot", [&] { return take_snapshot(repo, *head, request); });
  if (!snapshot) return snapshot.error();
  run.snapshot = *snapshot;
  auto restored = timer.time("restore", [&] { return restore_snapshot(repo, *wanted); });
  if (!restored) {
    timer.fail();
    run.git_error = restored.error().message;
  }
  StepRecord record = timer.finish(options.rollback_threshold);
  record.head_before = head->oid;
  if (auto after = repo.head()) record.head_after = after->oid;
  record.labels = {{"mode", "undo"}, {"undo", wanted->id}, {"snapshot", run.snapshot->id}};
  run.records.push_back(std::move(record));
  add_validation(repo, options, run);
  return run;
}

}  // namespace perfguard
