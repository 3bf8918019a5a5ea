#pragma once
// Internal to lib/: small RAII helpers over the SQLite C API for the modules that read and
// write the store's tables (the step rollups, the baselines). Header-only.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace perfguard::sql {

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

// The prepared statement, or null (sqlite3_errmsg(db) says why).
inline Statement prepare(sqlite3* db, std::string_view text) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, text.data(), static_cast<int>(text.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    sqlite3_finalize(stmt);
    return nullptr;
  }
  return Statement(stmt);
}

inline bool exec(sqlite3* db, const char* text) {
  return sqlite3_exec(db, text, nullptr, nullptr, nullptr) == SQLITE_OK;
}

inline void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

inline std::string column_text(sqlite3_stmt* stmt, int col) {
  const unsigned char* text = sqlite3_column_text(stmt, col);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)))
              : std::string();
}

inline bool column_is_null(sqlite3_stmt* stmt, int col) {
  return sqlite3_column_type(stmt, col) == SQLITE_NULL;
}

// `<path>: <what>: <SQLite's message>`, an ExitCode::store error as Store reports them.
inline Error error(sqlite3* db, const std::filesystem::path& path, std::string_view what) {
  std::string message = path.string();
  message += ": ";
  message += what;
  message += ": ";
  message += db ? sqlite3_errmsg(db) : "out of memory";
  return Error{ExitCode::store, std::move(message)};
}

// A read transaction: the statements inside see one snapshot of the store.
class ReadTransaction {
 public:
  explicit ReadTransaction(sqlite3* db) : db_(db), open_(exec(db, "BEGIN")) {}
  ~ReadTransaction() {
    if (open_) exec(db_, "COMMIT");
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  bool ok() const { return open_; }

 private:
  sqlite3* db_;
  bool open_;
};

// A BEGIN IMMEDIATE transaction, rolled back unless committed.
class WriteTransaction {
 public:
  explicit WriteTransaction(sqlite3* db) : db_(db) {}
  ~WriteTransaction() {
    if (open_) exec(db_, "ROLLBACK");
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  bool begin() { return open_ = exec(db_, "BEGIN IMMEDIATE"); }
  bool commit() {
    if (!exec(db_, "COMMIT")) return false;
    open_ = false;
    return true;
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

}  // namespace perfguard::sql
