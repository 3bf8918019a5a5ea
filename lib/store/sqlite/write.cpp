// Appending records: steps with their child spans and context, snapshot rows, in one
// BEGIN IMMEDIATE transaction per batch, with the hourly rollups kept in the same one.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "output/json.h"
#include "output/record_json.h"
#include "store/sqlite/heads.h"
#include "store/sqlite/rollups.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

namespace {

using sql::bind_borrowed_text;
using sql::prepare;
using sql::Statement;

constexpr std::string_view kWhat = "cannot record the step";
constexpr std::string_view kSnapshotWhat = "cannot record the snapshot";

// The contexts table's columns in kContextFields' order, `separator` between them; with a
// `suffix`, each is followed by it and its parameter's number: "repo = ?1 AND branch = ?2…".
std::string context_columns(std::string_view separator, std::string_view suffix) {
  std::string out;
  for (std::size_t i = 0; i < kContextFields.size(); ++i) {
    if (i) out += separator;
    out += kContextFields[i].name;
    if (!suffix.empty()) {
      out += suffix;
      out += std::to_string(i + 1);
    }
  }
  return out;
}

std::string context_placeholders() {
  std::string out;
  for (std::size_t i = 0; i < kContextFields.size(); ++i) {
    out += i ? ", ?" : "?";
    out += std::to_string(i + 1);
  }
  return out;
}

// Bytes as they are, like the text columns: the store holds what was recorded, and only
// what is written out of it is encoded (core/text_encoding.h).
std::string labels_json(const Labels& labels) {
  JsonWriter out(JsonStrings::bytes);
  write_labels(out, labels);
  return out.take();
}

// A child span as a row of span_rows, waiting for its INSERT.
struct PendingSpan {
  const Span* span;
  int seq;
  std::optional<int> parent_seq;
  std::int64_t name_id;
};

// Child spans inserted at most this many rows to a statement: one statement for a step's
// few spans costs half what one per span does.
constexpr std::size_t kSpanRowsPerInsert = 8;

// The statements a batch of records needs, prepared once per batch (not at open: most
// processes open the store to write one record or to read, never both).
struct RecordStatements {
  Statement find_context;
  Statement insert_context;
  Statement find_name;
  Statement insert_name;
  Statement insert_step;
  std::map<std::string, std::int64_t, std::less<>> name_ids;  // step and span names
  Statement insert_spans[kSpanRowsPerInsert];  // 1 to 8 rows in one INSERT (see span_insert)
  Statement insert_more_spans;
  std::vector<PendingSpan> pending_spans;  // scratch

  bool prepare_all(sqlite3* db) {
    find_context = prepare(db, "SELECT id FROM contexts WHERE " + context_columns(" AND ", " = ?"));
    insert_context =
        prepare(db, "INSERT INTO contexts (" + context_columns(", ", "") + ") VALUES (" +
                        context_placeholders() + ") ON CONFLICT DO NOTHING RETURNING id");
    find_name = prepare(db, "SELECT id FROM names WHERE name = ?1");
    insert_name = prepare(db, "INSERT INTO names (name) VALUES (?1)");
    // (trace_id, step, start) identifies a record; one already stored (a journal imported
    // twice) is skipped. The check goes through the step's hour (HourRollups::contains).
    insert_step = prepare(db,
                          "INSERT INTO step_rows (trace_id, name_id, started_us, duration_us,"
                          " status, threshold_us, exit_code, context_id, head_before, head_after,"
                          " cpu_user_us, cpu_sys_us, max_rss_kb, labels)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    return find_context && insert_context && find_name && insert_name && insert_step;
  }

  // The id of a step or span name, added to `names` when new. 0 on failure.
  std::int64_t name_id(sqlite3* db, const std::string& name) {
    if (auto it = name_ids.find(name); it != name_ids.end()) return it->second;
    sqlite3_stmt* find = find_name.get();
    sqlite3_reset(find);
    bind_borrowed_text(find, 1, name);
    std::int64_t id = 0;
    int rc = sqlite3_step(find);
    if (rc == SQLITE_ROW) {
      id = sqlite3_column_int64(find, 0);
    } else if (rc == SQLITE_DONE) {
      sqlite3_stmt* insert = insert_name.get();
      sqlite3_reset(insert);
      bind_borrowed_text(insert, 1, name);
      if (sqlite3_step(insert) == SQLITE_DONE) id = sqlite3_last_insert_rowid(db);
      sqlite3_reset(insert);
    }
    sqlite3_reset(find);
    if (id != 0) name_ids.emplace(name, id);
    return id;
  }

  // The id of the context row, inserted when new. 0 on failure.
  std::int64_t context_id(const RunContext& c) {
    for (sqlite3_stmt* stmt : {find_context.get(), insert_context.get()}) {
      sqlite3_reset(stmt);
      for (std::size_t i = 0; i < kContextFields.size(); ++i) {
        bind_borrowed_text(stmt, static_cast<int>(i + 1), c.*kContextFields[i].member);
      }
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

  // The statement inserting `rows` rows into span_rows at once (1 to kSpanRowsPerInsert),
  // prepared the first time it is needed.
  sqlite3_stmt* span_insert(sqlite3* db, std::size_t rows) {
    Statement& stmt = insert_spans[rows - 1];
    if (!stmt) {
      std::string text =
          "INSERT INTO span_rows (id, parent_seq, name_id, offset_us, duration_us, exit_code,"
          " cpu_user_us, cpu_sys_us, max_rss_kb) VALUES ";
      for (std::size_t i = 0; i < rows; ++i)
        text += i ? ",(?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?)";
      stmt = prepare(db, text);
    }
    return stmt.get();
  }

  // The statement for a span past the step's first schema::kSpansPerStepKey.
  sqlite3_stmt* more_spans_insert(sqlite3* db) {
    if (!insert_more_spans) {
      insert_more_spans = prepare(db,
                                  "INSERT INTO span_rows_more (step_id, seq, parent_seq, name_id,"
                                  " offset_us, duration_us, exit_code, cpu_user_us, cpu_sys_us,"
                                  " max_rss_kb) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    }
    return insert_more_spans.get();
  }

  // The rows of `parent`'s descendants, depth first: each gets the next `seq` and names
  // its parent's (none for the root's own children).
  bool collect_children(sqlite3* db, const Span& parent, std::optional<int> parent_seq, int& seq) {
    for (const Span& child : parent.children) {
      int my_seq = seq++;
      std::int64_t id = name_id(db, child.name);
      if (id == 0) return false;
      pending_spans.push_back({&child, my_seq, parent_seq, id});
      if (!collect_children(db, child, my_seq, seq)) return false;
    }
    return true;
  }

  // Binds a span's columns from parent_seq on, from `index` on.
  static void bind_span(sqlite3_stmt* stmt, int index, const PendingSpan& row, const Span& root) {
    const Span& child = *row.span;
    sql::bind_optional(stmt, index, row.parent_seq);
    sqlite3_bind_int64(stmt, index + 1, row.name_id);
    sqlite3_bind_int64(stmt, index + 2, child.start_us - root.start_us);
    sqlite3_bind_int64(stmt, index + 3, child.duration.us);
    sql::bind_optional(stmt, index + 4, child.exit_code);
    sqlite3_bind_int64(stmt, index + 5, child.usage.cpu_user_us);
    sqlite3_bind_int64(stmt, index + 6, child.usage.cpu_sys_us);
    sqlite3_bind_int64(stmt, index + 7, child.usage.max_rss_kb);
  }

  // Inserts the child spans of a step's root span.
  bool insert_children(sqlite3* db, std::int64_t step_id, const Span& root) {
    pending_spans.clear();
    int seq = 0;
    if (!collect_children(db, root, std::nullopt, seq)) return false;
    const std::size_t keyed =
        std::min(pending_spans.size(), static_cast<std::size_t>(schema::kSpansPerStepKey));
    for (std::size_t first = 0; first < keyed;) {
      std::size_t n = std::min(kSpanRowsPerInsert, keyed - first);
      sqlite3_stmt* stmt = span_insert(db, n);
      if (!stmt) return false;
      for (std::size_t i = 0; i < n; ++i) {
        const PendingSpan& row = pending_spans[first + i];
        const int base = static_cast<int>(i) * 9;
        sqlite3_bind_int64(stmt, base + 1, schema::span_key(step_id, row.seq));
        bind_span(stmt, base + 2, row, root);
      }
      int rc = sqlite3_step(stmt);
      sqlite3_reset(stmt);
      if (rc != SQLITE_DONE) return false;
      first += n;
    }
    for (std::size_t i = keyed; i < pending_spans.size(); ++i) {
      sqlite3_stmt* stmt = more_spans_insert(db);
      if (!stmt) return false;
      sqlite3_bind_int64(stmt, 1, step_id);
      sqlite3_bind_int(stmt, 2, pending_spans[i].seq);
      bind_span(stmt, 3, pending_spans[i], root);
      int rc = sqlite3_step(stmt);
      sqlite3_reset(stmt);
      if (rc != SQLITE_DONE) return false;
    }
    return true;
  }

  // Reset (not running) statements, so that COMMIT releases every lock.
  void reset_all() {
    for (sqlite3_stmt* stmt : {find_context.get(), insert_context.get(), find_name.get(),
                               insert_name.get(), insert_step.get()}) {
      sqlite3_reset(stmt);
    }
  }
};

// A map key for a context: each field's length, then its bytes, so no two contexts share one.
void context_key(std::string& key, const RunContext& c) {
  key.clear();
  for (const ContextField& field : kContextFields) {
    const std::string& value = c.*field.member;
    key += std::to_string(value.size());
    key += ':';
    key += value;
  }
}

// Inserts a snapshot's row. `replace`: a row with its id is replaced (the tool that took the
// snapshot knows best); else it is left as it is (a journal replayed). Whether a row was
// written.
Result<bool> insert_snapshot(SqliteStore& store, const SnapshotRow& row, bool replace) {
  sqlite3* db = store.db();
  Statement s = prepare(db, std::string("INSERT OR ") + (replace ? "REPLACE" : "IGNORE") +
                                " INTO snapshots (id, commit_id, head, branch, created_us, tool,"
                                " reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!s) return sql::error(db, store.path(), kSnapshotWhat);
  bind_borrowed_text(s.get(), 1, row.id);
  bind_borrowed_text(s.get(), 2, row.commit);
  bind_borrowed_text(s.get(), 3, row.head);
  bind_borrowed_text(s.get(), 4, row.branch);
  sqlite3_bind_int64(s.get(), 5, row.created_us);
  bind_borrowed_text(s.get(), 6, row.tool);
  bind_borrowed_text(s.get(), 7, row.reason);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return sql::error(db, store.path(), kSnapshotWhat);
  return sqlite3_changes(db) > 0;
}

// The SQLite engine's RecordWriter: statements prepared once, context ids kept in memory.
class SqliteRecordWriter final : public RecordWriter {
 public:
  explicit SqliteRecordWriter(SqliteStore& store)
      : store_(store),
        db_(store.db()),
        foreign_keys_off_(db_),
        tx_(db_, store.writers()),
        rollups_(db_) {}

  Status begin() {
    if (!tx_.begin() || !st_.prepare_all(db_) || !rollups_.catch_up()) {
      return sql::error(db_, store_.path(), kWhat);
    }
    return {};
  }

  Result<bool> add(const StepRecord& r) override;

  Result<bool> add_snapshot(const SnapshotRow& row) override {
    return insert_snapshot(store_, row, /*replace=*/false);
  }

  Status commit(const std::function<Status()>& before_commit) override {
    if (committed_) return {};
    st_.reset_all();
    if (!rollups_.flush()) return sql::error(db_, store_.path(), kWhat);
    if (before_commit) {
      if (auto s = before_commit(); !s) return s;
    }
    if (!tx_.commit()) return sql::error(db_, store_.path(), kWhat);
    committed_ = true;
    store_.fold_log(added_ >= SqliteStore::kBulkRecords);
    return {};
  }

  std::int64_t stored() const override { return added_; }

 private:
  SqliteStore& store_;
  sqlite3* db_;
  sql::ForeignKeysOff foreign_keys_off_;  // before tx_: restored after the transaction ends
  sql::WriteTransaction tx_;
  RecordStatements st_;
  HourRollups rollups_;  // step_hours, kept in the same transaction
  // Context ids by context_key(), and the last one used, which runs of records share.
  std::unordered_map<std::string, std::int64_t> contexts_;
  RunContext last_context_;
  std::int64_t last_context_id_ = 0;
  std::string key_;     // scratch
  std::string labels_;  // scratch
  std::int64_t added_ = 0;
  bool committed_ = false;
};

Result<bool> SqliteRecordWriter::add(const StepRecord& r) {
  if (committed_) return sql::error(store_.path(), kWhat, "the import was already committed");
  if (last_context_id_ == 0 || r.context != last_context_) {
    context_key(key_, r.context);
    auto it = contexts_.find(key_);
    std::int64_t id = it != contexts_.end() ? it->second : st_.context_id(r.context);
    if (id == 0) return sql::error(db_, store_.path(), kWhat);
    if (it == contexts_.end()) contexts_.emplace(key_, id);
    last_context_ = r.context;
    last_context_id_ = id;
  }

  std::int64_t name_id = st_.name_id(db_, r.step);
  if (name_id == 0) return sql::error(db_, store_.path(), kWhat);
  std::optional<bool> stored = rollups_.contains(name_id, r.root.start_us, r.trace_id);
  if (!stored) return sql::error(db_, store_.path(), kWhat);
  if (*stored) return false;  // (trace_id, step, start) already stored: a re-import

  sqlite3_stmt* stmt = st_.insert_step.get();
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  sqlite3_bind_int64(stmt, 1, static_cast<sqlite3_int64>(r.trace_id));
  sqlite3_bind_int64(stmt, 2, name_id);
  sqlite3_bind_int64(stmt, 3, r.root.start_us);
  sqlite3_bind_int64(stmt, 4, r.root.duration.us);
  sqlite3_bind_int(stmt, 5, status_code(r.status));
  if (r.threshold) sqlite3_bind_int64(stmt, 6, r.threshold->us);
  sqlite3_bind_int(stmt, 7, r.exit_code);
  sqlite3_bind_int64(stmt, 8, last_context_id_);
  sql::bind_head(stmt, 9, r.head_before);
  if (!r.head_after.empty() && r.head_after == r.head_before) {
    sqlite3_bind_zeroblob(stmt, 10, 0);  // x'': the same as head_before (see schema.cpp)
  } else {
    sql::bind_head(stmt, 10, r.head_after);
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
    labels_ = labels_json(r.labels);
    bind_borrowed_text(stmt, 14, labels_);
  }
  if (sqlite3_step(stmt) != SQLITE_DONE) return sql::error(db_, store_.path(), kWhat);
  std::int64_t step_id = sqlite3_last_insert_rowid(db_);
  sqlite3_reset(stmt);

  if (!st_.insert_children(db_, step_id, r.root)) return sql::error(db_, store_.path(), kWhat);
  rollups_.add(name_id, r.root.start_us, r.root.duration.us, r.status, r.trace_id, step_id);
  ++added_;
  return true;
}

}  // namespace

// One writer at a time: the file's write lock orders them, lanes or not.
Result<std::unique_ptr<RecordWriter>> SqliteStore::begin_import(std::size_t /*expected*/,
                                                                ImportLane /*lane*/) {
  auto writer = std::make_unique<SqliteRecordWriter>(*this);
  if (Status begun = writer->begin(); !begun) return begun.error();
  return std::unique_ptr<RecordWriter>(std::move(writer));
}

Status SqliteStore::record_snapshot(const SnapshotRow& row) {
  sql::WriteTransaction tx(db_, writers_);
  if (!tx.begin()) return sql::error(db_, path_, kSnapshotWhat);
  auto inserted = insert_snapshot(*this, row, /*replace=*/true);
  if (!inserted) return inserted.error();
  if (!tx.commit()) return sql::error(db_, path_, kSnapshotWhat);
  fold_log(false);
  return {};
}

Status SqliteStore::forget_snapshots(const std::vector<std::string>& ids, std::int64_t now_us) {
  sql::WriteTransaction tx(db_, writers_);
  Statement pruned =
      sql::prepare(db_, "INSERT OR REPLACE INTO pruned_snapshots (id, pruned_us) VALUES (?1, ?2)");
  Statement row = sql::prepare(db_, "DELETE FROM snapshots WHERE id = ?1");
  if (!tx.begin() || !pruned || !row) return sql::error(db_, path_, kSnapshotWhat);
  for (const std::string& id : ids) {
    sqlite3_reset(pruned.get());
    sqlite3_reset(row.get());
    sql::bind_text(pruned.get(), 1, id);
    sqlite3_bind_int64(pruned.get(), 2, now_us);
    sql::bind_text(row.get(), 1, id);
    if (sqlite3_step(pruned.get()) != SQLITE_DONE || sqlite3_step(row.get()) != SQLITE_DONE) {
      return sql::error(db_, path_, kSnapshotWhat);
    }
  }
  if (!tx.commit()) return sql::error(db_, path_, kSnapshotWhat);
  fold_log(false);
  return {};
}

}  // namespace perfguard
