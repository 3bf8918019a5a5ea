#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/result.h"
#include "trace/span.h"

struct sqlite3;

namespace perfguard {

// The schema version this build writes. Older files are migrated forward on open; a newer
// file is refused (ExitCode::store) rather than written by a tool that does not know it.
inline constexpr int kSchemaVersion = 1;

struct StoreOptions {
  std::filesystem::path path;
  Duration busy_timeout = Duration::seconds(5);
  bool create = true;  // create the file (0600) and its directory (0700) when missing
};

// A row of the snapshots table: the metadata of a safety snapshot (the ref is the truth).
struct SnapshotRow {
  std::string id;  // also the ref name under refs/perfguard/snapshots/
  std::string commit;
  std::string head;
  std::string branch;
  std::int64_t created_us = 0;
  std::string tool;
  std::string reason;
};

// The one SQLite file every tool shares: WAL, synchronous=NORMAL, a busy timeout,
// BEGIN IMMEDIATE for writes. Every failure is an Error with ExitCode::store whose message
// names the file and the cause.
class Store {
 public:
  static Result<Store> open(const StoreOptions& options);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  // Appends the records (root span, child spans, context) in one transaction.
  Status record(const std::vector<StepRecord>& records);

  Status record_snapshot(const SnapshotRow& row);

  // The git version cached for a git binary (keyed by its path, size and mtime), so the hot
  // path need not start `git --version` on every run.
  std::optional<std::string> cached_git_version(const std::string& key);
  Status cache_git_version(const std::string& key, const std::string& version);

  // Reads back recorded steps, newest first (for tests and the tools' queries).
  Result<std::vector<StepRecord>> recent_steps(int limit, const std::string& step = "");

  int schema_version() const;
  const std::filesystem::path& path() const { return path_; }
  sqlite3* handle() { return db_; }

 private:
  Store(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

}  // namespace perfguard
