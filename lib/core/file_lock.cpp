#include "core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

namespace perfguard {

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
