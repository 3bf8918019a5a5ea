// Appending records to the shared store in bulk: records are buffered and written a batch at
// a time, in one transaction. A batch is copied (COPY) straight into step_rows and span_rows
// under a savepoint; when one of its records is stored already (a unique key taken, by this
// or another connection), the batch goes again through a temporary table and
// INSERT … ON CONFLICT DO NOTHING, which skips those records. The hours the records fall in
// are rolled up again before the commit (rollups.h).

#include <string>
#include <unordered_map>
#include <unordered_set>
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
// as it was recorded.
std::string stored_head(const std::string& head) {
  if (head.size() != 40 && head.size() != 64) return head;
  bool lower = true;
  for (char c : head) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) continue;
    if (c < 'A' || c > 'F') return head;  // not an object id
    lower = false;
  }
  if (lower) return head;
  std::string out = head;
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// As the machine formats write labels: each key and value through the text encoding, so the
// JSON is valid UTF-8 without a NUL, and the column (written as it is: pq.h) shows what
// `export --format jsonl` shows. read_steps.cpp decodes each key and value again.
std::string labels_json(const Labels& labels) {
  JsonWriter out(JsonStrings::encoded);
  write_labels(out, labels);
  return out.take();
}

// Appends the COPY lines (without the step id, which is known only once the step is
// inserted) of `parent`'s descendants, depth first, as the SQLite engine numbers them.
void span_lines(const Span& root, const Span& parent, std::optional<int> parent_seq, int& seq,
                std::string& out) {
  for (const Span& child : parent.children) {
    const int my_seq = seq++;
    pq::CopyLine line(out);
    line.int64(my_seq)
        .optional(parent_seq)
        .text(child.name)
        .int64(child.start_us - root.start_us)
        .int64(child.duration.us)
        .optional(child.exit_code)
        .int64(child.usage.cpu_user_us)
        .int64(child.usage.cpu_sys_us)
        .int64(child.usage.max_rss_kb);
    line.end();
    span_lines(root, child, my_seq, seq, out);
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
// own; the schema's and the alerts' locks are 01 and 02).
constexpr std::int64_t kRecordsLock = 0x7066676403;

class PostgresRecordWriter final : public RecordWriter {
 public:
  explicit PostgresRecordWriter(PostgresStore& store)
      : store_(store), c_(store.connection()), tx_(c_) {}

  Status begin() {
    if (Status s = tx_.begin(kWhat); !s) return s;
    // One writer of records at a time, as SQLite's write lock orders them. Two writers adding
    // overlapping records at once each wait for the other's uncommitted entries in the
    // records' unique index, and PostgreSQL ends such a wait by aborting one ("deadlock
    // detected"): a ship that fails for no reason of its own.
    if (auto locked =
            c_.exec(kWhat, "SELECT pg_advisory_xact_lock($1)", pq::Params().add(kRecordsLock));
        !locked) {
      return locked.error();
    }
    // This writer rolls up the hours it adds to itself (the triggers leave them alone).
    return c_.run(kWhat, "SET LOCAL perfguard.rollups = 'kept'");
  }

  Result<bool> add(const StepRecord& r) override;

  Result<bool> add_snapshot(const SnapshotRow& row) override {
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
  Status flush();
  // A batch's two ways into step_rows (flush says when each is taken).
  Result<bool> copy_new_batch();
  Status insert_batch();
  // The batch's step lines, each after `prefix(i)` and a tab.
  template <class Prefix>
  std::string prefixed_lines(Prefix&& prefix) const;
  // COPY of the child spans of the batch's steps, by position, whose ids are known.
  Status copy_spans(const std::vector<std::pair<std::size_t, std::string>>& steps);

  PostgresStore& store_;
  pq::Connection& c_;
  pq::Transaction tx_;
  // Contexts this import inserted or found, by their fields joined: the store knows them
  // once it commits (an insert rolled back is gone).
  std::unordered_map<std::string, std::int64_t> contexts_;
  RunContext last_context_;
  std::int64_t last_context_id_ = 0;
  std::unordered_set<RecordKey, RecordKeyHash> seen_;  // every record of this import
  WrittenHours hours_;  // the records added to each hour, in the order they were added
  // The batch: COPY lines of its steps, and each step's span lines and key by position.
  std::string steps_copy_;
  std::vector<std::size_t> lines_;  // where each step's line starts in steps_copy_
  std::vector<std::string> spans_;
  bool duplicates_ = false;    // a batch of this import held records stored already
  bool import_table_ = false;  // insert_batch's temporary table is made
  std::unordered_map<RecordKey, std::size_t, RecordKeyHash> batch_;
  std::string key_;  // scratch
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
  // Inserted unless there (another writer may insert it at the same moment: then found).
  auto inserted = c_.exec(kWhat,
                          "INSERT INTO contexts (" + columns + ") VALUES (" + values +
                              ") ON CONFLICT DO NOTHING RETURNING id",
                          p);
  if (!inserted) return inserted.error();
  std::int64_t id = 0;
  if (inserted->size() == 1) {
    id = inserted->int64(0, 0);
  } else {
    auto found = c_.exec(kWhat, "SELECT id FROM contexts WHERE " + match, p);
    if (!found) return found.error();
    if (found->size() != 1) return c_.error(kWhat, "a context row vanished");
    id = found->int64(0, 0);
  }
  contexts_.emplace(key_, id);
  return id;
}

Result<bool> PostgresRecordWriter::add(const StepRecord& r) {
  if (committed_) return c_.error(kWhat, "the import was already committed");
  RecordKey key{r.trace_id, r.root.start_us, r.step};
  if (!seen_.insert(key).second) return false;  // twice in this import
  if (last_context_id_ == 0 || r.context != last_context_) {
    auto id = context_id(r.context);
    if (!id) return id.error();
    last_context_ = r.context;
    last_context_id_ = *id;
  }
  lines_.push_back(steps_copy_.size());
  pq::CopyLine line(steps_copy_);
  line.int64(static_cast<std::int64_t>(r.trace_id))
      .text(r.step)
      .int64(r.root.start_us)
      .int64(r.root.duration.us)
      .int64(static_cast<int>(r.status))
      .optional(r.threshold ? std::optional<std::int64_t>(r.threshold->us) : std::nullopt)
      .int64(r.exit_code)
      .int64(last_context_id_)
      .text(stored_head(r.head_before))
      .text(stored_head(r.head_after))
      .int64(r.root.usage.cpu_user_us)
      .int64(r.root.usage.cpu_sys_us)
      .int64(r.root.usage.max_rss_kb);
  if (r.labels.empty()) {
    line.null();
  } else {
    line.encoded(labels_json(r.labels));
  }
  line.end();
  std::string spans;
  int seq = 0;
  span_lines(r.root, r.root, std::nullopt, seq, spans);
  spans_.push_back(std::move(spans));
  hours_[{r.step, hour_of(r.root.start_us)}].add(r.status, r.root.duration.us);
  batch_.emplace(std::move(key), spans_.size() - 1);
  if (spans_.size() >= kBatchRecords) {
    if (Status s = flush(); !s) return s.error();
  }
  return true;
}

template <class Prefix>
std::string PostgresRecordWriter::prefixed_lines(Prefix&& prefix) const {
  std::string out;
  out.reserve(steps_copy_.size() + lines_.size() * 12);
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    const std::size_t end = i + 1 < lines_.size() ? lines_[i + 1] : steps_copy_.size();
    out += prefix(i);
    out += '\t';
    out.append(steps_copy_, lines_[i], end - lines_[i]);
  }
  return out;
}

Status PostgresRecordWriter::copy_spans(
    const std::vector<std::pair<std::size_t, std::string>>& steps) {
  std::string copy;
  for (const auto& [position, id] : steps) {
    const std::string& lines = spans_[position];
    for (std::size_t at = 0; at < lines.size();) {
      std::size_t end = lines.find('\n', at);
      copy += id;
      copy += '\t';
      copy.append(lines, at, end + 1 - at);
      at = end + 1;
    }
  }
  if (copy.empty()) return {};
  return c_.copy_in(kWhat,
                    "COPY span_rows (step_id, seq, parent_seq, name, offset_us, duration_us,"
                    " exit_code, cpu_user_us, cpu_sys_us, max_rss_kb) FROM STDIN",
                    copy);
}

// The usual way: none of the batch is stored yet. Its ids are taken from the sequence, in the
// order the records were added, and the steps and their spans copied straight into their
// tables. False (with nothing written) when a record turns out to be stored already, or the
// ids drawn are not one block.
Result<bool> PostgresRecordWriter::copy_new_batch() {
  // The batch's ids, drawn from the sequence: one block, as every insert into step_rows is a
  // writer's, under the records lock. Were they not one block (a row inserted by other
  // means), the batch goes the other way.
  const auto n = static_cast<std::int64_t>(lines_.size());
  auto drawn = c_.exec(kWhat,
                       "SELECT min(id), max(id) FROM (SELECT nextval('step_rows_id_seq') AS id"
                       " FROM generate_series(1, $1)) AS drawn",
                       pq::Params().add(n));
  if (!drawn) return drawn.error();
  const std::int64_t first = drawn->int64(0, 0);
  if (drawn->int64(0, 1) - first + 1 != n) return false;
  auto id = [&](std::size_t i) { return std::to_string(first + static_cast<std::int64_t>(i)); };
  if (Status s = c_.run(kWhat, "SAVEPOINT perfguard_batch"); !s) return s.error();
  Status copied = c_.copy_in(kWhat,
                             "COPY step_rows (id, trace_id, step, started_us, duration_us, status,"
                             " threshold_us, exit_code, context_id, head_before, head_after,"
                             " cpu_user_us, cpu_sys_us, max_rss_kb, labels) FROM STDIN",
                             prefixed_lines(id));
  if (!copied) {
    if (c_.last_sqlstate() != "23505") return copied.error();
    if (Status s = c_.run(kWhat, "ROLLBACK TO SAVEPOINT perfguard_batch"); !s) return s.error();
    return false;
  }
  std::vector<std::pair<std::size_t, std::string>> steps;
  steps.reserve(lines_.size());
  for (std::size_t i = 0; i < lines_.size(); ++i) steps.emplace_back(i, id(i));
  if (Status s = copy_spans(steps); !s) return s.error();
  if (Status s = c_.run(kWhat, "RELEASE SAVEPOINT perfguard_batch"); !s) return s.error();
  stored_ += static_cast<std::int64_t>(lines_.size());
  return true;
}

// The way for a batch that holds records stored already (shipped twice, or by another
// connection at the same moment): through a temporary table and INSERT … ON CONFLICT DO
// NOTHING, in the order they were added, then the spans of the steps that were new.
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
  if (Status s = c_.copy_in(kWhat, "COPY import_steps FROM STDIN",
                            prefixed_lines([](std::size_t i) { return std::to_string(i); }));
      !s) {
    return s;
  }
  auto inserted = c_.exec(kWhat,
                          "INSERT INTO step_rows (trace_id, step, started_us, duration_us,"
                          " status, threshold_us, exit_code, context_id, head_before, head_after,"
                          " cpu_user_us, cpu_sys_us, max_rss_kb, labels)"
                          " SELECT trace_id, step, started_us, duration_us, status, threshold_us,"
                          " exit_code, context_id, head_before, head_after, cpu_user_us,"
                          " cpu_sys_us, max_rss_kb, labels FROM import_steps ORDER BY seq"
                          " ON CONFLICT DO NOTHING RETURNING id, trace_id, started_us, step");
  if (!inserted) return inserted.error();
  std::vector<std::pair<std::size_t, std::string>> steps;
  for (int i = 0; i < inserted->size(); ++i) {
    RecordKey key{static_cast<std::uint64_t>(inserted->int64(i, 1)), inserted->int64(i, 2),
                  std::string(inserted->text(i, 3))};
    auto it = batch_.find(key);
    if (it == batch_.end()) return c_.error(kWhat, "a stored step matches no record added");
    steps.emplace_back(it->second, std::string(inserted->text(i, 0)));
  }
  stored_ += inserted->size();
  if (Status s = copy_spans(steps); !s) return s;
  return c_.run(kWhat, "TRUNCATE import_steps");
}

Status PostgresRecordWriter::flush() {
  if (lines_.empty()) return {};
  bool copied = false;
  if (!duplicates_) {
    auto fresh = copy_new_batch();
    if (!fresh) return fresh.error();
    copied = *fresh;
    duplicates_ = !copied;  // the rest of this import likely holds more
  }
  if (!copied) {
    if (Status s = insert_batch(); !s) return s;
  }
  steps_copy_.clear();
  lines_.clear();
  spans_.clear();
  batch_.clear();
  store_.tick();
  return {};
}

}  // namespace

Result<std::unique_ptr<RecordWriter>> PostgresStore::begin_import() {
  auto writer = std::make_unique<PostgresRecordWriter>(*this);
  if (Status begun = writer->begin(); !begun) return begun.error();
  return std::unique_ptr<RecordWriter>(std::move(writer));
}

Status PostgresStore::record_snapshot(const SnapshotRow& row) {
  auto inserted = insert_snapshot(*connection_, row, /*replace=*/true);
  if (!inserted) return inserted.error();
  return {};
}

}  // namespace perfguard
