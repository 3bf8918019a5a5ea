#include "steps/preconditions.h"

#include <optional>

#include "core/clock.h"
#include "core/duration.h"
#include "git/lock_file.h"

namespace perfguard {

namespace {

// `path` as one shell word, so the printed command can be pasted as it is.
std::string shell_word(const std::string& path) {
  if (path.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "_./-+=:@%,") == std::string::npos) {
    return path;
  }
  std::string quoted = "'";
  for (char c : path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// A lock left behind must not leave anyone stuck: say whose it is and the one command that
// clears it, or that its owner still runs and is to be waited for.
Status require_unlocked(const Repository& repo, const std::filesystem::path& path) {
  std::optional<LockFile> lock = inspect_lock(path, repository_dirs(repo));
  if (!lock) return {};
  const std::string age = format_duration(
      Duration::micros(std::max<std::int64_t>(0, now_unix_us() - lock->created_us)));
  const std::string rm = "rm -f " + shell_word(path.string());
  std::string message = path.string() + " exists";
  if (lock->held()) {
    const LockHolder& h = lock->holders.front();
    const std::string pid = std::to_string(h.pid);
    message += ": it is held by a running process (" + h.command + ", pid " + pid + ", for " + age +
               "); wait for it to finish, or stop it with kill " + pid + " if it hangs";
  } else if (!lock->gits.empty()) {
    const LockHolder& g = lock->gits.front();
    const std::string pid = std::to_string(g.pid);
    message += ": no process has it open, but git (pid " + pid +
               ") runs in this repository and may still own it (taken " + age +
               " ago); wait for it to finish, or stop it with kill " + pid + " if it hangs";
  } else if (lock->owner_gone()) {
    message += ": its owner is gone (no process has it open; it was taken " + age +
               " ago); remove it with " + rm;
  } else {
    const std::string unseen = lock->proc_unreadable
                                   ? std::string("/proc cannot be read")
                                   : std::to_string(lock->hidden.size()) +
                                         " process(es) of the lock's owner cannot be looked into";
    message += " (taken " + age + " ago): no process we can see has it open, but " + unseen +
               "; if no git runs in this repository, remove it with " + rm;
  }
  return make_error(ExitCode::refused, message);
}

}  // namespace

Status require_work_tree(const Repository& repo) {
  if (repo.bare()) {
    return make_error(ExitCode::refused,
                      repo.git_dir().string() + " is a bare repository: it has no work tree");
  }
  return {};
}

Status require_index_unlocked(const Repository& repo) {
  return require_unlocked(repo, repo.index_lock());
}

Status require_refs_unlocked(const Repository& repo, const Head& head) {
  // HEAD is per worktree; branches live in the common directory.
  if (auto ok = require_unlocked(repo, repo.git_dir() / "HEAD.lock"); !ok) return ok;
  if (head.detached()) return {};
  return require_unlocked(repo, repo.common_dir() / (head.ref + ".lock"));
}

Status require_no_operation_in_progress(const Repository& repo) {
  RepoState state = repo.state();
  if (state == RepoState::none) return {};
  std::string what = to_string(state);
  std::string advice = state == RepoState::bisect
                           ? "git bisect reset"
                           : "git " + what + " --continue or git " + what + " --abort";
  return make_error(ExitCode::refused,
                    "a " + what + " is in progress: finish it (" + advice + ") or pass --force");
}

Result<Head> require_born_head(const Repository& repo) {
  auto head = repo.head();
  if (!head) return head;
  if (head->unborn()) {
    return make_error(ExitCode::refused, "HEAD has no commit yet (" + head->branch() +
                                             " is unborn): nothing to roll back");
  }
  return head;
}

}  // namespace perfguard
