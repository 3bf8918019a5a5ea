#include "steps/commit_step.h"

#include <unistd.h>

#include "git/git.h"
#include "steps/preconditions.h"
#include "steps/step_timer.h"

namespace perfguard {

Result<CommitRun> run_commit_step(const Repository& repo, const CommitOptions& options) {
  if (auto ok = require_work_tree(repo); !ok) return ok.error();
  if (auto ok = require_index_unlocked(repo); !ok) return ok.error();

  CommitRun run;
  auto head_before = repo.head();
  if (!head_before) return head_before.error();
  run.record.head_before = head_before->oid;

  StepTimer timer("commit", options.timeout, options.kill_grace);
  ChildOutcome last;
  if (options.stage) {
    std::vector<std::string> add = {"add", "-A"};
    if (!options.pathspecs.empty()) {
      add.push_back("--");
      add.insert(add.end(), options.pathspecs.begin(), options.pathspecs.end());
    }
    ChildCommand cmd = git_command(repo, add);
    cmd.out = cmd.err = options.git_output;
    auto outcome = timer.run("add", cmd);
    if (!outcome) return outcome.error();
    last = *outcome;
  }
  if (!timer.stopped()) {
    std::vector<std::string> commit = {"commit"};
    commit.insert(commit.end(), options.message.begin(), options.message.end());
    commit.insert(commit.end(), options.git_args.begin(), options.git_args.end());
    ChildCommand cmd = git_command(repo, commit);
    cmd.out = cmd.err = options.git_output;
    auto outcome = timer.run("commit", cmd);
    if (!outcome) return outcome.error();
    last = *outcome;
  }
  run.record = [&] {
    StepRecord r = timer.finish(options.threshold, options.warn_only);
    r.head_before = run.record.head_before;
    return r;
  }();
  if (run.record.status == StepStatus::failed) {
    run.git_error = git_message(last.err + "\n" + last.out);
  }
  if (run.record.status == StepStatus::timeout || run.record.status == StepStatus::interrupted) {
    // git removes its lock when it is terminated; after a SIGKILL it cannot. We refused to
    // start while the lock was held, so a lock now is the killed step's own.
    run.removed_stale_lock = ::unlink(repo.index_lock().c_str()) == 0;
  }
  if (auto head_after = repo.head()) run.record.head_after = head_after->oid;
  return run;
}

}  // namespace perfguard
