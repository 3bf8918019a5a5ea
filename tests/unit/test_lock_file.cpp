#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "git/lock_file.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

// A process other than this one that has `path` open until release(): it inherits the
// descriptor at fork(), so it holds the file before the constructor returns.
class Holder {
 public:
  explicit Holder(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(pipe_fds[1]);
      char c;
      while (::read(pipe_fds[0], &c, 1) < 0) {
      }
      ::_exit(0);
    }
    ::close(pipe_fds[0]);
    ::close(fd);
    release_fd_ = pipe_fds[1];
  }
  ~Holder() { release(); }
  pid_t pid() const { return pid_; }
  // The child exits and stays a zombie until the destructor reaps it.
  void end_unreaped() {
    ::close(release_fd_);  // end of file: the child exits
    release_fd_ = -2;
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT);
  }
  void release() {
    if (release_fd_ == -1) return;
    if (release_fd_ >= 0) ::close(release_fd_);  // end of file: the child exits
    release_fd_ = -1;
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
};

// A process called "git" working in `dir`, until it goes out of scope; it is there when
// the constructor returns.
class GitAt {
 public:
  explicit GitAt(const std::filesystem::path& dir) {
    int ready[2], release[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(release) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      if (::chdir(dir.c_str()) != 0) ::_exit(1);
      ::prctl(PR_SET_NAME, "git", 0, 0, 0);
      char c = 'r';
      if (::write(ready[1], &c, 1) != 1) ::_exit(1);
      while (::read(release[0], &c, 1) < 0) {
      }
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    char c;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    ::close(ready[0]);
    release_fd_ = release[1];
  }
  ~GitAt() {
    ::close(release_fd_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
};

void create_file(const std::filesystem::path& path) {
  std::ofstream(path) << "0000000000000000000000000000000000000000\n";
}

KilledChildren window_around(const LockFile& lock, std::vector<pid_t> groups) {
  return {lock.created_us, time_after_files(), std::move(groups)};
}

}  // namespace

TEST_CASE("no lock file: nothing to inspect") {
  TempDir tmp;
  CHECK_FALSE(inspect_lock(tmp / "index.lock", {tmp.path()}).has_value());
}

TEST_CASE("a lock another process has open is held, by that process") {
  TempDir tmp;
  Holder holder(tmp / "index.lock");
  auto lock = inspect_lock(tmp / "index.lock", {tmp.path()});
  REQUIRE(lock.has_value());
  CHECK(lock->held());
  CHECK_FALSE(lock->owner_gone());
  REQUIRE(lock->holders.size() == 1);
  CHECK(lock->holders[0].pid == holder.pid());
  CHECK(lock->holders[0].process_group == ::getpgrp());
  CHECK(lock->owner == ::geteuid());
}

TEST_CASE("a lock whose holder has exited has no owner left") {
  TempDir tmp;
  Holder holder(tmp / "HEAD.lock");
  holder.release();
  auto lock = inspect_lock(tmp / "HEAD.lock", {tmp.path()});
  REQUIRE(lock.has_value());
  CHECK_FALSE(lock->held());
  CHECK(lock->owner_gone());
}

TEST_CASE("a zombie that held the lock is no owner") {
  TempDir tmp;
  Holder holder(tmp / "index.lock");
  holder.end_unreaped();
  auto lock = inspect_lock(tmp / "index.lock", {tmp.path()});
  REQUIRE(lock.has_value());
  CHECK(lock->owner_gone());
  CHECK(lock->hidden.empty());
}

TEST_CASE("a git running in the repository may own a lock nobody has open") {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "repo/sub");
  create_file(tmp / "repo/index.lock");
  {
    GitAt git(tmp / "repo/sub");
    auto lock = inspect_lock(tmp / "repo/index.lock", {tmp / "repo"});
    REQUIRE(lock.has_value());
    CHECK_FALSE(lock->held());
    REQUIRE(lock->gits.size() == 1);
    CHECK(lock->gits[0].pid == git.pid());
    CHECK_FALSE(lock->owner_gone());
    CHECK_FALSE(remove_lock_left_by(tmp / "repo/index.lock", {tmp / "repo"},
                                    window_around(*lock, {::getpgrp() + 1})));
    // A git elsewhere is no owner.
    auto elsewhere = inspect_lock(tmp / "repo/index.lock", {tmp / "other"});
    REQUIRE(elsewhere.has_value());
    CHECK(elsewhere->gits.empty());
  }
  CHECK(std::filesystem::exists(tmp / "repo/index.lock"));
}

TEST_CASE("a lock is created no earlier than time_before_files() and no later than after") {
  TempDir tmp;
  const std::int64_t before = time_before_files();
  create_file(tmp / "index.lock");
  const std::int64_t after = time_after_files();
  auto lock = inspect_lock(tmp / "index.lock", {tmp.path()});
  REQUIRE(lock.has_value());
  CHECK(lock->created_us >= before);
  CHECK(lock->created_us <= after);
}

TEST_CASE("the killed children's lock that nobody holds is removed") {
  TempDir tmp;
  create_file(tmp / "index.lock");
  auto lock = inspect_lock(tmp / "index.lock", {tmp.path()});
  REQUIRE(lock.has_value());
  CHECK(remove_lock_left_by(tmp / "index.lock", {tmp.path()}, window_around(*lock, {})));
  CHECK_FALSE(std::filesystem::exists(tmp / "index.lock"));
}

TEST_CASE("a lock still open in the killed children's own process group is removed") {
  TempDir tmp;
  Holder holder(tmp / "index.lock");
  auto lock = inspect_lock(tmp / "index.lock", {tmp.path()});
  REQUIRE(lock.has_value());
  CHECK(remove_lock_left_by(tmp / "index.lock", {tmp.path()}, window_around(*lock, {::getpgrp()})));
  CHECK_FALSE(std::filesystem::exists(tmp / "index.lock"));
}

TEST_CASE("a lock another live process holds is never removed") {
  TempDir tmp;
  Holder holder(tmp / "index.lock");
  auto lock = inspect_lock(tmp / "index.lock", {tmp.path()});
  REQUIRE(lock.has_value());
  // The holder is in our process group, which is not among the killed children's.
  CHECK_FALSE(remove_lock_left_by(tmp / "index.lock", {tmp.path()},
                                  window_around(*lock, {::getpgrp() + 1})));
  CHECK(std::filesystem::exists(tmp / "index.lock"));
}

TEST_CASE("a lock created before the children started, or after they ended, stays") {
  TempDir tmp;
  create_file(tmp / "index.lock");
  auto lock = inspect_lock(tmp / "index.lock", {tmp.path()});
  REQUIRE(lock.has_value());
  KilledChildren later{lock->created_us + 1, time_after_files() + 1000000, {}};
  CHECK_FALSE(remove_lock_left_by(tmp / "index.lock", {tmp.path()}, later));
  KilledChildren earlier{lock->created_us - 1000000, lock->created_us - 1, {}};
  CHECK_FALSE(remove_lock_left_by(tmp / "index.lock", {tmp.path()}, earlier));
  CHECK(std::filesystem::exists(tmp / "index.lock"));
}
