#include "git/lock_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

namespace perfguard {

namespace {

std::int64_t to_us(std::int64_t sec, std::int64_t nsec) {
  return sec * 1000000 + nsec / 1000;
}

std::int64_t clock_us(clockid_t clock) {
  struct timespec ts {};
  ::clock_gettime(clock, &ts);
  return to_us(ts.tv_sec, ts.tv_nsec);
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using Dir = std::unique_ptr<DIR, DirCloser>;

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The state and process group from /proc/<pid>/stat: the third and fifth fields, counted
// after the command name (which may hold spaces and parentheses: skipped to the last ')').
struct ProcessStat {
  char state = '?';
  pid_t process_group = 0;
};

ProcessStat stat_of(const std::string& proc_dir) {
  std::string stat = read_line(proc_dir + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(stat.substr(close + 1));
  std::string state;
  long ppid = 0, pgrp = 0;
  rest >> state >> ppid >> pgrp;
  return {state.empty() ? '?' : state[0], static_cast<pid_t>(pgrp)};
}

// A zombie (or a process past it) has no open files, whatever /proc lets us read of it;
// where nobody reaps orphans, killed ones stay zombies.
bool ended(const ProcessStat& st) {
  return st.state == 'Z' || st.state == 'X';
}

// Whether the process in `proc_dir` has the file (device, inode) open. Nothing when its
// open files cannot be read (another user's process, as non-root) or it is gone.
std::optional<bool> has_open(const std::string& proc_dir, dev_t device, ino_t inode) {
  Dir fds(::opendir((proc_dir + "/fd").c_str()));
  if (!fds) {
    if (errno == EACCES || errno == EPERM) return std::nullopt;
    return false;  // exited meanwhile
  }
  const int dir_fd = ::dirfd(fds.get());
  while (const dirent* entry = ::readdir(fds.get())) {
    if (entry->d_name[0] == '.') continue;
    // stat() through the magic link reaches the open file itself, wherever it is now.
    struct stat st {};
    if (::fstatat(dir_fd, entry->d_name, &st, 0) == 0 && st.st_dev == device &&
        st.st_ino == inode) {
      return true;
    }
  }
  return false;
}

bool is_within(const std::string& dir, const std::vector<std::string>& tops) {
  for (const std::string& top : tops) {
    if (dir == top || (dir.size() > top.size() && dir.compare(0, top.size(), top) == 0 &&
                       dir[top.size()] == '/')) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> canonical_tops(const std::vector<std::filesystem::path>& dirs) {
  std::vector<std::string> tops;
  for (const auto& dir : dirs) {
    std::error_code ec;
    auto top = std::filesystem::canonical(dir, ec);
    if (!ec) tops.push_back(top.string());
  }
  return tops;
}

LockHolder holder_of(pid_t pid, const std::string& proc_dir) {
  return LockHolder{pid, stat_of(proc_dir).process_group, read_line(proc_dir + "/comm")};
}

void find_holders(LockFile& lock, const std::vector<std::string>& repository) {
  Dir proc(::opendir("/proc"));
  if (!proc) {
    lock.proc_unreadable = true;
    return;
  }
  const pid_t self = ::getpid();
  while (const dirent* entry = ::readdir(proc.get())) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid == self) continue;
    const std::string dir = std::string("/proc/") + entry->d_name;
    auto open = has_open(dir, lock.device, lock.inode);
    if (!open) {
      struct stat st {};
      // /proc/<pid> belongs to the process's user: only that user's could have made the lock.
      if (::stat(dir.c_str(), &st) == 0 && st.st_uid == lock.owner && !ended(stat_of(dir))) {
        lock.hidden.push_back(holder_of(static_cast<pid_t>(pid), dir));
      }
      continue;
    }
    if (*open) {
      lock.holders.push_back(holder_of(static_cast<pid_t>(pid), dir));
    } else if (read_line(dir + "/comm") == "git") {
      std::error_code ec;
      auto cwd = std::filesystem::read_symlink(dir + "/cwd", ec);
      if (!ec && is_within(cwd.string(), repository)) {
        lock.gits.push_back(holder_of(static_cast<pid_t>(pid), dir));
      }
    }
  }
}

}  // namespace

std::vector<std::filesystem::path> repository_dirs(const Repository& repo) {
  std::vector<std::filesystem::path> dirs = {repo.git_dir(), repo.common_dir()};
  if (repo.work_tree()) dirs.push_back(*repo.work_tree());
  return dirs;
}

std::int64_t time_before_files() {
  return clock_us(CLOCK_REALTIME_COARSE);
}

std::int64_t time_after_files() {
  return clock_us(CLOCK_REALTIME);
}

std::optional<LockFile> inspect_lock(const std::filesystem::path& path,
                                     const std::vector<std::filesystem::path>& repository) {
  struct statx sx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &sx) !=
      0) {
    return std::nullopt;
  }
  LockFile lock;
  lock.path = path;
  lock.device = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  lock.inode = sx.stx_ino;
  lock.owner = sx.stx_uid;
  // Birth time never changes; the status-change time is the best stand-in where the file
  // system has none (it moves on a write, never before the creation).
  const auto& born = (sx.stx_mask & STATX_BTIME) ? sx.stx_btime : sx.stx_ctime;
  lock.created_us = to_us(born.tv_sec, born.tv_nsec);
  find_holders(lock, canonical_tops(repository));
  return lock;
}

// A lock is the killed children's when all of these hold:
//  - it was created while they ran: a lock from before was refused by the step's
//    precondition, and one made after they were reaped is someone else's;
//  - a process of our user created it, so every process that could have made it is one
//    whose open files we can read;
//  - no live process has it open and no other git runs in the repository, except members
//    of the children's own process groups, which got SIGKILL and may not have been torn
//    down yet. git keeps its lock open, or at least keeps running in the repository, until
//    it renames or removes it, so a lock that another git took meanwhile is seen.
// Between this check and the unlink() nobody else can create the lock: it exists, and git
// creates locks with O_EXCL.
bool remove_lock_left_by(const std::filesystem::path& path,
                         const std::vector<std::filesystem::path>& repository,
                         const KilledChildren& children) {
  auto lock = inspect_lock(path, repository);
  if (!lock) return false;
  if (lock->created_us < children.started_us || lock->created_us > children.ended_us) {
    return false;
  }
  if (lock->owner != ::geteuid() || lock->proc_unreadable) return false;
  auto killed = [&](const LockHolder& p) {
    return std::find(children.process_groups.begin(), children.process_groups.end(),
                     p.process_group) != children.process_groups.end();
  };
  if (!std::all_of(lock->holders.begin(), lock->holders.end(), killed) ||
      !std::all_of(lock->gits.begin(), lock->gits.end(), killed) ||
      !std::all_of(lock->hidden.begin(), lock->hidden.end(), killed)) {
    return false;
  }
  return ::unlink(path.c_str()) == 0;
}

}  // namespace perfguard
