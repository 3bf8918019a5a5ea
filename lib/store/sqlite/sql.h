#pragma once
// Internal to the SQLite engine: the one set of helpers over SQLite's C API that its modules
// share (statements, binding and reading columns, errors, transactions). Header-only.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/file_lock.h"
#include "core/result.h"
#include "store/sqlite/writer_queue.h"

namespace perfguard {
class Store;
}

namespace perfguard::sql {

// The connection of a store the SQLite engine opened, null for any other engine: for the
// tests, which look at the tables themselves.
sqlite3* connection(Store& store);

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

// A statement kept in `slot` for its next use: prepared the first time, reset with its
// bindings cleared when this goes out of scope. For a statement run many times in one process
// (the alert rules' reads and writes, for every record): preparing one costs about as much as
// running it.
class Reused {
 public:
  Reused(sqlite3* db, Statement& slot, std::string_view text) {
    if (!slot) slot = prepare(db, text);
    stmt_ = slot.get();
  }
  ~Reused() {
    if (stmt_) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Reused(const Reused&) = delete;
  Reused& operator=(const Reused&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_;
};

inline bool exec(sqlite3* db, const char* text) {
  return sqlite3_exec(db, text, nullptr, nullptr, nullptr) == SQLITE_OK;
}

// Binds a copy of `text`.
inline void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

// Binds `text` without copying it: the caller keeps it alive and unchanged until the
// statement has run (the write path binds millions of fields).
inline void bind_borrowed_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

// NULL when there is no value.
template <class Int>
void bind_optional(sqlite3_stmt* stmt, int index, const std::optional<Int>& v) {
  if (v) {
    sqlite3_bind_int64(stmt, index, static_cast<sqlite3_int64>(*v));
  } else {
    sqlite3_bind_null(stmt, index);
  }
}

// A NaN (no value) is stored as NULL and read back as NaN.
inline void bind_real(sqlite3_stmt* stmt, int index, double v) {
  if (v != v) {
    sqlite3_bind_null(stmt, index);
  } else {
    sqlite3_bind_double(stmt, index, v);
  }
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

inline std::optional<std::int64_t> column_optional(sqlite3_stmt* stmt, int col) {
  if (column_is_null(stmt, col)) return std::nullopt;
  return sqlite3_column_int64(stmt, col);
}

inline double column_real(sqlite3_stmt* stmt, int col) {
  return column_is_null(stmt, col) ? std::numeric_limits<double>::quiet_NaN()
                                   : sqlite3_column_double(stmt, col);
}

// `<path>: <what>: <cause>`, an ExitCode::store error, as every store error reads.
inline Error error(const std::filesystem::path& path, std::string_view what,
                   std::string_view cause) {
  std::string message = path.string();
  message += ": ";
  message += what;
  message += ": ";
  message += cause;
  return Error{ExitCode::store, std::move(message)};
}

// The same with SQLite's message for the connection's last failure.
inline Error error(sqlite3* db, const std::filesystem::path& path, std::string_view what) {
  return error(path, what, db ? sqlite3_errmsg(db) : "out of memory");
}

// A read transaction: the statements inside see one snapshot of the store.
// Inside a transaction already (the rules read the store while a record is written), it
// is that transaction's.
class ReadTransaction {
 public:
  explicit ReadTransaction(sqlite3* db)
      : db_(db), nested_(!sqlite3_get_autocommit(db)), open_(nested_ || exec(db, "BEGIN")) {}
  ~ReadTransaction() {
    if (open_ && !nested_) exec(db_, "COMMIT");
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  bool ok() const { return open_; }

 private:
  sqlite3* db_;
  bool nested_;
  bool open_;
};

// A BEGIN IMMEDIATE transaction, rolled back unless committed: the write lock is taken up
// front, in the writers' queue's turn, so a concurrent writer waits instead of failing
// mid-way. The turn is held until the transaction is gone, so the log's fold after a commit
// is part of it. Begun inside a write transaction (alerts applied while a record is
// written), it is part of that one, which commits or rolls back everything.
class WriteTransaction {
 public:
  WriteTransaction(sqlite3* db, const WriterQueue& queue) : db_(db), queue_(queue) {}
  ~WriteTransaction() {
    if (open_ && !nested_) exec(db_, "ROLLBACK");
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  bool begin() {
    nested_ = !sqlite3_get_autocommit(db_);
    return open_ = nested_ || queue_.begin_immediate(db_, turn_);
  }
  bool commit() {
    if (!nested_ && !exec(db_, "COMMIT")) return false;
    open_ = false;
    return true;
  }

 private:
  sqlite3* db_;
  const WriterQueue& queue_;
  std::optional<FileLock> turn_;  // let go after the ROLLBACK, if any
  bool nested_ = false;
  bool open_ = false;
};

// Foreign keys off while it lives: for writes whose rows reference rows they have just
// looked up or inserted (the checks cost a sixth of a bulk import). The pragma is a no-op inside a
// transaction: make this before the transaction, so that it is restored after the transaction ends.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(sqlite3* db) : db_(db) { exec(db_, "PRAGMA foreign_keys=OFF"); }
  ~ForeignKeysOff() { exec(db_, "PRAGMA foreign_keys=ON"); }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

 private:
  sqlite3* db_;
};

}  // namespace perfguard::sql
