#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "git/repository.h"

namespace perfguard {

// A live process that has a lock file open. git creates its lock (`index.lock`,
// `HEAD.lock`, `refs/heads/main.lock`, …) with O_EXCL and keeps it open while it works,
// so an open descriptor is the sign of an owner that still runs.
struct LockHolder {
  pid_t pid = 0;
  pid_t process_group = 0;
  std::string command;  // /proc/<pid>/comm, e.g. "git"
};

// A lock file as found on disk, with whoever has it open.
struct LockFile {
  std::filesystem::path path;
  dev_t device = 0;
  ino_t inode = 0;
  uid_t owner = 0;              // the user whose process created it
  std::int64_t created_us = 0;  // birth time (statx), else last status change; Unix µs
  std::vector<LockHolder> holders;
  // Running gits whose working directory is in the repository (git works from the top of
  // the work tree). git may close a lock it still means to rename (`git commit -a` keeps
  // index.lock closed while its hooks run), so one of them may own a lock nobody has open.
  std::vector<LockHolder> gits;
  // Processes of the lock's owner whose open files we could not read (another user's, as
  // non-root, or one being torn down): one of them may be its owner.
  std::vector<LockHolder> hidden;
  bool proc_unreadable = false;  // no /proc: nothing can be proven

  bool held() const { return !holders.empty(); }
  // Proven abandoned: no process has it open, no git runs in the repository, and every
  // process that could have created it was looked at.
  bool owner_gone() const {
    return holders.empty() && gits.empty() && hidden.empty() && !proc_unreadable;
  }
};

// The directories a git working on `repo` runs in: its work tree, git dir and common dir.
std::vector<std::filesystem::path> repository_dirs(const Repository& repo);

// The lock at `path`, its holders and the gits running in `repository` (its top-level
// directories: work tree, git dir, common dir), read from /proc; nothing when there is no
// such file.
std::optional<LockFile> inspect_lock(const std::filesystem::path& path,
                                     const std::vector<std::filesystem::path>& repository);

// What a step that killed its own children knows about them: when they ran and the
// process groups they ran in (every member of which got SIGKILL or has exited).
struct KilledChildren {
  std::int64_t started_us = 0;  // time_before_files() before the first one started
  std::int64_t ended_us = 0;    // time_after_files() after the last one was reaped
  std::vector<pid_t> process_groups;
};

// Wall-clock bounds in the file system's terms (Unix µs): a file created after
// time_before_files() is never stamped earlier, one created before time_after_files() never
// later. (File times come from the kernel's coarse clock, which lags the precise one.)
std::int64_t time_before_files();
std::int64_t time_after_files();

// Removes the lock at `path` only when it is proven to be the killed children's: it was
// created while they ran, by a process of ours, and no process outside their groups has
// it open or is a git running in `repository`. Returns whether it was removed.
bool remove_lock_left_by(const std::filesystem::path& path,
                         const std::vector<std::filesystem::path>& repository,
                         const KilledChildren& children);

}  // namespace perfguard
