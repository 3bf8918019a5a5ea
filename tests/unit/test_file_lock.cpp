#include "core/file_lock.h"

#include <doctest/doctest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

// How many processes wait for an flock on `path`, from /proc/locks (blocked requests are
// the lines with "->"; each names the file as MAJOR:MINOR:INODE).
int waiters(const std::filesystem::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  const std::string inode = ":" + std::to_string(st.st_ino) + " ";
  std::ifstream locks("/proc/locks");
  int n = 0;
  for (std::string line; std::getline(locks, line);) {
    if (line.find("->") != std::string::npos && line.find(inode) != std::string::npos) ++n;
  }
  return n;
}

// Until `n` processes wait for the lock: each only has to start, but a loaded machine may
// take its time, so the wait gives up only after two minutes.
void wait_for_waiters(const std::filesystem::path& path, int n) {
  for (int i = 0; i < 12000 && waiters(path) < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(waiters(path) == n);
}

}  // namespace

TEST_CASE("take_within: takes a free lock at once, also with no time to wait") {
  TempDir tmp;
  auto lock = FileLock::take_within(tmp / "lock", Duration{});
  REQUIRE(lock.ok());
  CHECK(lock->has_value());
}

TEST_CASE("take_within: waits for the holder, and has the lock once it let go") {
  TempDir tmp;
  const auto path = tmp / "lock";
  FlockHolder holder(path, std::chrono::milliseconds(300));
  auto lock = FileLock::take_within(path, Duration::seconds(600));
  REQUIRE(lock.ok());
  CHECK(lock->has_value());
  CHECK(std::filesystem::exists(tmp / "lock.released"));
}

TEST_CASE("take_within: nothing once the timeout has passed with the lock still held") {
  TempDir tmp;
  const auto path = tmp / "lock";
  FlockHolder holder(path);
  auto lock = FileLock::take_within(path, Duration::millis(50));
  REQUIRE(lock.ok());
  CHECK_FALSE(lock->has_value());
  CHECK_FALSE(std::filesystem::exists(tmp / "lock.released"));
  holder.release();
  auto after = FileLock::take_within(path, Duration::millis(50));
  REQUIRE(after.ok());
  CHECK(after->has_value());
}

TEST_CASE("take_within: waiters have the lock in the order they came") {
  TempDir tmp;
  const auto path = tmp / "lock";
  const auto order = tmp / "order";
  FlockHolder holder(path);
  std::vector<pid_t> children;
  for (int i = 1; i <= 4; ++i) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      auto lock = FileLock::take_within(path, Duration::seconds(600));
      if (!lock.ok() || !lock->has_value()) ::_exit(1);
      std::ofstream(order, std::ios::app) << i;
      ::_exit(0);
    }
    children.push_back(pid);
    wait_for_waiters(path, i);  // this one is queued before the next starts
  }
  holder.release();
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  CHECK(read_file(order) == "1234");
}

TEST_CASE("take_within: another signal does not end the wait") {
  TempDir tmp;
  const auto path = tmp / "lock";
  struct sigaction sa {};
  sa.sa_handler = [](int) {};
  sigemptyset(&sa.sa_mask);  // no SA_RESTART: the signal interrupts the wait (EINTR)
  struct sigaction old {};
  REQUIRE(::sigaction(SIGUSR1, &sa, &old) == 0);

  FlockHolder holder(path, std::chrono::milliseconds(300));
  std::atomic<bool> done{false};
  const pthread_t waiting = ::pthread_self();
  std::thread interrupter([&] {
    while (!done) {
      ::pthread_kill(waiting, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  auto lock = FileLock::take_within(path, Duration::seconds(600));
  done = true;
  interrupter.join();
  ::sigaction(SIGUSR1, &old, nullptr);
  REQUIRE(lock.ok());
  CHECK(lock->has_value());
  CHECK(std::filesystem::exists(tmp / "lock.released"));
}
