#include "sync/ship_lock.h"

#include "process/runner.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

// A lock file that cannot be made or locked is the store's problem, as the store is.
Error store_error(const Error& e) {
  return e.code == ExitCode::interrupted ? e : Error{ExitCode::store, e.message};
}

}  // namespace

fs::path ship_lock_path(const fs::path& store) {
  return fs::path(store.string() + ".ship.lock");
}

Result<std::optional<FileLock>> try_take_ship_lock(const fs::path& store) {
  auto lock = FileLock::try_take(ship_lock_path(store));
  if (!lock) return store_error(lock.error());
  return lock;
}

Result<FileLock> take_ship_lock(const fs::path& store) {
  auto lock = FileLock::take(ship_lock_path(store), [] { return received_interrupt(); });
  if (!lock) return store_error(lock.error());
  return lock;
}

}  // namespace perfguard
