// Appending records to the shared store in bulk: records are written a batch at a time, in
// one transaction. A batch's steps are copied (COPY) straight into step_rows as they are
// added, with ids drawn from the sequence beforehand, so that the server stores one part of
// the batch while the next is made; its spans follow in a second COPY, all under a
// savepoint. When one of the batch's records is stored already (a unique key taken, by this or
// another connection), the batch goes again through a temporary table and INSERT … ON
// CONFLICT DO NOTHING, which skips those records, and so does the rest of the import. The
// hours the records fall in are rolled up again before the commit (rollups.h).

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "output/json.h"
#include "output/record_json.h"
#include "store/postgres/postgres_engine.h"
#include "store/postgres/rollups.h"

namespace perfguard {

namespace {

constexpr std::string_view kWhat = "cannot record the step";
constexpr std::string_view kSnapshotWhat = "cannot record the snapshot";

// Records written a batch at a time: large enough that each statement's fixed cost vanishes,
// small enough that a batch's buffers stay a few megabytes.
constexpr std::size_t kBatchRecords = 10000;
// A batch's step rows go to the server this many bytes at a time as they are made.
constexpr std::size_t kSendBytes = 64 * 1024;
// Ids drawn at once when the caller has not said how many records come: this many first,
// twice as many each time after, up to a batch (a few records waste few ids).
constexpr std::size_t kFirstIds = 16;

// A record's identity: the same trace, step and start.
struct RecordKey {
  std::uint64_t trace_id;
  std::int64_t started_us;
  std::string step;
  friend bool operator==(const RecordKey&, const RecordKey&) = default;
};
struct RecordKeyHash {
  std::size_t operator()(const RecordKey& k) const {
    return std::hash<std::uint64_t>{}(k.trace_id * 0x9E3779B97F4A7C15ULL ^
                                      static_cast<std::uint64_t>(k.started_us)) ^
           std::hash<std::string>{}(k.step);
  }
};

// A HEAD as the SQLite engine gives it back: an object id in lower-case hex, anything else
// as it was recorded (`scratch` holds the lower-case copy when one is needed).
std::string_view stored_head(const std::string& head, std::string& scratch) {
  if (head.size() != 40 && head.size() != 64) return head;
  bool lower = true;
  for (char c : head) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) continue;
    if (c < 'A' || c > 'F') return head;  // not an object id
    lower = false;
  }
  if (lower) return head;
  scratch = head;
  for (char& c : scratch) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return scratch;
}

// As the machine formats write labels: each key and value through the text encoding, so the
// JSON is valid UTF-8 without a NUL, and the column (written as it is: pq.h) shows what
// `export --format jsonl` shows. read_steps.cpp decodes each key and value again.
std::string labels_json(const Labels& labels) {
  JsonWriter out(JsonStrings::encoded);
  write_labels(out, labels);
  return out.take();
}

// The columns a step's and a span's COPY rows fill, in order; the first of each is the
// step's id (or what stands for it until it is known).
constexpr char kStepColumns[] =
    "(id, trace_id, step, started_us, duration_us, status, threshold_us, exit_code, context_id,"
    " head_before, head_after, cpu_user_us, cpu_sys_us, max_rss_kb, labels)";
constexpr int kStepFields = 15;
constexpr char kSpanColumns[] =
    "span_rows (step_id, seq, parent_seq, name, offset_us, duration_us, exit_code, cpu_user_us,"
    " cpu_sys_us, max_rss_kb)";
constexpr int kSpanFields = 10;
// The bytes of a row before its second field: the number of fields, and the first (a
// BIGINT's length and 8 bytes).
constexpr std::size_t kRowKeyBytes = 2 + 4 + 8;

// Appends the COPY rows of `parent`'s descendants, depth first, as the SQLite engine numbers
// them, each under `key`.
void append_span_rows(const Span& root, const Span& parent, std::optional<int> parent_seq, int& seq,
                      std::int64_t key, std::string& out) {
  for (const Span& child : parent.children) {
    const int my_seq = seq++;
    pq::CopyRow(out, kSpanFields)
        .int64(key)
        .int32(my_seq)
        .optional32(parent_seq)
        .text(child.name)
        .int64(child.start_us - root.start_us)
        .int64(child.duration.us)
        .optional32(child.exit_code)
        .int64(child.usage.cpu_user_us)
        .int64(child.usage.cpu_sys_us)
        .int64(child.usage.max_rss_kb);
    append_span_rows(root, child, my_seq, seq, key, out);
  }
}

Result<bool> insert_snapshot(pq::Connection& c, const SnapshotRow& row, bool replace) {
  std::string sql =
      "INSERT INTO snapshots (id, commit_id, head, branch, created_us, tool, reason)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO ";
  sql += replace ? "UPDATE SET commit_id = excluded.commit_id, head = excluded.head,"
                   " branch = excluded.branch, created_us = excluded.created_us,"
                   " tool = excluded.tool, reason = excluded.reason"
                 : "NOTHING";
  auto done = c.exec(kSnapshotWhat, sql,
                     pq::Params()
                         .add(row.id)
                         .add(row.commit)
                         .add(row.head)
                         .add(row.branch)
                         .add(row.created_us)
                         .add(row.tool)
                         .add(row.reason));
  if (!done) return done.error();
  return done->affected() > 0;
}

// The advisory lock a writer of records holds until it commits ("pfgd" and a number of its
// own; the schema's and the alerts' locks are 01 and 02): alone, exclusively; as a lane of a
// ship, shared with the other lanes.
constexpr std::int64_t kRecordsLock = 0x7066676403;
// The advisory lock of a ship's lanes, held by the connection that claims them for the ship's
// session: a second ship cannot claim lanes meanwhile, so writers that share the records' lock
// are always one ship's, whose records are disjoint.
constexpr std::int64_t kLanesLock = 0x7066676404;
// The advisory lock a writer takes before it inserts a context, held until it commits: two
// lanes that each inserted a context the other needs would each wait for the other's
// uncommitted row in the contexts' unique index, for good.
constexpr std::int64_t kContextsLock = 0x7066676405;

class PostgresRecordWriter final : public RecordWriter {
 public:
  PostgresRecordWriter(PostgresStore& store, std::size_t expected)
      : store_(store), c_(store.connection()), tx_(c_), expected_(expected) {}

  Status begin(ImportLane lane) {
    // One writer of records at a time, as SQLite's write lock orders them, or the lanes of one
    // ship. Two writers adding overlapping records at once each wait for the other's
    // uncommitted entries in the records' unique index, and PostgreSQL ends such a wait by
    // aborting one ("deadlock detected"): a ship that fails for no reason of its own. A ship's
    // lanes send disjoint records. This writer rolls up the hours it adds itself (the triggers
    // leave them alone). The transaction, the lock and the setting: one round trip (each
    // batch of a ship begins so).
    const std::string lock = lane == ImportLane::beside_others ? "pg_advisory_xact_lock_shared"
                                                               : "pg_advisory_xact_lock";
    auto begun = tx_.begin_with(kWhat, "SELECT " + lock + "(" + std::to_string(kRecordsLock) +
                                           "); SET LOCAL perfguard.rollups = 'kept'");
    if (!begun) return begun.error();
    return {};
  }

  Result<bool> add(const StepRecord& r) override;

  Result<bool> add_snapshot(const SnapshotRow& row) override {
    if (Status s = flush(); !s) return s.error();  // the connection is free again
    return insert_snapshot(c_, row, /*replace=*/false);
  }

  Status commit(const std::function<Status()>& before_commit) override {
    if (committed_) return {};
    if (Status s = flush(); !s) return s;
    std::vector<HourKey> hours;
    for (const auto& [key, _] : hours_) hours.push_back(key);
    if (Status s = rebuild_hours(c_, std::move(hours), hours_); !s) return s;
    if (before_commit) {
      if (Status s = before_commit(); !s) return s;
    }
    if (Status s = tx_.commit(kWhat); !s) return s;
    committed_ = true;
    store_.known_contexts().merge(contexts_);
    return {};
  }

  std::int64_t stored() const override { return stored_; }

 private:
  Result<std::int64_t> context_id(const RunContext& context);
  // Makes the next record's key: the batch ended when it is full or out of ids, ids drawn,
  // the batch's COPY begun.
  Result<std::int64_t> next_key();
  Status draw_ids();
  Status flush();
  // A batch's two ways into step_rows (flush says when each is taken).
  Result<bool> finish_copy();
  Status insert_batch();
  // COPY of the span rows of the batch's steps, by position, under the ids they were stored
  // with.
  Status copy_spans(const std::vector<std::pair<std::size_t, std::int64_t>>& steps);

  PostgresStore& store_;
  pq::Connection& c_;
  pq::Transaction tx_;
  // Contexts this import inserted or found, by their fields joined: the store knows them
  // once it commits (an insert rolled back is gone).
  std::unordered_map<std::string, std::int64_t> contexts_;
  RunContext last_context_;
  std::int64_t last_context_id_ = 0;
  // Every record of this import, with the batch it was added to (by number) and its position
  // there.
  struct Added {
    std::size_t batch;
    std::size_t position;
  };
  std::unordered_map<RecordKey, Added, RecordKeyHash> seen_;
  std::size_t batches_ = 0;  // batches flushed
  WrittenHours hours_;       // the records added to each hour, in the order they were added
  // Ids drawn from the sequence for the records to come, in ascending order, and the next
  // one to use. Drawn as many as the caller said would come, else kFirstIds and more each time.
  std::size_t expected_;
  std::size_t added_ = 0;
  std::size_t draw_ = kFirstIds;
  pq::Rows ids_;
  int next_id_ = 0;
  // The batch. Each step's COPY row starts with its key (the id drawn for it; on the way
  // through the temporary table, its position), and so does each of its span rows: where
  // they start, by position, and how much of the steps' rows the server has.
  std::string step_rows_;
  std::vector<std::size_t> step_starts_;
  std::size_t sent_ = 0;  // bytes of step_rows_
  std::string span_rows_;
  std::vector<std::size_t> span_starts_;  // where each step's span rows start
  bool duplicates_ = false;               // a batch of this import held records stored already
  bool import_table_ = false;             // insert_batch's temporary table is made
  std::string key_;                       // scratch
  std::string heads_[2];                  // scratch: HEADs in lower case
  std::int64_t stored_ = 0;
  bool committed_ = false;
};

Result<std::int64_t> PostgresRecordWriter::context_id(const RunContext& context) {
  key_.clear();
  for (const ContextField& field : kContextFields) {
    const std::string& value = context.*field.member;
    key_ += std::to_string(value.size());
    key_ += ':';
    key_ += value;
  }
  if (auto it = store_.known_contexts().find(key_); it != store_.known_contexts().end()) {
    return it->second;
  }
  if (auto it = contexts_.find(key_); it != contexts_.end()) return it->second;
  // A new context ends the batch: its COPY holds the connection.
  if (Status s = flush(); !s) return s.error();
  pq::Params p;
  for (const ContextField& field : kContextFields) p.add(context.*field.member);
  std::string columns, values, match;
  for (std::size_t i = 0; i < kContextFields.size(); ++i) {
    const std::string column = "\"" + std::string(kContextFields[i].name) + "\"";
    const std::string param = "$" + std::to_string(i + 1);
    columns += (i ? ", " : "") + column;
    values += (i ? ", " : "") + param;
    match += (i ? " AND " : "") + column + " = " + param;
  }
  // Found if another writer committed it; else inserted under the contexts' lock (a writer
  // that committed it meanwhile: found then).
  auto found = c_.exec(kWhat, "SELECT id FROM contexts WHERE " + match, p);
  if (!found) return found.error();
  if (found->size() != 1) {
    if (auto locked =
            c_.exec(kWhat, "SELECT pg_advisory_xact_lock($1)", pq::Params().add(kContextsLock));
        !locked) {
      return locked.error();
    }
    auto inserted = c_.exec(kWhat,
                            "INSERT INTO contexts (" + columns + ") VALUES (" + values +
                                ") ON CONFLICT DO NOTHING RETURNING id",
                            p);
    if (!inserted) return inserted.error();
    found = inserted->size() == 1 ? std::move(inserted)
                                  : c_.exec(kWhat, "SELECT id FROM contexts WHERE " + match, p);
    if (!found) return found.error();
    if (found->size() != 1) return c_.error(kWhat, "a context row vanished");
  }
  const std::int64_t id = found->int64(0, 0);
  contexts_.emplace(key_, id);
  return id;
}

Status PostgresRecordWriter::draw_ids() {
  std::size_t n = expected_ > added_ ? std::min(expected_ - added_, kBatchRecords) : 0;
  if (n == 0) {
    n = draw_;
    draw_ = std::min(draw_ * 2, kBatchRecords);
  }
  auto drawn = c_.exec(kWhat, "SELECT nextval('step_rows_id_seq') FROM generate_series(1, $1)",
                       pq::Params().add(static_cast<std::int64_t>(n)));
  if (!drawn) return drawn.error();
  if (drawn->size() != static_cast<int>(n)) return c_.error(kWhat, "the sequence gave too few ids");
  ids_ = std::move(*drawn);
  next_id_ = 0;
  return {};
}

Result<std::int64_t> PostgresRecordWriter::next_key() {
  if (step_starts_.size() >= kBatchRecords || (!duplicates_ && next_id_ == ids_.size())) {
    if (Status s = flush(); !s) return s.error();
  }
  if (duplicates_) return static_cast<std::int64_t>(step_starts_.size());
  if (next_id_ == ids_.size()) {
    if (Status s = draw_ids(); !s) return s.error();
  }
  if (!c_.copying()) {
    if (Status s = c_.run(kWhat, "SAVEPOINT perfguard_batch"); !s) return s.error();
    if (Status s = c_.copy_begin(kWhat, std::string("step_rows ") + kStepColumns); !s) {
      return s.error();
    }
  }
  return ids_.int64(next_id_++, 0);
}

Result<bool> PostgresRecordWriter::add(const StepRecord& r) {
  if (committed_) return c_.error(kWhat, "the import was already committed");
  auto [added, fresh] = seen_.try_emplace(RecordKey{r.trace_id, r.root.start_us, r.step});
  if (!fresh) return false;  // twice in this import
  if (last_context_id_ == 0 || r.context != last_context_) {
    auto id = context_id(r.context);
    if (!id) return id.error();
    last_context_ = r.context;
    last_context_id_ = *id;
  }
  auto record_key = next_key();
  if (!record_key) return record_key.error();
  ++added_;
  step_starts_.push_back(step_rows_.size());
  pq::CopyRow row(step_rows_, kStepFields);
  row.int64(*record_key)
      .int64(static_cast<std::int64_t>(r.trace_id))
      .text(r.step)
      .int64(r.root.start_us)
      .int64(r.root.duration.us)
      .int16(static_cast<std::int16_t>(r.status))
      .optional64(r.threshold ? std::optional<std::int64_t>(r.threshold->us) : std::nullopt)
      .int32(r.exit_code)
      .int64(last_context_id_)
      .text(stored_head(r.head_before, heads_[0]))
      .text(stored_head(r.head_after, heads_[1]))
      .int64(r.root.usage.cpu_user_us)
      .int64(r.root.usage.cpu_sys_us)
      .int64(r.root.usage.max_rss_kb);
  if (r.labels.empty()) {
    row.null();
  } else {
    row.encoded(labels_json(r.labels));
  }
  span_starts_.push_back(span_rows_.size());
  int seq = 0;
  append_span_rows(r.root, r.root, std::nullopt, seq, *record_key, span_rows_);
  hours_[{r.step, hour_of(r.root.start_us)}].add(r.status, r.root.duration.us);
  added->second = {batches_, step_starts_.size() - 1};
  if (c_.copying() && step_rows_.size() - sent_ >= kSendBytes) {
    if (Status s = c_.copy_send(kWhat, std::string_view(step_rows_).substr(sent_)); !s) {
      return s.error();
    }
    sent_ = step_rows_.size();
  }
  return true;
}

Status PostgresRecordWriter::copy_spans(
    const std::vector<std::pair<std::size_t, std::int64_t>>& steps) {
  std::string copy;
  for (const auto& [position, id] : steps) {
    const std::size_t end =
        position + 1 < span_starts_.size() ? span_starts_[position + 1] : span_rows_.size();
    for (std::size_t at = span_starts_[position]; at < end;) {
      const std::string_view row = std::string_view(span_rows_).substr(at);
      const std::size_t size = pq::copy_row_size(row);
      pq::CopyRow(copy, kSpanFields)
          .int64(id)
          .fields(row.substr(kRowKeyBytes, size - kRowKeyBytes));
      at += size;
    }
  }
  if (copy.empty()) return {};
  return c_.copy_in(kWhat, kSpanColumns, copy);
}

// The usual way: none of the batch was stored before. Its steps are in the COPY begun by
// next_key(), whose rest goes now, and the spans follow under the same ids. False (with
// nothing written) when a record turns out to be stored already.
Result<bool> PostgresRecordWriter::finish_copy() {
  if (Status s = c_.copy_send(kWhat, std::string_view(step_rows_).substr(sent_)); !s) {
    return s.error();
  }
  sent_ = step_rows_.size();
  if (Status copied = c_.copy_end(kWhat); !copied) {
    if (c_.last_sqlstate() != "23505") return copied.error();
    if (Status s = c_.run(kWhat, "ROLLBACK TO SAVEPOINT perfguard_batch"); !s) return s.error();
    return false;
  }
  if (!span_rows_.empty()) {
    if (Status s = c_.copy_in(kWhat, kSpanColumns, span_rows_); !s) return s.error();
  }
  if (Status s = c_.run(kWhat, "RELEASE SAVEPOINT perfguard_batch"); !s) return s.error();
  stored_ += static_cast<std::int64_t>(step_starts_.size());
  return true;
}

// The way for a batch that holds records stored already (shipped twice, or by another
// connection at the same moment): through a temporary table and INSERT … ON CONFLICT DO
// NOTHING, in the order they were added (their keys ascend), then the spans of the steps that
// were new.
Status PostgresRecordWriter::insert_batch() {
  // The temporary table is made only by an import that meets such a batch: one made and
  // dropped by every import would leave the catalog dead rows each time.
  if (!import_table_) {
    if (Status s = c_.run(kWhat,
                          "CREATE TEMPORARY TABLE import_steps (seq BIGINT, trace_id BIGINT,"
                          " step TEXT COLLATE \"C\", started_us BIGINT, duration_us BIGINT,"
                          " status SMALLINT, threshold_us BIGINT, exit_code INTEGER,"
                          " context_id BIGINT, head_before TEXT, head_after TEXT,"
                          " cpu_user_us BIGINT, cpu_sys_us BIGINT, max_rss_kb BIGINT,"
                          " labels TEXT) ON COMMIT DROP");
        !s) {
      return s;
    }
    import_table_ = true;
  }
  if (Status s = c_.copy_in(kWhat, "import_steps", step_rows_); !s) return s;
  auto inserted = c_.exec(kWhat,
                          "INSERT INTO step_rows (trace_id, step, started_us, duration_us,"
                          " status, threshold_us, exit_code, context_id, head_before, head_after,"
                          " cpu_user_us, cpu_sys_us, max_rss_kb, labels)"
                          " SELECT trace_id, step, started_us, duration_us, status, threshold_us,"
                          " exit_code, context_id, head_before, head_after, cpu_user_us,"
                          " cpu_sys_us, max_rss_kb, labels FROM import_steps ORDER BY seq"
                          " ON CONFLICT DO NOTHING RETURNING id, trace_id, started_us, step");
  if (!inserted) return inserted.error();
  std::vector<std::pair<std::size_t, std::int64_t>> steps;
  for (int i = 0; i < inserted->size(); ++i) {
    RecordKey key{static_cast<std::uint64_t>(inserted->int64(i, 1)), inserted->int64(i, 2),
                  std::string(inserted->text(i, 3))};
    auto it = seen_.find(key);
    if (it == seen_.end() || it->second.batch != batches_) {
      return c_.error(kWhat, "a stored step matches no record added");
    }
    steps.emplace_back(it->second.position, inserted->int64(i, 0));
  }
  stored_ += inserted->size();
  if (Status s = copy_spans(steps); !s) return s;
  return c_.run(kWhat, "TRUNCATE import_steps");
}

Status PostgresRecordWriter::flush() {
  if (step_starts_.empty()) return {};
  bool copied = false;
  if (c_.copying()) {
    auto fresh = finish_copy();
    if (!fresh) return fresh.error();
    copied = *fresh;
    duplicates_ = !copied;  // the rest of this import likely holds more
  }
  if (!copied) {
    if (Status s = insert_batch(); !s) return s;
  }
  step_rows_.clear();
  step_starts_.clear();
  sent_ = 0;
  span_rows_.clear();
  span_starts_.clear();
  ++batches_;
  store_.tick();
  return {};
}

}  // namespace

Result<std::unique_ptr<RecordWriter>> PostgresStore::begin_import(std::size_t expected,
                                                                  ImportLane lane) {
  auto writer = std::make_unique<PostgresRecordWriter>(*this, expected);
  if (Status begun = writer->begin(lane); !begun) return begun.error();
  return std::unique_ptr<RecordWriter>(std::move(writer));
}

Result<bool> PostgresStore::claim_lanes() {
  auto claimed = connection_->exec("cannot claim the lanes of a ship",
                                   "SELECT pg_try_advisory_lock($1)", pq::Params().add(kLanesLock));
  if (!claimed) return claimed.error();
  return claimed->boolean(0, 0);
}

Status PostgresStore::release_lanes() {
  auto released = connection_->exec("cannot release the lanes of a ship",
                                    "SELECT pg_advisory_unlock($1)", pq::Params().add(kLanesLock));
  if (!released) return released.error();
  return {};
}

Status PostgresStore::record_snapshot(const SnapshotRow& row) {
  auto inserted = insert_snapshot(*connection_, row, /*replace=*/true);
  if (!inserted) return inserted.error();
  return {};
}

}  // namespace perfguard
