#include "core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <utility>

namespace perfguard {

namespace {

void on_alarm(int) {}

// From `after` on, and every 10 ms after that, SIGALRM interrupts a blocking call of this
// thread (EINTR): the repeats cover an alarm that came just before the call began. Its
// handler does nothing and is installed without SA_RESTART, once per process (no tool uses
// SIGALRM otherwise; an inherited SIG_IGN would swallow the alarm).
class DeadlineAlarm {
 public:
  explicit DeadlineAlarm(Duration after) {
    static const bool handled = [] {
      struct sigaction sa {};
      sa.sa_handler = on_alarm;
      sigemptyset(&sa.sa_mask);
      return ::sigaction(SIGALRM, &sa, nullptr) == 0;
    }();
    if (!handled) return;
    sigevent event{};
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGALRM;
    event._sigev_un._tid = ::gettid();
    if (::timer_create(CLOCK_MONOTONIC, &event, &timer_) != 0) return;
    armed_ = true;
    const std::int64_t us = std::max<std::int64_t>(after.us, 1);
    itimerspec when{};
    when.it_value = {static_cast<time_t>(us / 1'000'000), static_cast<long>(us % 1'000'000) * 1000};
    when.it_interval = {0, 10'000'000};
    ::timer_settime(timer_, 0, &when, nullptr);
    sigset_t alarm;
    sigemptyset(&alarm);
    sigaddset(&alarm, SIGALRM);
    ::pthread_sigmask(SIG_UNBLOCK, &alarm, &old_mask_);
  }
  ~DeadlineAlarm() {
    if (!armed_) return;
    ::timer_delete(timer_);
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  DeadlineAlarm(const DeadlineAlarm&) = delete;
  DeadlineAlarm& operator=(const DeadlineAlarm&) = delete;

  bool armed() const { return armed_; }

 private:
  timer_t timer_{};
  sigset_t old_mask_{};
  bool armed_ = false;
};

}  // namespace

Result<int> FileLock::open_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(ExitCode::refused,
                      "cannot open the lock file " + path.string() + ": " + std::strerror(errno));
  }
  return fd;
}

// Who holds it, for the message of whoever finds it taken; the lock does not depend on it.
void FileLock::write_holder() {
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t n = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

Result<std::optional<FileLock>> FileLock::try_take(const std::filesystem::path& path) {
  auto fd = open_file(path);
  if (!fd) return fd.error();
  while (::flock(*fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EINTR) continue;
    ::close(*fd);
    if (err == EWOULDBLOCK) return std::optional<FileLock>();
    return make_error(ExitCode::refused,
                      "cannot lock " + path.string() + ": " + std::strerror(err));
  }
  FileLock lock(*fd);
  lock.write_holder();
  return std::optional<FileLock>(std::move(lock));
}

Result<FileLock> FileLock::take(const std::filesystem::path& path,
                                const std::function<bool()>& interrupted) {
  auto fd = open_file(path);
  if (!fd) return fd.error();
  while (::flock(*fd, LOCK_EX) != 0) {
    const int err = errno;
    if (err == EINTR && !interrupted()) continue;
    ::close(*fd);
    if (err == EINTR) {
      return make_error(ExitCode::interrupted,
                        "interrupted while waiting for the holder of " + path.string());
    }
    return make_error(ExitCode::refused,
                      "cannot lock " + path.string() + ": " + std::strerror(err));
  }
  FileLock lock(*fd);
  lock.write_holder();
  return lock;
}

Result<std::optional<FileLock>> FileLock::take_within(const std::filesystem::path& path,
                                                      Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(timeout.us);
  auto fd = open_file(path);
  if (!fd) return fd.error();
  int err = 0;
  do {
    err = ::flock(*fd, LOCK_EX | LOCK_NB) == 0 ? 0 : errno;
  } while (err == EINTR);
  if (err == EWOULDBLOCK && timeout.us > 0) {
    err = 0;
    DeadlineAlarm alarm(timeout);
    while (alarm.armed() && ::flock(*fd, LOCK_EX) != 0) {
      err = errno;
      if (err != EINTR || std::chrono::steady_clock::now() >= deadline) break;
      err = 0;
    }
    if (!alarm.armed()) err = EWOULDBLOCK;  // no timer: nothing could end the wait
  }
  if (err != 0) {
    ::close(*fd);
    if (err == EINTR || err == EWOULDBLOCK) return std::optional<FileLock>();
    return make_error(ExitCode::refused,
                      "cannot lock " + path.string() + ": " + std::strerror(err));
  }
  return std::optional<FileLock>(FileLock(*fd));
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileLock::~FileLock() {
  release();
}

void FileLock::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::optional<pid_t> FileLock::holder(const std::filesystem::path& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

}  // namespace perfguard
