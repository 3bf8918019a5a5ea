#include "store/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/file_kind.h"
#include "output/json.h"
#include "output/record_json.h"
#include "store/schema.h"
#include "store/sql.h"
#include "store/step_hours.h"

namespace perfguard {

namespace fs = std::filesystem;

namespace {

using sql::column_text;
using sql::exec;
using sql::prepare;
using sql::Statement;
// BEGIN IMMEDIATE: the write lock is taken up front, so a concurrent writer waits in the
// busy handler instead of failing mid-way.
using sql::WriteTransaction;

Error store_error(const fs::path& path, std::string_view what, std::string_view cause) {
  std::string message = path.string();
  message += ": ";
  message += what;
  message += ": ";
  message += cause;
  return Error{ExitCode::store, std::move(message)};
}

Error sqlite_error(sqlite3* db, const fs::path& path, std::string_view what) {
  return store_error(path, what, db ? sqlite3_errmsg(db) : "out of memory");
}

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
  if (fd < 0) return store_error(path, "cannot open the store", std::strerror(errno));
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
  if (err) return store_error(path, "cannot read the store", std::strerror(err));
  if (!S_ISREG(st.st_mode)) {
    return not_a_store(path, std::string("it is ") + file_kind(st.st_mode));
  }
  if (n == 0) return {};
  if (n < static_cast<ssize_t>(sizeof header) || std::memcmp(header, "SQLite format 3", 16) != 0) {
    return store_error(path, "cannot open the store", "file is not a database");
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
Status migrate(sqlite3* db, const fs::path& path) {
  WriteTransaction tx(db);
  if (!tx.begin()) return sqlite_error(db, path, "cannot create the schema");
  int version = read_user_version(db);
  if (version < 0) return sqlite_error(db, path, "cannot read the schema version");
  if (version > kSchemaVersion) return newer_schema_error(path, version);
  // The id first: a file is a perfguard store from its first write on.
  if (!exec(db, kSetApplicationId.c_str())) {
    return sqlite_error(db, path, "cannot mark the file as a perfguard store");
  }
  for (const schema::Migration& m : schema::migrations()) {
    if (m.to_version <= version) continue;
    std::string sql(m.sql);
    sql += "\nPRAGMA user_version = " + std::to_string(m.to_version) + ";";
    if (!exec(db, sql.c_str())) {
      return sqlite_error(db, path,
                          "cannot migrate the schema to version " + std::to_string(m.to_version));
    }
  }
  // Version 2 added the hourly rollups: build them for the steps a version 1 file holds.
  if (version < 2) {
    HourRollups rollups(db);
    if (!rollups.catch_up() || !rollups.flush()) {
      return sqlite_error(db, path, "cannot roll up the recorded steps");
    }
  }
  if (!tx.commit()) return sqlite_error(db, path, "cannot create the schema");
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
  if (fd < 0) return store_error(path, kWhat, std::strerror(errno));
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
    Error e = sqlite_error(db, path, kWhat);
    sqlite3_close(db);
    return e;
  }
  Status made = exec(db, "PRAGMA journal_mode=WAL") ? migrate(db, path)
                                                    : Status(sqlite_error(db, path, kWhat));
  if (made && !exec(db, "PRAGMA wal_checkpoint(TRUNCATE)")) made = sqlite_error(db, path, kWhat);
  if (sqlite3_close(db) != SQLITE_OK && made) made = store_error(path, kWhat, "cannot close it");
  if (!made) return made;

  if (::link(tmp.c_str(), path.c_str()) == 0 || errno == EEXIST) return {};
  // A file system without hard links: rename, but never over a store that appeared meanwhile.
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0 ||
      errno == EEXIST) {
    return {};
  }
  return store_error(path, kWhat, std::strerror(errno));
}

// The value of a hex digit, or -1, by table: HEADs are random digits, on which the
// branches of a range test mispredict (they were a tenth of a bulk import's time).
constexpr auto kHexValues = [] {
  std::array<signed char, 256> t{};
  for (int i = 0; i < 256; ++i) {
    t[i] = static_cast<signed char>(i >= '0' && i <= '9'   ? i - '0'
                                    : i >= 'a' && i <= 'f' ? i - 'a' + 10
                                    : i >= 'A' && i <= 'F' ? i - 'A' + 10
                                                           : -1);
  }
  return t;
}();

int hex_value(char c) {
  return kHexValues[static_cast<unsigned char>(c)];
}

bool is_hex(std::string_view s) {
  int all = 0;
  for (char c : s) all |= hex_value(c);
  return all >= 0;
}

// A HEAD is stored as its binary object id (20 bytes for SHA-1, 32 for SHA-256), NULL when
// empty, and as text when it is anything else.
void bind_head(sqlite3_stmt* stmt, int index, const std::string& head) {
  if (head.empty()) {
    sqlite3_bind_null(stmt, index);
  } else if ((head.size() == 40 || head.size() == 64) && is_hex(head)) {
    unsigned char bytes[32];
    for (std::size_t i = 0; i < head.size() / 2; ++i) {
      bytes[i] =
          static_cast<unsigned char>(hex_value(head[2 * i]) << 4 | hex_value(head[2 * i + 1]));
    }
    sqlite3_bind_blob(stmt, index, bytes, static_cast<int>(head.size() / 2), SQLITE_TRANSIENT);
  } else {
    sqlite3_bind_text(stmt, index, head.data(), static_cast<int>(head.size()), SQLITE_TRANSIENT);
  }
}

std::string column_head(sqlite3_stmt* stmt, int col) {
  if (sqlite3_column_type(stmt, col) != SQLITE_BLOB) return column_text(stmt, col);
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* bytes = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, col));
  int n = sqlite3_column_bytes(stmt, col);
  std::string hex;
  hex.reserve(static_cast<std::size_t>(n) * 2);
  for (int i = 0; i < n; ++i) {
    hex.push_back(kHex[bytes[i] >> 4]);
    hex.push_back(kHex[bytes[i] & 0xF]);
  }
  return hex;
}

// Unlike sql::bind_text, SQLite does not copy the text: the caller keeps it alive until the
// statement has run (the import path binds millions of fields).
void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void bind_optional_int(sqlite3_stmt* stmt, int index, const std::optional<int>& v) {
  if (v) {
    sqlite3_bind_int(stmt, index, *v);
  } else {
    sqlite3_bind_null(stmt, index);
  }
}

// Bytes as they are, like the text columns: the store holds what was recorded, and only
// what is written out of it is encoded (core/text_encoding.h).
std::string labels_json(const Labels& labels) {
  JsonWriter out(JsonStrings::bytes);
  write_labels(out, labels);
  return out.take();
}

// The statements one record() needs, prepared once per call (not at open: most processes
// open the store to write one record or to read, never both).
// A child span as a row of span_rows, waiting for its INSERT.
struct PendingSpan {
  const Span* span;
  int seq;
  std::optional<int> parent_seq;
  std::int64_t name_id;
};

struct RecordStatements {
  Statement find_context;
  Statement insert_context;
  Statement find_name;
  Statement insert_name;
  Statement insert_step;
  Statement insert_span;
  std::map<std::string, std::int64_t, std::less<>> name_ids;  // step and span names
  Statement insert_spans[8];               // 1 to 8 rows in one INSERT (see span_insert)
  std::vector<PendingSpan> pending_spans;  // scratch

  bool prepare_all(sqlite3* db) {
    find_context = prepare(db,
                           "SELECT id FROM contexts WHERE repo = ?1 AND branch = ?2 AND host = ?3"
                           " AND user = ?4 AND ci_provider = ?5 AND ci_job = ?6 AND tool = ?7"
                           " AND tool_version = ?8 AND git_version = ?9");
    insert_context = prepare(db,
                             "INSERT INTO contexts (repo, branch, host, user, ci_provider, ci_job,"
                             " tool, tool_version, git_version)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                             " ON CONFLICT DO NOTHING RETURNING id");
    find_name = prepare(db, "SELECT id FROM names WHERE name = ?1");
    insert_name = prepare(db, "INSERT INTO names (name) VALUES (?1)");
    // (trace_id, step, start) identifies a record; one already stored (a journal imported
    // twice) is skipped. The check goes through the step's hour (HourRollups::contains).
    insert_step = prepare(db,
                          "INSERT INTO step_rows (trace_id, name_id, started_us, duration_us,"
                          " status, threshold_us, exit_code, context_id, head_before, head_after,"
                          " cpu_user_us, cpu_sys_us, max_rss_kb, labels)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    insert_span = prepare(db,
                          "INSERT INTO span_rows (step_id, seq, parent_seq, name_id, offset_us,"
                          " duration_us, exit_code, cpu_user_us, cpu_sys_us, max_rss_kb)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    return find_context && insert_context && find_name && insert_name && insert_step && insert_span;
  }

  // The id of a step or span name, added to `names` when new. 0 on failure.
  std::int64_t name_id(sqlite3* db, const std::string& name) {
    if (auto it = name_ids.find(name); it != name_ids.end()) return it->second;
    sqlite3_stmt* find = find_name.get();
    sqlite3_reset(find);
    bind_text(find, 1, name);
    std::int64_t id = 0;
    int rc = sqlite3_step(find);
    if (rc == SQLITE_ROW) {
      id = sqlite3_column_int64(find, 0);
    } else if (rc == SQLITE_DONE) {
      sqlite3_stmt* insert = insert_name.get();
      sqlite3_reset(insert);
      bind_text(insert, 1, name);
      if (sqlite3_step(insert) == SQLITE_DONE) id = sqlite3_last_insert_rowid(db);
      sqlite3_reset(insert);
    }
    sqlite3_reset(find);
    if (id != 0) name_ids.emplace(name, id);
    return id;
  }
};

// The id of the context row, inserted when new. Returns 0 on failure.
std::int64_t context_id(RecordStatements& st, const RunContext& c) {
  const std::string* fields[] = {&c.repo, &c.branch,       &c.host,
                                 &c.user, &c.ci_provider,  &c.ci_job,
                                 &c.tool, &c.tool_version, &c.git_version};
  for (sqlite3_stmt* stmt : {st.find_context.get(), st.insert_context.get()}) {
    sqlite3_reset(stmt);
    for (int i = 0; i < 9; ++i) bind_text(stmt, i + 1, *fields[i]);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      std::int64_t id = sqlite3_column_int64(stmt, 0);
      sqlite3_reset(stmt);
      return id;
    }
    if (rc != SQLITE_DONE) return 0;
  }
  return 0;
}

// The rows of `parent`'s descendants, depth first: each gets the next `seq` and names its
// parent's (none for the root's own children).
bool collect_children(sqlite3* db, RecordStatements& st, const Span& parent,
                      std::optional<int> parent_seq, int& seq, std::vector<PendingSpan>& out) {
  for (const Span& child : parent.children) {
    int my_seq = seq++;
    std::int64_t name_id = st.name_id(db, child.name);
    if (name_id == 0) return false;
    out.push_back({&child, my_seq, parent_seq, name_id});
    if (!collect_children(db, st, child, my_seq, seq, out)) return false;
  }
  return true;
}

// The statement inserting `rows` span rows at once (1 to kSpanRowsPerInsert), prepared the
// first time it is needed: one statement for a step's few spans costs half what one per
// span does.
constexpr std::size_t kSpanRowsPerInsert = 8;

sqlite3_stmt* span_insert(sqlite3* db, RecordStatements& st, std::size_t rows) {
  Statement& stmt = st.insert_spans[rows - 1];
  if (!stmt) {
    std::string sql =
        "INSERT INTO span_rows (step_id, seq, parent_seq, name_id, offset_us, duration_us,"
        " exit_code, cpu_user_us, cpu_sys_us, max_rss_kb) VALUES ";
    for (std::size_t i = 0; i < rows; ++i) {
      sql += i ? ",(?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?)";
    }
    stmt = prepare(db, sql);
  }
  return stmt.get();
}

// Inserts the child spans of a step's root span.
bool insert_children(sqlite3* db, RecordStatements& st, std::int64_t step_id, const Span& root) {
  std::vector<PendingSpan>& rows = st.pending_spans;
  rows.clear();
  int seq = 0;
  if (!collect_children(db, st, root, std::nullopt, seq, rows)) return false;
  for (std::size_t first = 0; first < rows.size();) {
    std::size_t n = std::min(kSpanRowsPerInsert, rows.size() - first);
    sqlite3_stmt* stmt = span_insert(db, st, n);
    if (!stmt) return false;
    for (std::size_t i = 0; i < n; ++i) {
      const PendingSpan& row = rows[first + i];
      const Span& child = *row.span;
      const int base = static_cast<int>(i) * 10;
      sqlite3_bind_int64(stmt, base + 1, step_id);
      sqlite3_bind_int(stmt, base + 2, row.seq);
      bind_optional_int(stmt, base + 3, row.parent_seq);
      sqlite3_bind_int64(stmt, base + 4, row.name_id);
      sqlite3_bind_int64(stmt, base + 5, child.start_us - root.start_us);
      sqlite3_bind_int64(stmt, base + 6, child.duration.us);
      bind_optional_int(stmt, base + 7, child.exit_code);
      sqlite3_bind_int64(stmt, base + 8, child.usage.cpu_user_us);
      sqlite3_bind_int64(stmt, base + 9, child.usage.cpu_sys_us);
      sqlite3_bind_int64(stmt, base + 10, child.usage.max_rss_kb);
    }
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return false;
    first += n;
  }
  return true;
}

// What the step timer makes a step's usage: the children's CPU times added up and the
// largest of their peak memories. None when the span has no children.
std::optional<ResourceUsage> children_usage(const Span& span) {
  if (span.children.empty()) return std::nullopt;
  ResourceUsage total;
  for (const Span& child : span.children) {
    total.cpu_user_us += child.usage.cpu_user_us;
    total.cpu_sys_us += child.usage.cpu_sys_us;
    total.max_rss_kb = std::max(total.max_rss_kb, child.usage.max_rss_kb);
  }
  return total;
}

struct SpanRow {
  int seq;
  std::optional<int> parent_seq;
  Span span;
};

// Rebuilds the tree from the depth-first rows. A parent always precedes its children, so
// only rows whose parent has a smaller seq are attached (a damaged row cannot loop).
void attach_children(Span& parent, std::optional<int> parent_seq, std::vector<SpanRow>& rows) {
  for (SpanRow& row : rows) {
    if (row.parent_seq != parent_seq) continue;
    if (parent_seq && row.seq <= *parent_seq) continue;
    Span child = std::move(row.span);
    attach_children(child, row.seq, rows);
    parent.children.push_back(std::move(child));
  }
}

}  // namespace

// The write-ahead log as the last commit left it. Every tool is a short-lived process that
// leaves the log behind when it exits (see Store::open), and the first connection to open a
// store rebuilds the log's index by reading all of it, then counts none of it as copied
// into the file: the log would never start over, and every later run of every tool would
// read every page any earlier run wrote (with 1,300 pages in the log, `show` took 12 ms
// instead of 4). So the store empties the log itself after its commits (fold_wal).
struct WalState {
  int frames = 0;  // pages in the log
  int busy_timeout_ms = 0;
};

namespace {

// Replaces SQLite's auto-checkpoint, which only copies the pages (see WalState): the store
// folds the log after the commit instead.
int remember_wal_frames(void* state, sqlite3*, const char*, int frames) {
  static_cast<WalState*>(state)->frames = frames;
  return SQLITE_OK;
}

// Pages (4 KiB) the log may hold before a commit empties it: reading them costs each tool's
// start well under a millisecond, and emptying it (copy, one fsync) comes every few dozen
// steps.
constexpr int kFoldFrames = 128;
// At least this many records in one write make it a bulk write.
constexpr std::int64_t kBulkRecords = 1000;

// After a commit: once the log holds kFoldFrames pages, or after a bulk write, copies it
// into the file and truncates it. A step waits for no one: when another process is reading
// or writing, the fold is left to a later commit. After a bulk write it waits as for any
// other lock (the busy timeout), so that no later run pays for what the bulk write left.
// Best effort either way: the data is committed already.
void fold_wal(sqlite3* db, WalState& wal, bool bulk) {
  if (!bulk && wal.frames < kFoldFrames) return;
  if (!bulk) sqlite3_busy_timeout(db, 0);
  int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  if (!bulk) sqlite3_busy_timeout(db, wal.busy_timeout_ms);
  if (rc == SQLITE_OK) wal.frames = 0;
}

}  // namespace

Result<Store> Store::open(const StoreOptions& options) {
  // SQLite's memory statistics take a global mutex on every allocation, and nothing here
  // reads them (a bulk import spent a twentieth of its time there). Only possible before
  // SQLite initialises; later it is refused, harmlessly.
  static const bool memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)memstatus_off;
  const fs::path& path = options.path;
  if (path.empty()) return store_error("(no path)", "cannot open the store", "no path given");

  struct stat st;
  bool legacy = false;
  if (::stat(path.c_str(), &st) == 0) {
    if (Status s = check_store_file(path, legacy); !s) return s.error();
  } else if ((errno == ENOENT || errno == ENOTDIR) && options.create) {
    if (std::string cause = create_private_directories(path.parent_path()); !cause.empty()) {
      return store_error(path, "cannot create the store's directory", cause);
    }
    if (Status s = create_store_file(path); !s) return s.error();
  } else {
    return store_error(path, "cannot open the store", std::strerror(errno));
  }

  sqlite3* raw = nullptr;
  // No SQLITE_OPEN_CREATE: the file exists by now, and SQLite must never create an empty one
  // (see create_store_file).
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  Store store(raw, path);  // closes the handle on every return below
  if (rc != SQLITE_OK) return sqlite_error(raw, path, "cannot open the store");

  std::int64_t timeout_ms = options.busy_timeout.us / 1000;
  store.wal_->busy_timeout_ms = static_cast<int>(std::min<std::int64_t>(timeout_ms, 1 << 30));
  sqlite3_busy_timeout(raw, store.wal_->busy_timeout_ms);
  // Each tool is a short-lived process: checkpointing the WAL whenever the last connection
  // closes would put two fsyncs on every run's path. The store empties the log every few
  // dozen steps instead (fold_wal).
  sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);

  // Read the version before anything can write: a newer file is left exactly as it was.
  int version = read_user_version(raw);
  if (version < 0) return sqlite_error(raw, path, "cannot read the store");
  if (version > kSchemaVersion) return newer_schema_error(path, version);

  if (!is_wal_file(raw) && !set_wal_mode(raw, options.busy_timeout)) {
    return sqlite_error(raw, path, "cannot switch the store to WAL mode");
  }
  if (!exec(raw, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")) {
    return sqlite_error(raw, path, "cannot configure the store");
  }
  if (version < kSchemaVersion) {
    if (Status s = migrate(raw, path); !s) return s.error();
  } else if (legacy) {
    // Made before the id: marked now, or on a later open when this one cannot write.
    (void)exec(raw, kSetApplicationId.c_str());
  }
  return store;
}

sqlite3* sql::connection(Store& store) {
  return store.db_;
}

Store::Store(sqlite3* db, std::filesystem::path path)
    : db_(db), path_(std::move(path)), wal_(std::make_unique<WalState>()) {
  if (db_) sqlite3_wal_hook(db_, remember_wal_frames, wal_.get());
}

void Store::fold_log(bool bulk) {
  fold_wal(db_, *wal_, bulk);
}

Store::Store(Store&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      wal_(std::move(other.wal_)) {}

Store& Store::operator=(Store&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    wal_ = std::move(other.wal_);
  }
  return *this;
}

Store::~Store() {
  if (db_) sqlite3_close_v2(db_);
}

Status Store::record(const std::vector<StepRecord>& records) {
  if (records.empty()) return {};
  auto import = begin_import();
  if (!import) return import.error();
  for (const StepRecord& r : records) {
    if (auto added = import->add(r); !added) return added.error();
  }
  return import->commit();
}

namespace {

// Foreign keys off for the life of a StepImport: its rows reference names, contexts and
// steps it has just looked up or inserted, and the checks cost a sixth of a bulk import.
// (The pragma is a no-op inside a transaction, so it is set before BEGIN, restored after.)
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(sqlite3* db) : db_(db) { exec(db_, "PRAGMA foreign_keys=OFF"); }
  ~ForeignKeysOff() { exec(db_, "PRAGMA foreign_keys=ON"); }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

 private:
  sqlite3* db_;
};

}  // namespace

struct StepImport::State {
  sqlite3* db;
  fs::path path;
  ForeignKeysOff foreign_keys_off;  // before tx: restored after the transaction ends
  WriteTransaction tx;
  RecordStatements st;
  HourRollups rollups;  // step_hours, kept in the same transaction
  // Context ids by context_key(), and the last one used, which runs of records share.
  std::unordered_map<std::string, std::int64_t> contexts;
  RunContext last_context;
  std::int64_t last_context_id = 0;
  std::string key;     // scratch
  std::string labels;  // scratch
  std::int64_t added = 0;
  bool committed = false;
  WalState& wal;

  State(sqlite3* d, fs::path p, WalState& w)
      : db(d), path(std::move(p)), foreign_keys_off(d), tx(d), rollups(d), wal(w) {}
};

namespace {

bool same_context(const RunContext& a, const RunContext& b) {
  return a.repo == b.repo && a.branch == b.branch && a.host == b.host && a.user == b.user &&
         a.ci_provider == b.ci_provider && a.ci_job == b.ci_job && a.tool == b.tool &&
         a.tool_version == b.tool_version && a.git_version == b.git_version;
}

// A map key for a context: each field's length, then its bytes, so no two contexts share one.
void context_key(std::string& key, const RunContext& c) {
  key.clear();
  for (const std::string* f : {&c.repo, &c.branch, &c.host, &c.user, &c.ci_provider, &c.ci_job,
                               &c.tool, &c.tool_version, &c.git_version}) {
    key += std::to_string(f->size());
    key += ':';
    key += *f;
  }
}

}  // namespace

StepImport::StepImport(std::unique_ptr<State> state) : state_(std::move(state)) {}
StepImport::StepImport(StepImport&&) noexcept = default;
StepImport& StepImport::operator=(StepImport&&) noexcept = default;
StepImport::~StepImport() = default;

Result<StepImport> Store::begin_import() {
  constexpr std::string_view kWhat = "cannot record the step";
  auto state = std::make_unique<StepImport::State>(db_, path_, *wal_);
  if (!state->tx.begin()) return sqlite_error(db_, path_, kWhat);
  if (!state->st.prepare_all(db_)) return sqlite_error(db_, path_, kWhat);
  if (!state->rollups.catch_up()) return sqlite_error(db_, path_, kWhat);
  return StepImport(std::move(state));
}

Result<bool> StepImport::add(const StepRecord& r) {
  constexpr std::string_view kWhat = "cannot record the step";
  State& s = *state_;
  if (s.committed) return store_error(s.path, kWhat, "the import was already committed");
  const RunContext& c = r.context;
  if (s.last_context_id == 0 || !same_context(c, s.last_context)) {
    context_key(s.key, c);
    auto it = s.contexts.find(s.key);
    std::int64_t id = it != s.contexts.end() ? it->second : context_id(s.st, c);
    if (id == 0) return sqlite_error(s.db, s.path, kWhat);
    if (it == s.contexts.end()) s.contexts.emplace(s.key, id);
    s.last_context = c;
    s.last_context_id = id;
  }

  std::int64_t name_id = s.st.name_id(s.db, r.step);
  if (name_id == 0) return sqlite_error(s.db, s.path, kWhat);
  std::optional<bool> stored = s.rollups.contains(name_id, r.root.start_us, r.trace_id);
  if (!stored) return sqlite_error(s.db, s.path, kWhat);
  if (*stored) return false;  // (trace_id, step, start) already stored: a re-import

  sqlite3_stmt* stmt = s.st.insert_step.get();
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  sqlite3_bind_int64(stmt, 1, static_cast<sqlite3_int64>(r.trace_id));
  sqlite3_bind_int64(stmt, 2, name_id);
  sqlite3_bind_int64(stmt, 3, r.root.start_us);
  sqlite3_bind_int64(stmt, 4, r.root.duration.us);
  sqlite3_bind_int(stmt, 5, status_code(r.status));
  if (r.threshold) sqlite3_bind_int64(stmt, 6, r.threshold->us);
  sqlite3_bind_int(stmt, 7, r.exit_code);
  sqlite3_bind_int64(stmt, 8, s.last_context_id);
  bind_head(stmt, 9, r.head_before);
  if (!r.head_after.empty() && r.head_after == r.head_before) {
    sqlite3_bind_zeroblob(stmt, 10, 0);  // x'': the same as head_before (see schema.cpp)
  } else {
    bind_head(stmt, 10, r.head_after);
  }
  // Left NULL when derivable from the child spans (see schema.cpp).
  const ResourceUsage& usage = r.root.usage;
  std::optional<ResourceUsage> derived = children_usage(r.root);
  if (!derived || derived->cpu_user_us != usage.cpu_user_us) {
    sqlite3_bind_int64(stmt, 11, usage.cpu_user_us);
  }
  if (!derived || derived->cpu_sys_us != usage.cpu_sys_us) {
    sqlite3_bind_int64(stmt, 12, usage.cpu_sys_us);
  }
  if (!derived || derived->max_rss_kb != usage.max_rss_kb) {
    sqlite3_bind_int64(stmt, 13, usage.max_rss_kb);
  }
  if (!r.labels.empty()) {
    s.labels = labels_json(r.labels);
    bind_text(stmt, 14, s.labels);
  }
  if (sqlite3_step(stmt) != SQLITE_DONE) return sqlite_error(s.db, s.path, kWhat);
  std::int64_t step_id = sqlite3_last_insert_rowid(s.db);
  sqlite3_reset(stmt);

  if (!insert_children(s.db, s.st, step_id, r.root)) {
    return sqlite_error(s.db, s.path, kWhat);
  }
  s.rollups.add(name_id, r.root.start_us, r.root.duration.us, r.status, r.trace_id, step_id);
  ++s.added;
  return true;
}

// A snapshot's row carried by the journal: a row the store has already is left as it is.
Result<bool> StepImport::add_snapshot(const SnapshotRow& row) {
  State& s = *state_;
  Statement st = prepare(s.db,
                         "INSERT OR IGNORE INTO snapshots (id, commit_id, head, branch, "
                         "created_us, tool, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!st) return sqlite_error(s.db, s.path, "cannot record the snapshot");
  bind_text(st.get(), 1, row.id);
  bind_text(st.get(), 2, row.commit);
  bind_text(st.get(), 3, row.head);
  bind_text(st.get(), 4, row.branch);
  sqlite3_bind_int64(st.get(), 5, row.created_us);
  bind_text(st.get(), 6, row.tool);
  bind_text(st.get(), 7, row.reason);
  if (sqlite3_step(st.get()) != SQLITE_DONE) {
    return sqlite_error(s.db, s.path, "cannot record the snapshot");
  }
  return sqlite3_changes(s.db) > 0;
}

Status StepImport::commit() {
  State& s = *state_;
  if (s.committed) return {};
  // Statements must be reset (not running) for COMMIT to release every lock.
  for (sqlite3_stmt* stmt :
       {s.st.find_context.get(), s.st.insert_context.get(), s.st.find_name.get(),
        s.st.insert_name.get(), s.st.insert_step.get(), s.st.insert_span.get()}) {
    sqlite3_reset(stmt);
  }
  if (!s.rollups.flush()) return sqlite_error(s.db, s.path, "cannot record the step");
  if (!s.tx.commit()) return sqlite_error(s.db, s.path, "cannot record the step");
  s.committed = true;
  fold_wal(s.db, s.wal, s.added >= kBulkRecords);
  return {};
}

Status Store::record_snapshot(const SnapshotRow& row) {
  constexpr std::string_view kWhat = "cannot record the snapshot";
  WriteTransaction tx(db_);
  if (!tx.begin()) return sqlite_error(db_, path_, kWhat);
  Statement s = prepare(db_,
                        "INSERT OR REPLACE INTO snapshots (id, commit_id, head, branch, "
                        "created_us, tool, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!s) return sqlite_error(db_, path_, kWhat);
  bind_text(s.get(), 1, row.id);
  bind_text(s.get(), 2, row.commit);
  bind_text(s.get(), 3, row.head);
  bind_text(s.get(), 4, row.branch);
  sqlite3_bind_int64(s.get(), 5, row.created_us);
  bind_text(s.get(), 6, row.tool);
  bind_text(s.get(), 7, row.reason);
  if (sqlite3_step(s.get()) != SQLITE_DONE || !tx.commit()) {
    return sqlite_error(db_, path_, kWhat);
  }
  fold_log(false);
  return {};
}

std::optional<std::string> Store::cached_git_version(const std::string& key) {
  Statement s = prepare(db_, "SELECT value FROM meta WHERE key = ?1");
  if (!s) return std::nullopt;
  std::string full_key = "git-version:" + key;
  bind_text(s.get(), 1, full_key);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return std::nullopt;
  return column_text(s.get(), 0);
}

Status Store::cache_git_version(const std::string& key, const std::string& version) {
  constexpr std::string_view kWhat = "cannot cache the git version";
  WriteTransaction tx(db_);
  if (!tx.begin()) return sqlite_error(db_, path_, kWhat);
  Statement s = prepare(db_, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
  if (!s) return sqlite_error(db_, path_, kWhat);
  std::string full_key = "git-version:" + key;
  bind_text(s.get(), 1, full_key);
  bind_text(s.get(), 2, version);
  if (sqlite3_step(s.get()) != SQLITE_DONE || !tx.commit()) {
    return sqlite_error(db_, path_, kWhat);
  }
  fold_log(false);
  return {};
}

Result<std::vector<StepRecord>> Store::recent_steps(int limit, const std::string& step) {
  StepQuery query;
  query.step = step;
  query.newest_first = true;
  query.limit = limit;
  std::vector<StepRecord> out;
  Status read = for_each_step(query, [&](StepRecord& r) -> Status {
    out.push_back(std::move(r));
    return {};
  });
  if (!read) return read.error();
  return out;
}

Status Store::for_each_step(const StepQuery& query,
                            const std::function<Status(StepRecord&)>& visit) {
  constexpr std::string_view kWhat = "cannot read the recorded steps";
  std::string sql =
      "SELECT s.id, s.trace_id, s.step, s.started_us, s.duration_us, s.status, s.threshold_us,"
      " s.exit_code, s.head_before, s.head_after, s.cpu_user_us, s.cpu_sys_us, s.max_rss_kb,"
      " s.labels, c.repo, c.branch, c.host, c.user, c.ci_provider, c.ci_job, c.tool,"
      " c.tool_version, c.git_version"
      " FROM steps AS s JOIN contexts AS c ON c.id = s.context_id WHERE 1";
  if (!query.step.empty()) sql += " AND s.step = ?1";
  if (query.since_us) sql += " AND s.started_us >= ?2";
  if (query.before_us) sql += " AND s.started_us < ?3";
  sql += query.newest_first ? " ORDER BY s.started_us DESC, s.id DESC"
                            : " ORDER BY s.started_us, s.id";
  sql += " LIMIT ?4";

  // One read transaction, so the steps and their spans come from the same snapshot.
  if (!exec(db_, "BEGIN")) return sqlite_error(db_, path_, kWhat);
  struct EndRead {
    sqlite3* db;
    ~EndRead() { exec(db, "COMMIT"); }
  } end_read{db_};

  Statement steps = prepare(db_, sql);
  Statement spans = prepare(db_,
                            "SELECT seq, parent_seq, name, offset_us, duration_us, exit_code,"
                            " cpu_user_us, cpu_sys_us, max_rss_kb"
                            " FROM spans WHERE step_id = ?1 ORDER BY seq");
  Statement labels = prepare(db_, "SELECT key, value FROM json_each(?1)");
  if (!steps || !spans || !labels) return sqlite_error(db_, path_, kWhat);
  if (!query.step.empty()) bind_text(steps.get(), 1, query.step);
  if (query.since_us) sqlite3_bind_int64(steps.get(), 2, *query.since_us);
  if (query.before_us) sqlite3_bind_int64(steps.get(), 3, *query.before_us);
  sqlite3_bind_int(steps.get(), 4, query.limit > 0 ? query.limit : -1);

  sqlite3_stmt* s = steps.get();
  int rc;
  std::vector<SpanRow> rows;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    StepRecord r;
    std::int64_t id = sqlite3_column_int64(s, 0);
    r.trace_id = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
    r.step = column_text(s, 2);
    r.root.name = r.step;
    r.root.start_us = sqlite3_column_int64(s, 3);
    r.root.duration = Duration::micros(sqlite3_column_int64(s, 4));
    r.status = parse_step_status(column_text(s, 5)).value_or(StepStatus::failed);
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
      r.threshold = Duration::micros(sqlite3_column_int64(s, 6));
    }
    r.exit_code = sqlite3_column_int(s, 7);
    r.head_before = column_head(s, 8);
    r.head_after = column_head(s, 9);
    std::optional<std::int64_t> usage[3];
    for (int i = 0; i < 3; ++i) {
      if (sqlite3_column_type(s, 10 + i) != SQLITE_NULL) usage[i] = sqlite3_column_int64(s, 10 + i);
    }
    RunContext& c = r.context;
    std::string* fields[] = {&c.repo,   &c.branch, &c.host,         &c.user,       &c.ci_provider,
                             &c.ci_job, &c.tool,   &c.tool_version, &c.git_version};
    for (int i = 0; i < 9; ++i) *fields[i] = column_text(s, 14 + i);

    if (sqlite3_column_type(s, 13) != SQLITE_NULL) {
      sqlite3_stmt* l = labels.get();
      sqlite3_reset(l);
      std::string json = column_text(s, 13);
      bind_text(l, 1, json);
      while ((rc = sqlite3_step(l)) == SQLITE_ROW) {
        r.labels.emplace_back(column_text(l, 0), column_text(l, 1));
      }
      if (rc != SQLITE_DONE) return sqlite_error(db_, path_, kWhat);
    }

    sqlite3_stmt* p = spans.get();
    sqlite3_reset(p);
    sqlite3_bind_int64(p, 1, id);
    rows.clear();
    while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
      SpanRow row;
      row.seq = sqlite3_column_int(p, 0);
      if (sqlite3_column_type(p, 1) != SQLITE_NULL) row.parent_seq = sqlite3_column_int(p, 1);
      row.span.name = column_text(p, 2);
      row.span.start_us = r.root.start_us + sqlite3_column_int64(p, 3);
      row.span.duration = Duration::micros(sqlite3_column_int64(p, 4));
      if (sqlite3_column_type(p, 5) != SQLITE_NULL) row.span.exit_code = sqlite3_column_int(p, 5);
      row.span.usage = {sqlite3_column_int64(p, 6), sqlite3_column_int64(p, 7),
                        sqlite3_column_int64(p, 8)};
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return sqlite_error(db_, path_, kWhat);
    attach_children(r.root, std::nullopt, rows);
    ResourceUsage derived = children_usage(r.root).value_or(ResourceUsage{});
    r.root.usage = {usage[0].value_or(derived.cpu_user_us), usage[1].value_or(derived.cpu_sys_us),
                    usage[2].value_or(derived.max_rss_kb)};
    if (Status visited = visit(r); !visited) return visited;
  }
  if (rc != SQLITE_DONE) return sqlite_error(db_, path_, kWhat);
  return {};
}

Result<PruneCounts> Store::prune_steps(std::int64_t before_us, bool dry_run) {
  constexpr std::string_view kWhat = "cannot prune the recorded steps";
  // The spans go first, explicitly, so the foreign keys need no checking: with them on, each
  // deleted step looked for its spans again (half the time of a prune).
  ForeignKeysOff foreign_keys_off(db_);
  // Under the write lock even for a dry run, so the counts are those a real run would remove.
  WriteTransaction tx(db_);
  if (!tx.begin()) return sqlite_error(db_, path_, kWhat);
  // The row tables, not the views (which join every row to its name): a prune of half a
  // million steps is a few times faster.
  Statement count = prepare(db_,
                            "SELECT count(*), coalesce(sum((SELECT count(*) FROM span_rows AS p"
                            " WHERE p.step_id = s.id)), 0)"
                            " FROM step_rows AS s WHERE s.started_us < ?1");
  if (!count) return sqlite_error(db_, path_, kWhat);
  sqlite3_bind_int64(count.get(), 1, before_us);
  if (sqlite3_step(count.get()) != SQLITE_ROW) return sqlite_error(db_, path_, kWhat);
  PruneCounts counts{sqlite3_column_int64(count.get(), 0), sqlite3_column_int64(count.get(), 1)};
  count.reset();
  if (dry_run || counts.steps == 0) return counts;  // the transaction rolls back

  // Spans first, explicitly: the ON DELETE CASCADE needs foreign_keys on.
  Statement spans = prepare(db_,
                            "DELETE FROM span_rows WHERE step_id IN"
                            " (SELECT id FROM step_rows WHERE started_us < ?1)");
  Statement steps = prepare(db_, "DELETE FROM step_rows WHERE started_us < ?1");
  if (!spans || !steps) return sqlite_error(db_, path_, kWhat);
  for (sqlite3_stmt* stmt : {spans.get(), steps.get()}) {
    sqlite3_bind_int64(stmt, 1, before_us);
    if (sqlite3_step(stmt) != SQLITE_DONE) return sqlite_error(db_, path_, kWhat);
    sqlite3_reset(stmt);
  }
  if (!tx.commit()) return sqlite_error(db_, path_, kWhat);
  fold_log(counts.steps >= kBulkRecords);
  return counts;
}

int Store::schema_version() const {
  return read_user_version(db_);
}

}  // namespace perfguard
