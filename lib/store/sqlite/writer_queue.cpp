#include "store/sqlite/writer_queue.h"

#include <algorithm>
#include <chrono>

#include "store/sqlite/sql.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

int to_millis(Duration d) {
  return static_cast<int>(std::clamp<std::int64_t>(d.us / 1000, 0, 1 << 30));
}

fs::path lock_path(const fs::path& store) {
  return fs::path(store.string() + ".write.lock");
}

}  // namespace

WriterQueue::WriterQueue(const fs::path& store, Duration busy_timeout)
    : lock_path_(lock_path(store)),
      busy_timeout_(busy_timeout),
      busy_timeout_ms_(to_millis(busy_timeout)) {}

bool WriterQueue::begin_immediate(sqlite3* db, std::optional<FileLock>& turn) const {
  if (lock_path_.empty()) return sql::exec(db, "BEGIN IMMEDIATE");
  const auto start = std::chrono::steady_clock::now();
  if (auto taken = FileLock::take_within(lock_path_, busy_timeout_); taken && *taken) {
    turn = std::move(**taken);
  }
  const auto waited = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  if (waited.count() < 1000) return sql::exec(db, "BEGIN IMMEDIATE");
  sqlite3_busy_timeout(db, to_millis(busy_timeout_ - Duration::micros(waited.count())));
  const bool begun = sql::exec(db, "BEGIN IMMEDIATE");
  sqlite3_busy_timeout(db, busy_timeout_ms_);
  return begun;
}

}  // namespace perfguard
