#pragma once
// At most one shipper per local store at a time: a FileLock on a file beside the store,
// `<store>.ship.lock`. The kernel lets it go when its holder exits, however it exits.

#include <filesystem>
#include <optional>

#include "core/file_lock.h"
#include "core/result.h"

namespace perfguard {

std::filesystem::path ship_lock_path(const std::filesystem::path& store);

// The lock, or nothing when another shipper holds it (no waiting).
Result<std::optional<FileLock>> try_take_ship_lock(const std::filesystem::path& store);
// The lock, once the shipper that holds it lets it go; ExitCode::interrupted on Ctrl-C.
Result<FileLock> take_ship_lock(const std::filesystem::path& store);

}  // namespace perfguard
