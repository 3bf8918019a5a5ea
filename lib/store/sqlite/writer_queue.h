#pragma once
// Writers of one store file take their turns in the order they came. SQLite's own wait for
// its write lock (the busy handler) polls, sleeping up to 100 ms between tries, and the
// lock goes to whoever tries at the right moment: with many processes writing at once on
// a loaded machine, one of them can lose every try for its whole busy timeout while the
// others write again and again. So a writer first waits for an flock on a file beside the
// store, <store>.write.lock, which the kernel hands to its waiters in order the moment it
// is let go; SQLite's lock is then free when the turn comes, unless a writer outside the
// queue (the sqlite3 shell, say) holds it.

#include <sqlite3.h>

#include <filesystem>
#include <optional>

#include "core/duration.h"
#include "core/file_lock.h"

namespace perfguard {

class WriterQueue {
 public:
  // No queue: SQLite's wait alone (a store file being made under a temporary name).
  WriterQueue() = default;
  WriterQueue(const std::filesystem::path& store, Duration busy_timeout);

  // BEGIN IMMEDIATE once this connection's turn has come, all within the busy timeout: the
  // wait for the turn first, then SQLite's own for what is left of it. `turn` holds the
  // turn: let go after the commit (and the log's fold), the next writer's starts. Without
  // the turn in time, or without a lock file (a read-only directory), SQLite decides
  // alone. False as sql::exec is, with SQLite's error on the connection.
  bool begin_immediate(sqlite3* db, std::optional<FileLock>& turn) const;

  // The connection's busy timeout as SQLite takes it, in milliseconds.
  int busy_timeout_ms() const { return busy_timeout_ms_; }

 private:
  std::filesystem::path lock_path_;
  Duration busy_timeout_{};
  int busy_timeout_ms_ = 0;
};

}  // namespace perfguard
