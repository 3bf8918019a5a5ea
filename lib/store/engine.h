#pragma once
// What a store engine implements: every operation a tool asks of the store, with typed inputs
// and outputs and no SQL. Store (store.h) is the handle the tools hold; it forwards to one
// engine, chosen when the store is opened, so that a tool never knows which engine it talks
// to. The SQLite engine (store/sqlite/) is the default; another engine implements this
// interface and is chosen in Store::open.
//
// Every failure is an Error with ExitCode::store whose message names the store and the cause.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/shipping.h"
#include "store/store.h"

namespace perfguard {

// Records appended in one transaction (StepImport says how it behaves).
class RecordWriter {
 public:
  virtual ~RecordWriter() = default;
  // False when the record is stored already (the same trace id, step and start time). A
  // writer that buffers may return true ("queued") for a record it finds stored at a flush.
  virtual Result<bool> add(const StepRecord& record) = 0;
  // False when a snapshot row with its id is stored already (left as it is).
  virtual Result<bool> add_snapshot(const SnapshotRow& row) = 0;
  // Commits; `before_commit`, if given, runs first inside the transaction, when every record
  // added is readable through the engine's reads (rollups included), and its failure rolls
  // everything back.
  virtual Status commit(const std::function<Status()>& before_commit = {}) = 0;
  // After commit: how many records were new (for a writer that knows at once, the number of
  // add() calls that returned true).
  virtual std::int64_t stored() const = 0;
};

// What a RunFilter (StepQuery::where_ran) leaves of the contexts a store holds.
struct ContextSelection {
  bool every = true;              // no condition on the context
  std::vector<std::int64_t> ids;  // else these

  bool none() const { return !every && ids.empty(); }  // nothing to read
  // " AND column IN (1,5,9)", or "" for every context.
  std::string condition(std::string_view column) const;
};
// Of `contexts` (each with its id), those `filter` matches: RunFilter::matches decides, above
// the SQL, so that every engine keeps the same runs.
ContextSelection select_contexts(const RunFilter& filter,
                                 const std::vector<std::pair<std::int64_t, RunContext>>& contexts);

// A shared store's engine as its opener returns it, with the name messages call it by.
struct OpenedEngine {
  std::unique_ptr<StoreEngine> engine;
  std::string name;
};
using SharedStoreOpener = Result<OpenedEngine> (*)(const StoreOptions& options);
// Lets Store::open open StoreOptions::shared with `opener` (enable_postgres_store does it).
void register_shared_store(SharedStoreOpener opener);

class StoreEngine {
 public:
  virtual ~StoreEngine() = default;

  // Writing.
  // `expected`: how many records the caller means to add, when it knows (0 when not).
  virtual Result<std::unique_ptr<RecordWriter>> begin_import(std::size_t expected,
                                                             ImportLane lane) = 0;
  // Store::claim_lanes and release_lanes: an engine with one writer at a time has no lanes.
  virtual Result<bool> claim_lanes() { return false; }
  virtual Status release_lanes() { return {}; }
  virtual Status record_snapshot(const SnapshotRow& row) = 0;
  virtual Status forget_snapshots(const std::vector<std::string>& ids, std::int64_t now_us) = 0;
  // Ordered by id.
  virtual Result<std::vector<StoredSnapshot>> stored_snapshots() = 0;
  virtual std::optional<std::string> cached_git_version(const std::string& key) = 0;
  virtual Status cache_git_version(const std::string& key, const std::string& version) = 0;
  virtual Result<PruneCounts> prune_steps(std::int64_t before_us, bool dry_run) = 0;
  // Store::while_working: `tick` called now and then while a statement runs.
  virtual void while_working(std::function<void()> tick) = 0;

  // Reading recorded steps.
  virtual Status for_each_step(const StepQuery& query,
                               const std::function<Status(StepRecord&)>& visit) = 0;
  // Store::for_each_newest_step.
  virtual Status for_each_newest_step(std::int64_t since_us,
                                      const std::function<Status(StepRecord&)>& visit) = 0;
  virtual Result<std::vector<StepHour>> step_hours(const std::string& step,
                                                   std::int64_t since_us) = 0;
  // One sample at a time from one read transaction, in the order they were recorded (for
  // long stretches, a context at a time).
  // Only the samples of runs whose context `where_ran` matches (empty: every run).
  virtual Status for_each_sample(const std::string& step, std::int64_t since_us, bool with_context,
                                 const RunFilter& where_ran,
                                 const std::function<void(const StepSample&)>& visit) = 0;
  // The direct child spans of the steps (of `step`, or all) started at or after `since_us`,
  // one at a time from one read transaction, a step's in their order.
  virtual Status for_each_child_span(const std::string& step, std::int64_t since_us,
                                     const std::function<void(const ChildSpanSample&)>& visit) = 0;
  virtual Result<std::vector<SlowStep>> slowest_steps(std::int64_t since_us, int limit,
                                                      const std::string& step,
                                                      int max_children) = 0;
  // Brings derived data (rollups) up to date with steps added by other means; a cheap
  // check when there is nothing to do.
  virtual Status catch_up() = 0;

  // Baselines.
  virtual Result<std::vector<Baseline>> active_baselines(const std::string& step) = 0;
  virtual Status update_baselines(const std::function<Status(BaselineUpdate&)>& update) = 0;

  // Alerts (store/alerts.h). Inside a RecordWriter's before_commit they join its transaction.
  virtual Result<std::vector<RecentRun>> recent_runs(const RunQuery& query) = 0;
  virtual Result<std::vector<HeadVerdict>> head_verdicts(const std::string& repo) = 0;
  virtual Result<std::vector<AlertChange>> apply_findings(const std::vector<AlertFinding>& findings,
                                                          const AlertApplyOptions& options) = 0;
  virtual Result<std::vector<Alert>> alerts(const AlertQuery& query) = 0;
  virtual Result<std::int64_t> count_alerts(const AlertQuery& query) = 0;  // limit aside
  virtual Result<std::optional<Alert>> alert(std::int64_t id) = 0;
  virtual Result<std::vector<AlertEvent>> alert_events(std::int64_t id) = 0;
  virtual Result<std::vector<AlertRun>> alert_runs(std::int64_t id) = 0;
  // All or nothing: an unknown or resolved id is a usage error and changes nothing.
  virtual Result<std::vector<AlertChange>> transition(const std::vector<std::int64_t>& ids,
                                                      const AlertTransition& transition) = 0;

  // The notifications outbox. A claim takes the notifications due at now_us (every pending
  // one with ignore_backoff) that no other sender holds, and holds them for lease_us.
  virtual Result<std::vector<PendingNotification>> claim_notifications(std::int64_t now_us,
                                                                       std::int64_t lease_us,
                                                                       int limit,
                                                                       bool ignore_backoff) = 0;
  virtual Status finish_notification(std::int64_t id, const NotificationResult& result,
                                     std::int64_t now_us) = 0;
  virtual Result<std::int64_t> pending_notifications(std::int64_t now_us) = 0;

  virtual Status record_health(const std::string& repo, std::int64_t measured_us,
                               const std::vector<HealthFigureRow>& figures) = 0;

  virtual int schema_version() = 0;

  // Shipping to a shared store (store/shipping.h, lib/sync): reads by id, and what the local
  // store keeps of its ships. Only an engine that serves as a local store implements them.
  //
  // The steps with an id above `after_id`, in id order, at most `limit` (0: all), each with its
  // id, from one read transaction.
  virtual Status for_each_step_after(std::int64_t after_id, int limit,
                                     const std::function<Status(std::int64_t, StepRecord&)>&) {
    (void)after_id, (void)limit;
    return not_supported("cannot read the steps by id");
  }
  virtual Result<std::int64_t> count_steps_after(std::int64_t after_id) {
    (void)after_id;
    return not_supported("cannot count the steps by id");
  }
  virtual Result<ShippingState> shipping_state() {
    return not_supported("cannot read the shipping state");
  }
  // After the shared store `target` committed every step up to `mark`.
  virtual Status save_shipped(const std::string& target, const ShippedMark& mark) {
    (void)target, (void)mark;
    return not_supported("cannot keep the shipping state");
  }
  // How a ship ended: without `failure`, a success that read `shipped` records (the failure
  // kept, if any, goes); with one, it is kept, and stays reported when a failure was kept
  // already (the same outage goes on).
  virtual Status record_ship_outcome(std::int64_t at_us, std::int64_t shipped,
                                     const std::optional<ShipFailure>& failure) {
    (void)at_us, (void)shipped, (void)failure;
    return not_supported("cannot keep the shipping state");
  }
  // The failure kept, when no one has reported it yet; marks it reported in the same
  // transaction, so that of two tools at once only one says it.
  virtual Result<std::optional<ShipFailure>> claim_ship_failure() {
    return not_supported("cannot keep the shipping state");
  }

 protected:
  static Error not_supported(const std::string& what) {
    return Error{ExitCode::store, what + ": not supported by this store"};
  }
};

}  // namespace perfguard
