#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/file_kind.h"
#include "store/sqlite/rollups.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

// Opening a store file: checking that an existing file is a store, creating a new one
// complete under a temporary name, migrating an older schema, switching to WAL.

namespace perfguard {

namespace fs = std::filesystem;

namespace {

using sql::exec;
using sql::prepare;
using sql::Statement;
using sql::WriteTransaction;

// Creates the missing directories of `dir` with mode 0700 (only those we create; existing
// ones keep their mode). Returns an empty string or the cause of the failure.
std::string create_private_directories(const fs::path& dir) {
  if (dir.empty()) return {};
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    struct stat st;
    if (::stat(p.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return p.string() + " is not a directory";
      break;
    }
    if (errno != ENOENT) return p.string() + ": " + std::strerror(errno);
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      return "cannot create " + it->string() + ": " + std::strerror(errno);
    }
  }
  return {};
}

// The value of `PRAGMA user_version`, or -1 when the file cannot be read.
int read_user_version(sqlite3* db) {
  Statement stmt = prepare(db, "PRAGMA user_version");
  if (!stmt || sqlite3_step(stmt.get()) != SQLITE_ROW) return -1;
  return sqlite3_column_int(stmt.get(), 0);
}

Error newer_schema_error(const fs::path& path, int version) {
  return Error{ExitCode::store, path.string() + ": store schema version " +
                                    std::to_string(version) +
                                    " is newer than this perfguard understands (" +
                                    std::to_string(kSchemaVersion) + "): upgrade perfguard"};
}

// `PRAGMA application_id` of every perfguard store ("pfgd"), so that a store is known from
// its header alone, before anything is written (documented in perfguard(7)).
constexpr std::uint32_t kApplicationId = 0x70666764;
const std::string kSetApplicationId = "PRAGMA application_id = " + std::to_string(kApplicationId);

// A file refused as a store: a store error, like a corrupt store.
Error not_a_store(const fs::path& path, const std::string& why) {
  return Error{ExitCode::store, path.string() + ": not a perfguard store (" + why +
                                    "); nothing was changed: point --db at a store or a new file"};
}

std::uint32_t big_endian32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Whether a file without our application id holds our tables: a store made before the id
// existed. Read with `immutable=1`, so SQLite takes no lock and creates no -wal, -shm or
// -journal file beside what may be another program's database.
bool has_perfguard_tables(const fs::path& path) {
  std::string uri = "file:";
  for (unsigned char c : path.string()) {
    if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_' || c == '~') {
      uri += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789ABCDEF";
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 0xF];
    }
  }
  uri += "?immutable=1";
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  bool ours = false;
  if (rc == SQLITE_OK) {
    Statement stmt = prepare(db,
                             "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view')"
                             " AND name IN ('contexts', 'steps', 'spans', 'snapshots', 'meta')");
    ours = stmt && sqlite3_step(stmt.get()) == SQLITE_ROW && sqlite3_column_int(stmt.get(), 0) == 5;
  }
  sqlite3_close(db);
  return ours;
}

// Checks, before SQLite opens it for writing, that an existing `path` is a perfguard store: a
// regular file (after symlinks) that is empty (SQLite makes it a new store), carries our
// application id, or was made by a perfguard before the id (our user_version, our tables).
// Anything else is left exactly as it is: no journal mode switched, no schema, no sidecar.
// Sets `legacy` for a store that still needs the id.
Status check_store_file(const fs::path& path, bool& legacy) {
  legacy = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return sql::error(path, "cannot open the store", std::strerror(errno));
  struct stat st;
  unsigned char header[100];
  ssize_t n = -1;
  int err = 0;
  if (::fstat(fd, &st) != 0) {
    err = errno;
  } else if (S_ISREG(st.st_mode)) {
    n = ::pread(fd, header, sizeof header, 0);
    if (n < 0) err = errno;
  }
  ::close(fd);
  if (err) return sql::error(path, "cannot read the store", std::strerror(err));
  if (!S_ISREG(st.st_mode)) {
    return not_a_store(path, std::string("it is ") + file_kind(st.st_mode));
  }
  if (n == 0) return {};
  if (n < static_cast<ssize_t>(sizeof header) || std::memcmp(header, "SQLite format 3", 16) != 0) {
    return sql::error(path, "cannot open the store", "file is not a database");
  }
  const std::uint32_t version = big_endian32(header + 60);
  const std::uint32_t id = big_endian32(header + 68);
  if (id == kApplicationId) return {};
  if (id == 0 && version >= 1 && has_perfguard_tables(path)) {
    legacy = true;  // a newer version is refused later, with its own message
    return {};
  }
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", id);
  return not_a_store(path, "an SQLite database of another program: application_id " +
                               std::string(hex) + ", user_version " + std::to_string(version));
}

// Brings the schema to kSchemaVersion, or refuses a newer one. Runs under the write lock
// and reads the version again there: another process may have migrated the file meanwhile.
Status migrate(sqlite3* db, const fs::path& path, const WriterQueue& writers) {
  WriteTransaction tx(db, writers);
  if (!tx.begin()) return sql::error(db, path, "cannot create the schema");
  int version = read_user_version(db);
  if (version < 0) return sql::error(db, path, "cannot read the schema version");
  if (version > kSchemaVersion) return newer_schema_error(path, version);
  // The id first: a file is a perfguard store from its first write on.
  if (!exec(db, kSetApplicationId.c_str())) {
    return sql::error(db, path, "cannot mark the file as a perfguard store");
  }
  for (const schema::Migration& m : schema::migrations()) {
    if (m.to_version <= version) continue;
    std::string sql(m.sql);
    sql += "\nPRAGMA user_version = " + std::to_string(m.to_version) + ";";
    if (!exec(db, sql.c_str())) {
      return sql::error(db, path,
                        "cannot migrate the schema to version " + std::to_string(m.to_version));
    }
  }
  // Version 2 added the hourly rollups: build them for the steps a version 1 file holds.
  if (version < 2) {
    HourRollups rollups(db);
    if (!rollups.catch_up() || !rollups.flush()) {
      return sql::error(db, path, "cannot roll up the recorded steps");
    }
  }
  if (!tx.commit()) return sql::error(db, path, "cannot create the schema");
  return {};
}

// The switch to WAL can report SQLITE_BUSY while another process holds a lock (say, while a
// first writer creates the schema); retry it for as long as the busy timeout allows.
bool set_wal_mode(sqlite3* db, Duration busy_timeout) {
  const std::int64_t step_us = 2000;
  for (std::int64_t waited = 0;; waited += step_us) {
    int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return true;
    if ((rc & 0xff) != SQLITE_BUSY || waited >= busy_timeout.us) return false;
    sqlite3_sleep(static_cast<int>(step_us / 1000));
  }
}

// Whether the file is already in WAL mode, from its header (bytes 18 and 19 are 2): saves
// the journal-mode pragma, which loads the whole schema. Read through SQLite's own file
// handle: opening and closing the file here would drop every POSIX lock this process holds
// on it, and another process could then checkpoint and delete the WAL under our feet.
bool is_wal_file(sqlite3* db) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file ||
      !file->pMethods) {
    return false;
  }
  unsigned char header[20];
  return file->pMethods->xRead(file, header, sizeof header, 0) == SQLITE_OK &&
         std::memcmp(header, "SQLite format 3", 16) == 0 && header[18] == 2 && header[19] == 2;
}

// Makes a new store file complete (schema written, WAL mode in its header) under a temporary
// name, then links it into place; whoever links first wins and the others use that file.
// An empty database file has no journal mode yet, so concurrent first openers would race
// over it (SQLite even deletes a WAL it finds beside a zero-length database); a complete
// file never gives them the chance.
Status create_store_file(const fs::path& path) {
  constexpr std::string_view kWhat = "cannot create the store";
  std::string tmp = path.string() + ".tmp-XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // mode 0600, whatever the umask allows
  if (fd < 0) return sql::error(path, kWhat, std::strerror(errno));
  ::close(fd);
  struct RemoveTemporary {
    const std::string& tmp;
    ~RemoveTemporary() {
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((tmp + suffix).c_str());
    }
  } remove_temporary{tmp};

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(tmp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sql::error(db, path, kWhat);
    sqlite3_close(db);
    return e;
  }
  Status made = exec(db, "PRAGMA journal_mode=WAL") ? migrate(db, path, WriterQueue{})
                                                    : Status(sql::error(db, path, kWhat));
  if (made && !exec(db, "PRAGMA wal_checkpoint(TRUNCATE)")) made = sql::error(db, path, kWhat);
  if (sqlite3_close(db) != SQLITE_OK && made) made = sql::error(path, kWhat, "cannot close it");
  if (!made) return made;

  if (::link(tmp.c_str(), path.c_str()) == 0 || errno == EEXIST) return {};
  // A file system without hard links: rename, but never over a store that appeared meanwhile.
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0 ||
      errno == EEXIST) {
    return {};
  }
  return sql::error(path, kWhat, std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const StoreOptions& options) {
  // SQLite's memory statistics take a global mutex on every allocation, and nothing here
  // reads them (a bulk import spent a twentieth of its time there). Only possible before
  // SQLite initialises; later it is refused, harmlessly.
  static const bool memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)memstatus_off;
  const fs::path& path = options.path;
  if (path.empty()) return sql::error("(no path)", "cannot open the store", "no path given");

  struct stat st;
  bool legacy = false;
  if (::stat(path.c_str(), &st) == 0) {
    if (Status s = check_store_file(path, legacy); !s) return s.error();
  } else if ((errno == ENOENT || errno == ENOTDIR) && options.create) {
    if (std::string cause = create_private_directories(path.parent_path()); !cause.empty()) {
      return sql::error(path, "cannot create the store's directory", cause);
    }
    if (Status s = create_store_file(path); !s) return s.error();
  } else {
    return sql::error(path, "cannot open the store", std::strerror(errno));
  }

  sqlite3* raw = nullptr;
  // No SQLITE_OPEN_CREATE: the file exists by now, and SQLite must never create an empty one
  // (see create_store_file).
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto store = std::make_unique<SqliteStore>(raw, path);  // closes the handle on every return
  if (rc != SQLITE_OK) return sql::error(raw, path, "cannot open the store");

  store->set_writers(WriterQueue(path, options.busy_timeout));
  // Each tool is a short-lived process: checkpointing the WAL whenever the last connection
  // closes would put two fsyncs on every run's path. The store empties the log every few
  // dozen steps instead (SqliteStore::fold_log).
  sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);

  // Read the version before anything can write: a newer file is left exactly as it was.
  int version = read_user_version(raw);
  if (version < 0) return sql::error(raw, path, "cannot read the store");
  if (version > kSchemaVersion) return newer_schema_error(path, version);

  if (!is_wal_file(raw) && !set_wal_mode(raw, options.busy_timeout)) {
    return sql::error(raw, path, "cannot switch the store to WAL mode");
  }
  if (!exec(raw, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON") ||
      (options.mapped && !exec(raw, "PRAGMA mmap_size=1073741824"))) {
    return sql::error(raw, path, "cannot configure the store");
  }
  if (version < kSchemaVersion) {
    if (Status s = migrate(raw, path, store->writers()); !s) return s.error();
  } else if (legacy) {
    // Made before the id: marked now, or on a later open when this one cannot write.
    (void)exec(raw, kSetApplicationId.c_str());
  }
  return store;
}

}  // namespace perfguard
