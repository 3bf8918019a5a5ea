#include "store/sqlite/sqlite_store.h"

#include <utility>

#include "store/sqlite/sql.h"

namespace perfguard {

using sql::Statement;

namespace {

// Why the store keeps its write-ahead log's size itself (WalState). Every tool is a
// short-lived process that leaves the log behind when it exits (see open.cpp), and the first
// connection to open a store rebuilds the log's index by reading all of it, then counts none
// of it as copied into the file: the log would never start over, and every later run of
// every tool would read every page any earlier run wrote (with 1,300 pages in the log,
// `show` took 12 ms instead of 4). So the store empties the log itself after its commits.
//
// This hook replaces SQLite's auto-checkpoint, which only copies the pages: the store folds
// the log after the commit instead (fold_wal).
int remember_wal_frames(void* state, sqlite3*, const char*, int frames) {
  static_cast<WalState*>(state)->frames = frames;
  return SQLITE_OK;
}

// Pages (4 KiB) the log may hold before a commit empties it: reading them costs each tool's
// start well under a millisecond, and emptying it (copy, one fsync) comes every few dozen
// steps.
constexpr int kFoldFrames = 128;
// After a commit: once the log holds kFoldFrames pages, or after a bulk write, copies it
// into the file and truncates it. A step waits for no one: when another process is reading
// or writing, the fold is left to a later commit. After a bulk write it waits as for any
// other lock (the busy timeout), so that no later run pays for what the bulk write left.
// Best effort either way: the data is committed already.
void fold_wal(sqlite3* db, WalState& wal, int busy_timeout_ms, bool bulk) {
  if (!bulk && wal.frames < kFoldFrames) return;
  if (!bulk) sqlite3_busy_timeout(db, 0);
  int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  if (!bulk) sqlite3_busy_timeout(db, busy_timeout_ms);
  if (rc == SQLITE_OK) wal.frames = 0;
}

}  // namespace

SqliteStore::SqliteStore(sqlite3* db, std::filesystem::path path)
    : db_(db), path_(std::move(path)) {
  if (db_) sqlite3_wal_hook(db_, remember_wal_frames, &wal_);
}

SqliteStore::~SqliteStore() {
  recent_run_statements_ = {};  // finalized before the connection closes
  if (db_) sqlite3_close_v2(db_);
}

void SqliteStore::while_working(std::function<void()> tick) {
  tick_ = std::move(tick);
  // SQLite's progress handler, every this many virtual machine steps: a few hundred
  // microseconds of work, so the line moves and the calls cost nothing measurable.
  constexpr int kStepsBetweenTicks = 20'000;
  if (!tick_) {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    return;
  }
  sqlite3_progress_handler(
      db_, kStepsBetweenTicks,
      [](void* store) {
        static_cast<SqliteStore*>(store)->tick_();
        return 0;  // go on: nonzero would interrupt the statement
      },
      this);
}

void SqliteStore::fold_log(bool bulk) {
  fold_wal(db_, wal_, writers_.busy_timeout_ms(), bulk);
}

void SqliteStore::set_writers(WriterQueue writers) {
  writers_ = std::move(writers);
  sqlite3_busy_timeout(db_, writers_.busy_timeout_ms());
}

sqlite3* sql::connection(Store& store) {
  auto* sqlite = dynamic_cast<SqliteStore*>(&store.engine());
  return sqlite ? sqlite->db() : nullptr;
}

std::optional<std::string> SqliteStore::cached_git_version(const std::string& key) {
  Statement s = sql::prepare(db_, "SELECT value FROM meta WHERE key = ?1");
  if (!s) return std::nullopt;
  std::string full_key = "git-version:" + key;
  sql::bind_text(s.get(), 1, full_key);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return std::nullopt;
  return sql::column_text(s.get(), 0);
}

Status SqliteStore::cache_git_version(const std::string& key, const std::string& version) {
  constexpr std::string_view kWhat = "cannot cache the git version";
  sql::WriteTransaction tx(db_, writers_);
  if (!tx.begin()) return sql::error(db_, path_, kWhat);
  Statement s = sql::prepare(db_, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
  if (!s) return sql::error(db_, path_, kWhat);
  std::string full_key = "git-version:" + key;
  sql::bind_text(s.get(), 1, full_key);
  sql::bind_text(s.get(), 2, version);
  if (sqlite3_step(s.get()) != SQLITE_DONE || !tx.commit()) {
    return sql::error(db_, path_, kWhat);
  }
  fold_log(false);
  return {};
}

Result<std::vector<StoredSnapshot>> SqliteStore::stored_snapshots() {
  constexpr std::string_view kWhat = "cannot read the snapshots";
  // The rows, and the "snapshot" labels of the steps that took one. Only steps with labels
  // are parsed; a label that is not JSON (written by hand) is skipped, not an error.
  // (The label's id is named snapshot_id: `id` in HAVING would be step_rows.id.) Snapshots
  // pruned on purpose are not among them.
  Statement s =
      sql::prepare(db_,
                   "WITH labelled AS ("
                   "  SELECT json_extract(labels, '$.snapshot') AS snapshot_id, count(*) AS n"
                   "  FROM step_rows WHERE labels IS NOT NULL AND labels LIKE '%\"snapshot\"%'"
                   "  AND json_valid(labels) GROUP BY 1 HAVING snapshot_id IS NOT NULL),"
                   " ids AS (SELECT id FROM snapshots UNION SELECT snapshot_id FROM labelled)"
                   " SELECT ids.id, coalesce(sn.commit_id, ''), sn.id IS NOT NULL, coalesce(l.n, 0)"
                   " FROM ids LEFT JOIN snapshots sn ON sn.id = ids.id"
                   " LEFT JOIN labelled l ON l.snapshot_id = ids.id"
                   " WHERE ids.id NOT IN (SELECT id FROM pruned_snapshots) ORDER BY ids.id");
  if (!s) return sql::error(db_, path_, kWhat);
  std::vector<StoredSnapshot> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    StoredSnapshot snapshot;
    snapshot.id = sql::column_text(s.get(), 0);
    snapshot.commit = sql::column_text(s.get(), 1);
    snapshot.row = sqlite3_column_int(s.get(), 2) != 0;
    snapshot.labelled_steps = sqlite3_column_int64(s.get(), 3);
    out.push_back(std::move(snapshot));
  }
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kWhat);
  return out;
}

int SqliteStore::schema_version() {
  Statement stmt = sql::prepare(db_, "PRAGMA user_version");
  if (!stmt || sqlite3_step(stmt.get()) != SQLITE_ROW) return -1;
  return sqlite3_column_int(stmt.get(), 0);
}

}  // namespace perfguard
