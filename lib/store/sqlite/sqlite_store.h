#pragma once
// The SQLite engine: one file per repository that every tool opens for one short run. Its
// modules: open.cpp (checking, creating and migrating the file), write.cpp (appending
// records), read_steps.cpp (reading them back whole), rollups.cpp (the hourly rollups and
// the id ranges reads go through), step_reads.cpp (the statistics' reads), baselines.cpp,
// prune.cpp, alerts.cpp, outbox.cpp, recent_runs.cpp (what the alert rules read), shipping.cpp
// (what the store keeps of its ships to a shared store), writer_queue.cpp (the writers' turns),
// and this class's own small operations (sqlite_store.cpp).

#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "store/engine.h"
#include "store/sqlite/sql.h"

namespace perfguard {

// The write-ahead log as the last commit left it (sqlite_store.cpp says why it is kept).
struct WalState {
  int frames = 0;  // pages in the log
};

class SqliteStore final : public StoreEngine {
 public:
  // Opens (creating when options.create and missing) and migrates the store file (open.cpp).
  static Result<std::unique_ptr<SqliteStore>> open(const StoreOptions& options);

  SqliteStore(sqlite3* db, std::filesystem::path path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<std::unique_ptr<RecordWriter>> begin_import(std::size_t expected,
                                                     ImportLane lane) override;
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

  // shipping.cpp
  Status for_each_step_after(
      std::int64_t after_id, int limit,
      const std::function<Status(std::int64_t, StepRecord&)>& visit) override;
  Result<std::int64_t> count_steps_after(std::int64_t after_id) override;
  Result<ShippingState> shipping_state() override;
  Status save_shipped(const std::string& target, const ShippedMark& mark) override;
  Status record_ship_outcome(std::int64_t at_us, std::int64_t shipped,
                             const std::optional<ShipFailure>& failure) override;
  Result<std::optional<ShipFailure>> claim_ship_failure() override;

  sqlite3* db() const { return db_; }
  const std::filesystem::path& path() const { return path_; }
  // Where the connection's writers wait for their turn; set by open(), with the busy timeout.
  const WriterQueue& writers() const { return writers_; }
  void set_writers(WriterQueue writers);

  // After a commit: folds the write-ahead log back into the file when it has grown, or
  // after a bulk write (at least kBulkRecords records, or a prune of as many steps).
  void fold_log(bool bulk);
  static constexpr std::int64_t kBulkRecords = 1000;

  // The contexts `filter` matches (read_steps.cpp); every one, unread, when it is empty.
  Result<ContextSelection> contexts_matching(const RunFilter& filter);

 private:
  // What recent_runs runs, kept for the next call (sql::Reused): the alert rules read the
  // recent runs of a step or two for every record.
  struct RecentRunStatements {
    sql::Statement name, contexts, hours, rows;
  };

  sqlite3* db_;
  std::filesystem::path path_;
  WalState wal_;
  WriterQueue writers_;
  std::function<void()> tick_;  // while_working's
  RecentRunStatements recent_run_statements_;
};

}  // namespace perfguard
