#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/result.h"
#include "git/repository.h"
#include "process/runner.h"
#include "trace/record.h"

namespace perfguard {

struct CommitOptions {
  std::vector<std::string> message;    // {"-m", text} or {"-F", file} ("-F -": stdin)
  bool stage = true;                   // `git add -A` first
  std::vector<std::string> pathspecs;  // limit staging to these
  std::vector<std::string> git_args;   // passed to `git commit` as they are
  Duration threshold = Duration::seconds(1);
  bool warn_only = false;
  std::optional<Duration> timeout;
  Duration kill_grace = Duration::seconds(2);
  StreamMode git_output = StreamMode::tee;
  // Called once, when `git commit` has started: every precondition has passed and the step
  // runs. Work that can overlap git's goes here (the tool opens its store). Not beside
  // `git add -A`, whose index preload lstat()s the files on every core.
  std::function<void()> on_git_started;
};

struct CommitRun {
  StepRecord record;      // root span "commit", children "add" and "commit"
  std::string git_error;  // git's own message when it failed
  bool removed_stale_lock = false;
};

// Times `git add -A` and `git commit` as the step "commit". Refuses (ExitCode::refused,
// nothing run) in a bare repository or while index.lock is held. A step killed at its
// timeout leaves no index.lock behind.
Result<CommitRun> run_commit_step(const Repository& repo, const CommitOptions& options);

}  // namespace perfguard
