#include "sync/ship_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "process/runner.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

Error lock_error(const fs::path& store, int err) {
  return make_error(ExitCode::store,
                    ship_lock_path(store).string() +
                        ": cannot lock the shipping of the store: " + std::strerror(err));
}

Result<int> open_lock_file(const fs::path& store) {
  const int fd = ::open(ship_lock_path(store).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return lock_error(store, errno);
  return fd;
}

}  // namespace

fs::path ship_lock_path(const fs::path& store) {
  return fs::path(store.string() + ".ship.lock");
}

Result<std::optional<ShipLock>> ShipLock::try_take(const fs::path& store) {
  auto fd = open_lock_file(store);
  if (!fd) return fd.error();
  while (::flock(*fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EINTR) continue;
    ::close(*fd);
    if (err == EWOULDBLOCK) return std::optional<ShipLock>{};
    return lock_error(store, err);
  }
  return std::optional<ShipLock>(ShipLock(*fd));
}

Result<ShipLock> ShipLock::take(const fs::path& store) {
  auto fd = open_lock_file(store);
  if (!fd) return fd.error();
  while (::flock(*fd, LOCK_EX) != 0) {
    const int err = errno;
    if (err == EINTR && !received_interrupt()) continue;
    ::close(*fd);
    if (err == EINTR) {
      return make_error(
          ExitCode::interrupted,
          "interrupted while waiting for the shipper that holds " + ship_lock_path(store).string());
    }
    return lock_error(store, err);
  }
  return ShipLock(*fd);
}

ShipLock::ShipLock(ShipLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

ShipLock& ShipLock::operator=(ShipLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

ShipLock::~ShipLock() {
  release();
}

void ShipLock::release() {
  if (fd_ >= 0) ::close(fd_);  // closing the only descriptor lets the lock go
  fd_ = -1;
}

}  // namespace perfguard
