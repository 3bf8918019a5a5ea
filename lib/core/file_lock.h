#pragma once
// An advisory lock (flock) on a file, held while the FileLock lives. The kernel lets go of
// it when its holder dies, so a kill -9 never leaves a stale lock behind. The holder writes
// its pid into the file, so that whoever finds it taken can say by whom.

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>

#include "core/duration.h"
#include "core/result.h"

namespace perfguard {

class FileLock {
 public:
  // Takes the lock on `path` (created 0600 when missing) if nobody holds it; nullopt when
  // another process does. An Error only when the file cannot be opened.
  static Result<std::optional<FileLock>> try_take(const std::filesystem::path& path);
  // Waits for the lock. A signal that `interrupted` says is the user's ends the wait with
  // ExitCode::interrupted; any other goes on waiting.
  static Result<FileLock> take(const std::filesystem::path& path,
                               const std::function<bool()>& interrupted);
  // Waits for the lock for at most `timeout`: nullopt when it is still held by then. Waiters
  // are served in the order they came (the kernel queues them and hands the lock to the
  // first when the holder lets go), and no signal ends the wait early. For locks taken many
  // times a second, it writes no pid: truncating the file on every turn would make the file
  // system write it out on close.
  static Result<std::optional<FileLock>> take_within(const std::filesystem::path& path,
                                                     Duration timeout);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  // Lets the lock go now (closing the only descriptor does).
  void release();

  // The pid the holder of the lock on `path` wrote, if one can be read.
  static std::optional<pid_t> holder(const std::filesystem::path& path);

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  static Result<int> open_file(const std::filesystem::path& path);
  void write_holder();
  int fd_ = -1;
};

}  // namespace perfguard
