#include "steps/commit_step.h"

#include "git/git.h"
#include "git/lock_file.h"
#include "steps/preconditions.h"
#include "steps/step_timer.h"

namespace perfguard {

Result<CommitRun> run_commit_step(const Repository& repo, const CommitOptions& options) {
  if (auto ok = require_work_tree(repo); !ok) return ok.error();
  if (auto ok = require_index_unlocked(repo); !ok) return ok.error();

  CommitRun run;
  auto head_before = repo.head();
  if (!head_before) return head_before.error();
  if (auto ok = require_refs_unlocked(repo, *head_before); !ok) return ok.error();
  run.record.head_before = head_before->oid;

  StepTimer timer("commit", options.timeout, options.kill_grace);
  ChildOutcome last;
  KilledChildren children;
  children.started_us = time_before_files();
  auto run_part = [&](const char* part, ChildCommand cmd) -> Result<ChildOutcome> {
    auto child = timer.start(std::move(cmd));
    if (!child) return child.error();
    children.process_groups.push_back(child->pid());  // each child leads its own group
    if (options.on_git_started && std::string_view(part) == "commit") options.on_git_started();
    return timer.finish_part(part, *child);
  };
  if (options.stage) {
    std::vector<std::string> add = {"add", "-A"};
    if (!options.pathspecs.empty()) {
      add.push_back("--");
      add.insert(add.end(), options.pathspecs.begin(), options.pathspecs.end());
    }
    ChildCommand cmd = git_command(repo, add);
    cmd.out = cmd.err = options.git_output;
    auto outcome = run_part("add", cmd);
    if (!outcome) return outcome.error();
    last = *outcome;
  }
  if (!timer.stopped()) {
    std::vector<std::string> commit = {"commit"};
    // A summary nobody will see still costs git a diff of the new commit against its parent.
    if (options.git_output == StreamMode::capture) commit.push_back("--quiet");
    commit.insert(commit.end(), options.message.begin(), options.message.end());
    commit.insert(commit.end(), options.git_args.begin(), options.git_args.end());
    ChildCommand cmd = git_command(repo, commit);
    cmd.out = cmd.err = options.git_output;
    auto outcome = run_part("commit", cmd);
    if (!outcome) return outcome.error();
    last = *outcome;
  }
  children.ended_us = time_after_files();
  run.record = [&] {
    StepRecord r = timer.finish(options.threshold, options.warn_only);
    r.head_before = run.record.head_before;
    return r;
  }();
  if (run.record.status == StepStatus::failed) {
    run.git_error = git_message(last.err + "\n" + last.out);
  }
  if (run.record.status == StepStatus::timeout || run.record.status == StepStatus::interrupted) {
    // git removes its locks when it is terminated; after a SIGKILL it cannot. Only a lock
    // proven to be the killed children's goes: another process may have taken it since.
    std::vector<std::filesystem::path> locks = {repo.index_lock(), repo.git_dir() / "HEAD.lock"};
    if (!head_before->detached()) locks.push_back(repo.common_dir() / (head_before->ref + ".lock"));
    for (const auto& lock : locks) {
      if (remove_lock_left_by(lock, repository_dirs(repo), children)) run.removed_stale_lock = true;
    }
  }
  if (auto head_after = repo.head()) run.record.head_after = head_after->oid;
  return run;
}

}  // namespace perfguard
