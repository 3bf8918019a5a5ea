#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.h"
#include "core/result.h"
#include "store/alerts.h"
#include "store/baselines.h"
#include "store/shipping.h"
#include "store/step_reads.h"
#include "trace/record.h"
#include "trace/run_filter.h"

namespace perfguard {

class StoreEngine;
class RecordWriter;

// The schema version this build writes. Older files are migrated forward on open; a newer
// file is refused (ExitCode::store) rather than written by a tool that does not know it.
inline constexpr int kSchemaVersion = 8;

struct StoreOptions {
  std::filesystem::path path;
  Duration busy_timeout = Duration::seconds(5);
  bool create = true;  // create the file (0600) and its directory (0700) when missing
  // Read the file through a memory map (SQLite's mmap_size) rather than a system call a page:
  // for the commands that read many pages (statistics over a week of a step with thousands
  // of runs an hour read each hour's rollup from two pages). The recording tools leave it
  // off: mapping costs a little on a short write, and they read few pages.
  bool mapped = false;
  // When set, the shared store instead of the file: a libpq connection string (a URI
  // `postgresql://…` or `postgres://…`, `key=value` pairs, or `service=NAME`). Opened only by
  // programs that enabled it (store/postgres/postgres_store.h); `create` makes the schema in
  // an empty database.
  std::string shared;
};

// Whether a --db value names the shared store (a postgresql:// or postgres:// URI) rather than
// a file.
bool names_shared_store(std::string_view db);

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

// A snapshot the store knows of, by id: from its row in the snapshots table, from the
// "snapshot" label of a step that took it (a rollback, an undo), or both.
struct StoredSnapshot {
  std::string id;
  std::string commit;  // the row's; empty when there is no row
  bool row = false;
  std::int64_t labelled_steps = 0;  // steps whose "snapshot" label names it
};

// Which recorded steps to read (Store::for_each_step): in the order they started; of steps
// started at the same instant, by trace id (unsigned), then step, so that every engine and
// every store holding the same records reads them in one order, whatever their row ids.
struct StepQuery {
  std::string step;                       // empty: every step
  std::optional<std::int64_t> since_us;   // started at or after (Unix µs)
  std::optional<std::int64_t> before_us;  // started before
  bool newest_first = false;              // else oldest first
  int limit = 0;                          // 0: no limit
  // Only runs whose context it matches (empty: every run). The engine asks it of each context
  // it holds, once, and reads only the steps of those that match.
  RunFilter where_ran;
};

// What Store::prune_steps removed (or, dry run, would remove).
struct PruneCounts {
  std::int64_t steps = 0;
  std::int64_t spans = 0;  // child spans of those steps
};

// How an import stands with the store's other writers of records.
enum class ImportLane {
  // One writer of records at a time, as the store orders them (its write lock).
  alone,
  // Beside the other lanes of one ship, whose store claimed them (Store::claim_lanes): the
  // caller sends each record through one lane only. Writers that are alone wait for the lanes'
  // open transactions, and the lanes for theirs.
  beside_others,
};

// Many records appended in one transaction (perf-baseline import, and Store::record).
// Nothing is visible to other processes before commit(); destroying it uncommitted rolls
// everything back. Holds the store's write lock until then.
class StepImport {
 public:
  StepImport(StepImport&&) noexcept;
  StepImport& operator=(StepImport&&) noexcept;
  ~StepImport();

  // Appends the record; false when it is already stored (the same trace id, step and start
  // time), which makes importing the same data twice add nothing. An engine that writes in
  // bulk may return true for a record it finds stored only later: stored() says, after
  // commit(), how many were new.
  Result<bool> add(const StepRecord& record);
  // Adds a snapshot's row; false when a row with its id is stored already (left as it is).
  Result<bool> add_snapshot(const SnapshotRow& row);
  Status commit(const std::function<Status()>& before_commit = {});
  // After commit(): how many of the records added were new (not stored before).
  std::int64_t stored() const;

 private:
  friend class Store;
  explicit StepImport(std::unique_ptr<RecordWriter> writer);
  std::unique_ptr<RecordWriter> writer_;
};

// The store every tool shares: the recorded steps, their rollups, snapshots and baselines.
// One engine holds them (store/engine.h); by default the SQLite file of the repository
// (store/sqlite/: WAL, synchronous=NORMAL, a busy timeout, BEGIN IMMEDIATE for writes).
// Every failure is an Error with ExitCode::store whose message names the store and the
// cause.
class Store {
 public:
  static Result<Store> open(const StoreOptions& options);
  // A store over an engine that is open already (Store::open makes them). `name` is what
  // messages call it; the path when empty.
  Store(std::unique_ptr<StoreEngine> engine, std::filesystem::path path, std::string name = {});

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  // Appends the records (root span, child spans, context), and the row of the snapshot taken
  // before them if any, in one transaction.
  Status record(const std::vector<StepRecord>& records,
                const std::optional<SnapshotRow>& snapshot = std::nullopt);

  // The same, and in the same transaction, once the records are readable: `evaluate` (which
  // may read the store), if any, and the findings it returns applied to the alerts. An alert
  // exists the moment the record does, or neither does. `ready`, if any, is called once the
  // write lock is held, before `records` are read: what is left is the write itself, and the
  // caller may still change them (perf-recover ends its `record` span there).
  Result<std::vector<AlertChange>> record(
      const std::vector<StepRecord>& records, const std::optional<SnapshotRow>& snapshot,
      const std::function<Result<std::vector<AlertFinding>>()>& evaluate,
      const AlertApplyOptions& options, const std::function<void()>& ready = {});

  Status record_snapshot(const SnapshotRow& row);
  // Snapshots deleted on purpose (perf-recover prune): their rows go, and the store no longer
  // counts them among those it knows of, though the steps that took them still name them.
  Status forget_snapshots(const std::vector<std::string>& ids, std::int64_t now_us);
  // Every snapshot the store knows of, by id (perf-recover verify holds them against the
  // refs).
  Result<std::vector<StoredSnapshot>> stored_snapshots();

  // The git version cached for a git binary (keyed by its path, size and mtime), so the hot
  // path need not start `git --version` on every run.
  std::optional<std::string> cached_git_version(const std::string& key);
  Status cache_git_version(const std::string& key, const std::string& version);

  // Reads back recorded steps, newest first (for tests and the tools' queries).
  Result<std::vector<StepRecord>> recent_steps(int limit, const std::string& step = "");

  // Calls `visit` with each step the query matches (spans, labels and context filled in),
  // one at a time from one read transaction, so any number of steps can be streamed.
  // Stops at the first error `visit` returns and returns it.
  Status for_each_step(const StepQuery& query, const std::function<Status(StepRecord&)>& visit);
  // The newest step (`newer`: the later start, then the greater trace id) of each name in
  // each repository and branch, of those started at or after `since_us`, whole, in no set
  // order: what an alert scan judges. Reads a few of the newest hours' rows, not the window.
  Status for_each_newest_step(std::int64_t since_us,
                              const std::function<Status(StepRecord&)>& visit);

  // Starts a bulk append; see StepImport. `expected`: how many records will be added, when
  // the caller knows (0 when not): an engine that writes in bulk prepares for that many.
  Result<StepImport> begin_import(std::size_t expected = 0, ImportLane lane = ImportLane::alone);
  // Claims, for this store's connection, that imports on several connections to the store may
  // run at once as the lanes of one ship (ImportLane::beside_others). False when the engine
  // has one writer at a time (SQLite's file), or another ship holds the claim (its records
  // could be the same as this one's, and two writers adding the same record at once can each
  // wait for the other). Held until release_lanes() or the store closes.
  Result<bool> claim_lanes();
  Status release_lanes();

  // The hours of `step` (of every step when empty), ordered by step then hour, holding
  // exactly the steps started at or after `since_us`.
  Result<std::vector<StepHour>> step_hours(const std::string& step, std::int64_t since_us);
  // The steps of `step` (every step when empty) started at or after `since_us`.
  Result<std::vector<StepSample>> step_samples(const std::string& step, std::int64_t since_us,
                                               bool with_context = false);
  // The same, one at a time from one read transaction, however many there are: memory stays
  // flat. `visit` may keep nothing of a sample past its return. With `where_ran`, only the
  // runs whose context it matches.
  Status for_each_sample(const std::string& step, std::int64_t since_us, bool with_context,
                         const std::function<void(const StepSample&)>& visit,
                         const RunFilter& where_ran = {});
  // The direct child spans of the steps (of `step`, or all) started at or after `since_us`,
  // one at a time from one read transaction, a step's in their order (no grandchildren).
  // `visit` may keep nothing of a span past its return.
  Status for_each_child_span(const std::string& step, std::int64_t since_us,
                             const std::function<void(const ChildSpanSample&)>& visit);
  // The `limit` slowest steps (of `step`, or all) started at or after `since_us`, slowest
  // first; each with at most `max_children` child spans.
  Result<std::vector<SlowStep>> slowest_steps(std::int64_t since_us, int limit,
                                              const std::string& step = "", int max_children = 3);
  // Rolls up the steps that were added without Store::record (plain SQL), and rebuilds the
  // hours a deletion or change made stale, if any. A cheap check when there is nothing to
  // do; writes otherwise.
  Status catch_up_rollups();

  // The active baselines (of one step, or all), ordered by step, scope, repo, branch.
  Result<std::vector<Baseline>> active_baselines(const std::string& step = "");
  // Runs `update` inside one write transaction: everything it activates is stored, or
  // (when it or the commit fails) nothing.
  Status update_baselines(const std::function<Status(BaselineUpdate&)>& update);

  // Deletes the steps that started before `before_us`, with their child spans, in one
  // transaction; with `dry_run` only counts them. Snapshots, baselines and alerts stay.
  Result<PruneCounts> prune_steps(std::int64_t before_us, bool dry_run);

  // Alerts: the runs the rules read, what they found, people's transitions, the outbox and
  // the health figures (see StoreEngine and store/alerts.h).
  Result<std::vector<RecentRun>> recent_runs(const RunQuery& query);
  // The commits this repository's newest steps left HEAD at, and what those steps say of
  // each (perf-recover's last known good commit).
  Result<std::vector<HeadVerdict>> head_verdicts(const std::string& repo);
  Result<std::vector<AlertChange>> apply_findings(const std::vector<AlertFinding>& findings,
                                                  const AlertApplyOptions& options);
  Result<std::vector<Alert>> alerts(const AlertQuery& query);
  Result<std::int64_t> count_alerts(const AlertQuery& query);
  Result<std::optional<Alert>> alert(std::int64_t id);
  Result<std::vector<AlertEvent>> alert_events(std::int64_t id);
  Result<std::vector<AlertRun>> alert_runs(std::int64_t id);
  Result<std::vector<AlertChange>> transition(const std::vector<std::int64_t>& ids,
                                              const AlertTransition& transition);
  Result<std::vector<PendingNotification>> claim_notifications(std::int64_t now_us,
                                                               std::int64_t lease_us, int limit,
                                                               bool ignore_backoff);
  Status finish_notification(std::int64_t id, const NotificationResult& result,
                             std::int64_t now_us);
  Result<std::int64_t> pending_notifications(std::int64_t now_us);
  Status record_health(const std::string& repo, std::int64_t measured_us,
                       const std::vector<HealthFigureRow>& figures);

  // Shipping to a shared store (lib/sync), as StoreEngine says: the steps after an id, in id
  // order, each with its id; how many there are; and what the store keeps of its ships.
  Status for_each_step_after(std::int64_t after_id, int limit,
                             const std::function<Status(std::int64_t, StepRecord&)>& visit);
  Result<std::int64_t> count_steps_after(std::int64_t after_id);
  Result<ShippingState> shipping_state();
  Status save_shipped(const std::string& target, const ShippedMark& mark);
  Status record_ship_outcome(std::int64_t at_us, std::int64_t shipped,
                             const std::optional<ShipFailure>& failure);
  Result<std::optional<ShipFailure>> claim_ship_failure();

  // Calls `tick` every so often while a statement runs (a prune, a long read), on the thread
  // that runs it, so that a progress line keeps moving; an empty function stops the calls.
  void while_working(std::function<void()> tick);

  int schema_version() const;
  // The file's path; empty for the shared store.
  const std::filesystem::path& path() const { return path_; }
  // What messages call the store: the file's path, or the shared store's connection as a
  // URI without its password (postgresql://writer@/perf?host=/run/pg).
  std::string name() const { return name_.empty() ? path_.string() : name_; }
  StoreEngine& engine() const { return *engine_; }

 private:
  std::unique_ptr<StoreEngine> engine_;
  std::filesystem::path path_;
  std::string name_;
};

}  // namespace perfguard
