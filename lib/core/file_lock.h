#pragma once
// An advisory lock (flock) on a file, held while the FileLock lives. The kernel lets go of
// it when its holder dies, so a kill -9 never leaves a stale lock behind. The holder writes
// its pid into the file, so that whoever finds it taken can say by whom.

#include <sys/types.h>

#include <filesystem>
#include <optional>

#include "core/result.h"

namespace perfguard {

class FileLock {
 public:
  // Takes the lock on `path` (created 0600 when missing) if nobody holds it; nullopt when
  // another process does. An Error only when the file cannot be opened.
  static Result<std::optional<FileLock>> try_take(const std::filesystem::path& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  // The pid the holder of the lock on `path` wrote, if one can be read.
  static std::optional<pid_t> holder(const std::filesystem::path& path);

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace perfguard
