#pragma once
// The PostgreSQL engine: the shared store, one database that many clones write to at once
// through many connections. Its modules: libpq.h (libpq, loaded on the first connection),
// pq.h (the libpq wrapper), open.cpp (connecting, creating and migrating the schema, refusing
// a newer one), write.cpp (appending records in bulk), rollups.cpp (the hourly rollups),
// read_steps.cpp (reading steps back whole), step_reads.cpp (the statistics' reads),
// baselines.cpp, snapshots.cpp (snapshots, the git version cache, prune), alerts.cpp and
// outbox.cpp (the alert operations).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/engine.h"
#include "store/postgres/pq.h"

namespace perfguard {

class PostgresStore final : public StoreEngine {
 public:
  // Connects with options.shared and creates or checks the schema (open.cpp).
  static Result<std::unique_ptr<PostgresStore>> open(const StoreOptions& options);

  explicit PostgresStore(std::unique_ptr<pq::Connection> connection);
  ~PostgresStore() override;

  Result<std::unique_ptr<RecordWriter>> begin_import(std::size_t expected,
                                                     ImportLane lane) override;
  Result<bool> claim_lanes() override;
  Status release_lanes() override;
  Status record_snapshot(const SnapshotRow& row) override;
  Status forget_snapshots(const std::vector<std::string>& ids, std::int64_t now_us) override;
  Result<std::vector<StoredSnapshot>> stored_snapshots() override;
  std::optional<std::string> cached_git_version(const std::string& key) override;
  Status cache_git_version(const std::string& key, const std::string& version) override;
  Result<PruneCounts> prune_steps(std::int64_t before_us, bool dry_run) override;
  void while_working(std::function<void()> tick) override;

  Status for_each_step(const StepQuery& query,
                       const std::function<Status(StepRecord&)>& visit) override;
  Status for_each_newest_step(std::int64_t since_us,
                              const std::function<Status(StepRecord&)>& visit) override;
  Result<std::vector<StepHour>> step_hours(const std::string& step, std::int64_t since_us) override;
  Status for_each_sample(const std::string& step, std::int64_t since_us, bool with_context,
                         const RunFilter& where_ran,
                         const std::function<void(const StepSample&)>& visit) override;
  Status for_each_child_span(const std::string& step, std::int64_t since_us,
                             const std::function<void(const ChildSpanSample&)>& visit) override;
  Result<std::vector<SlowStep>> slowest_steps(std::int64_t since_us, int limit,
                                              const std::string& step, int max_children) override;
  Status catch_up() override;

  Result<std::vector<Baseline>> active_baselines(const std::string& step) override;
  Status update_baselines(const std::function<Status(BaselineUpdate&)>& update) override;

  Result<std::vector<RecentRun>> recent_runs(const RunQuery& query) override;
  Result<std::vector<HeadVerdict>> head_verdicts(const std::string& repo) override;
  Result<std::vector<AlertChange>> apply_findings(const std::vector<AlertFinding>& findings,
                                                  const AlertApplyOptions& options) override;
  Result<std::vector<Alert>> alerts(const AlertQuery& query) override;
  Result<std::int64_t> count_alerts(const AlertQuery& query) override;
  Result<std::optional<Alert>> alert(std::int64_t id) override;
  Result<std::vector<AlertEvent>> alert_events(std::int64_t id) override;
  Result<std::vector<AlertRun>> alert_runs(std::int64_t id) override;
  Result<std::vector<AlertChange>> transition(const std::vector<std::int64_t>& ids,
                                              const AlertTransition& transition) override;
  Result<std::vector<PendingNotification>> claim_notifications(std::int64_t now_us,
                                                               std::int64_t lease_us, int limit,
                                                               bool ignore_backoff) override;
  Status finish_notification(std::int64_t id, const NotificationResult& result,
                             std::int64_t now_us) override;
  Result<std::int64_t> pending_notifications(std::int64_t now_us) override;
  Status record_health(const std::string& repo, std::int64_t measured_us,
                       const std::vector<HealthFigureRow>& figures) override;

  int schema_version() override;

  pq::Connection& connection() { return *connection_; }
  const std::string& name() const { return connection_->name(); }
  // while_working's tick, if any: called between the batches of long reads.
  void tick() const {
    if (tick_) tick_();
  }
  // The ids of the contexts committed by this connection's writers or found by them, by their
  // fields joined (write.cpp). A context row is never changed or deleted once committed.
  std::unordered_map<std::string, std::int64_t>& known_contexts() { return contexts_; }
  // The contexts `filter` matches (read_steps.cpp); every one, unread, when it is empty.
  Result<ContextSelection> contexts_matching(const RunFilter& filter);

 private:
  std::unique_ptr<pq::Connection> connection_;
  std::function<void()> tick_;
  std::unordered_map<std::string, std::int64_t> contexts_;
  // Whether any hour was marked stale, as read with the schema version on opening: the first
  // catch_up's answer, without a round trip of its own (open.cpp, snapshots.cpp).
  std::optional<bool> stale_when_opened_;
};

}  // namespace perfguard
