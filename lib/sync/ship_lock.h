#pragma once
// At most one shipper per local store at a time: an flock on a file beside the store,
// `<store>.ship.lock`. The kernel lets it go when its holder exits, however it exits.

#include <filesystem>
#include <optional>

#include "core/result.h"

namespace perfguard {

std::filesystem::path ship_lock_path(const std::filesystem::path& store);

class ShipLock {
 public:
  // The lock, or nothing when another shipper holds it (no waiting).
  static Result<std::optional<ShipLock>> try_take(const std::filesystem::path& store);
  // The lock, once the shipper that holds it lets it go; ExitCode::interrupted on Ctrl-C.
  static Result<ShipLock> take(const std::filesystem::path& store);

  ShipLock(ShipLock&& other) noexcept;
  ShipLock& operator=(ShipLock&& other) noexcept;
  ShipLock(const ShipLock&) = delete;
  ShipLock& operator=(const ShipLock&) = delete;
  ~ShipLock();

  void release();

 private:
  explicit ShipLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace perfguard
