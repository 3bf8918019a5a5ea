#include "store/store.h"

#include <utility>

#include "store/engine.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

namespace {

// The shared store's opener, when the program linked and enabled one.
SharedStoreOpener shared_store_opener = nullptr;

}  // namespace

void register_shared_store(SharedStoreOpener opener) {
  shared_store_opener = opener;
}

bool names_shared_store(std::string_view db) {
  return db.starts_with("postgresql://") || db.starts_with("postgres://");
}

Result<Store> Store::open(const StoreOptions& options) {
  if (!options.shared.empty()) {
    if (!shared_store_opener) {
      return Error{ExitCode::store, "this program does not open the shared store"};
    }
    auto opened = shared_store_opener(options);
    if (!opened) return opened.error();
    return Store(std::move(opened->engine), {}, std::move(opened->name));
  }
  auto engine = SqliteStore::open(options);
  if (!engine) return engine.error();
  return Store(std::move(*engine), options.path);
}

Store::Store(std::unique_ptr<StoreEngine> engine, std::filesystem::path path, std::string name)
    : engine_(std::move(engine)), path_(std::move(path)), name_(std::move(name)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

Status Store::record(const std::vector<StepRecord>& records,
                     const std::optional<SnapshotRow>& snapshot) {
  auto recorded = record(records, snapshot, nullptr, {});
  if (!recorded) return recorded.error();
  return {};
}

Result<std::vector<AlertChange>> Store::record(
    const std::vector<StepRecord>& records, const std::optional<SnapshotRow>& snapshot,
    const std::function<Result<std::vector<AlertFinding>>()>& evaluate,
    const AlertApplyOptions& options, const std::function<void()>& ready) {
  std::vector<AlertChange> changes;
  if (records.empty() && !snapshot) return changes;
  auto import = begin_import(records.size());
  if (!import) return import.error();
  if (ready) ready();
  for (const StepRecord& r : records) {
    if (auto added = import->add(r); !added) return added.error();
  }
  if (snapshot) {
    if (auto added = import->add_snapshot(*snapshot); !added) return added.error();
  }
  if (!evaluate) {
    if (auto committed = import->commit(); !committed) return committed.error();
    return changes;
  }
  auto status = import->commit([&]() -> Status {
    auto findings = evaluate();
    if (!findings) return findings.error();
    auto applied = engine_->apply_findings(*findings, options);
    if (!applied) return applied.error();
    changes = std::move(*applied);
    return {};
  });
  if (!status) return status.error();
  return changes;
}

Status Store::record_snapshot(const SnapshotRow& row) {
  return engine_->record_snapshot(row);
}

Status Store::forget_snapshots(const std::vector<std::string>& ids, std::int64_t now_us) {
  return engine_->forget_snapshots(ids, now_us);
}

Result<std::vector<StoredSnapshot>> Store::stored_snapshots() {
  return engine_->stored_snapshots();
}

std::optional<std::string> Store::cached_git_version(const std::string& key) {
  return engine_->cached_git_version(key);
}

Status Store::cache_git_version(const std::string& key, const std::string& version) {
  return engine_->cache_git_version(key, version);
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
  return engine_->for_each_step(query, visit);
}

Status Store::for_each_newest_step(std::int64_t since_us,
                                   const std::function<Status(StepRecord&)>& visit) {
  return engine_->for_each_newest_step(since_us, visit);
}

Result<StepImport> Store::begin_import(std::size_t expected, ImportLane lane) {
  auto writer = engine_->begin_import(expected, lane);
  if (!writer) return writer.error();
  return StepImport(std::move(*writer));
}

Result<bool> Store::claim_lanes() {
  return engine_->claim_lanes();
}

Status Store::release_lanes() {
  return engine_->release_lanes();
}

Result<std::vector<StepHour>> Store::step_hours(const std::string& step, std::int64_t since_us) {
  return engine_->step_hours(step, since_us);
}

Result<std::vector<StepSample>> Store::step_samples(const std::string& step, std::int64_t since_us,
                                                    bool with_context) {
  std::vector<StepSample> samples;
  Status read = engine_->for_each_sample(step, since_us, with_context, {},
                                         [&](const StepSample& s) { samples.push_back(s); });
  if (!read) return read.error();
  return samples;
}

Status Store::for_each_sample(const std::string& step, std::int64_t since_us, bool with_context,
                              const std::function<void(const StepSample&)>& visit,
                              const RunFilter& where_ran) {
  return engine_->for_each_sample(step, since_us, with_context, where_ran, visit);
}

Status Store::for_each_child_span(const std::string& step, std::int64_t since_us,
                                  const std::function<void(const ChildSpanSample&)>& visit) {
  return engine_->for_each_child_span(step, since_us, visit);
}

Result<std::vector<SlowStep>> Store::slowest_steps(std::int64_t since_us, int limit,
                                                   const std::string& step, int max_children) {
  return engine_->slowest_steps(since_us, limit, step, max_children);
}

Status Store::catch_up_rollups() {
  return engine_->catch_up();
}

Result<std::vector<Baseline>> Store::active_baselines(const std::string& step) {
  return engine_->active_baselines(step);
}

Status Store::update_baselines(const std::function<Status(BaselineUpdate&)>& update) {
  return engine_->update_baselines(update);
}

void Store::while_working(std::function<void()> tick) {
  engine_->while_working(std::move(tick));
}

Result<PruneCounts> Store::prune_steps(std::int64_t before_us, bool dry_run) {
  return engine_->prune_steps(before_us, dry_run);
}

const char* to_string(AlertChange::Kind kind) {
  constexpr const char* kNames[] = {"opened",       "bumped",  "escalated", "resolved",
                                    "acknowledged", "snoozed", "reopened"};
  return kNames[static_cast<int>(kind)];
}

Result<std::vector<RecentRun>> Store::recent_runs(const RunQuery& query) {
  return engine_->recent_runs(query);
}

Result<std::vector<HeadVerdict>> Store::head_verdicts(const std::string& repo) {
  return engine_->head_verdicts(repo);
}
Result<std::vector<AlertChange>> Store::apply_findings(const std::vector<AlertFinding>& findings,
                                                       const AlertApplyOptions& options) {
  return engine_->apply_findings(findings, options);
}
Result<std::vector<Alert>> Store::alerts(const AlertQuery& query) {
  return engine_->alerts(query);
}
Result<std::int64_t> Store::count_alerts(const AlertQuery& query) {
  return engine_->count_alerts(query);
}
Result<std::optional<Alert>> Store::alert(std::int64_t id) {
  return engine_->alert(id);
}
Result<std::vector<AlertEvent>> Store::alert_events(std::int64_t id) {
  return engine_->alert_events(id);
}
Result<std::vector<AlertRun>> Store::alert_runs(std::int64_t id) {
  return engine_->alert_runs(id);
}
Result<std::vector<AlertChange>> Store::transition(const std::vector<std::int64_t>& ids,
                                                   const AlertTransition& transition) {
  return engine_->transition(ids, transition);
}
Result<std::vector<PendingNotification>> Store::claim_notifications(std::int64_t now_us,
                                                                    std::int64_t lease_us,
                                                                    int limit,
                                                                    bool ignore_backoff) {
  return engine_->claim_notifications(now_us, lease_us, limit, ignore_backoff);
}
Status Store::finish_notification(std::int64_t id, const NotificationResult& result,
                                  std::int64_t now_us) {
  return engine_->finish_notification(id, result, now_us);
}
Result<std::int64_t> Store::pending_notifications(std::int64_t now_us) {
  return engine_->pending_notifications(now_us);
}
Status Store::record_health(const std::string& repo, std::int64_t measured_us,
                            const std::vector<HealthFigureRow>& figures) {
  return engine_->record_health(repo, measured_us, figures);
}

Status Store::for_each_step_after(std::int64_t after_id, int limit,
                                  const std::function<Status(std::int64_t, StepRecord&)>& visit) {
  return engine_->for_each_step_after(after_id, limit, visit);
}
Result<std::int64_t> Store::count_steps_after(std::int64_t after_id) {
  return engine_->count_steps_after(after_id);
}
Result<ShippingState> Store::shipping_state() {
  return engine_->shipping_state();
}
Status Store::save_shipped(const std::string& target, const ShippedMark& mark) {
  return engine_->save_shipped(target, mark);
}
Status Store::record_ship_outcome(std::int64_t at_us, std::int64_t shipped,
                                  const std::optional<ShipFailure>& failure) {
  return engine_->record_ship_outcome(at_us, shipped, failure);
}
Result<std::optional<ShipFailure>> Store::claim_ship_failure() {
  return engine_->claim_ship_failure();
}

int Store::schema_version() const {
  return engine_->schema_version();
}

StepImport::StepImport(std::unique_ptr<RecordWriter> writer) : writer_(std::move(writer)) {}
StepImport::StepImport(StepImport&&) noexcept = default;
StepImport& StepImport::operator=(StepImport&&) noexcept = default;
StepImport::~StepImport() = default;

Result<bool> StepImport::add(const StepRecord& record) {
  return writer_->add(record);
}

Result<bool> StepImport::add_snapshot(const SnapshotRow& row) {
  return writer_->add_snapshot(row);
}

Status StepImport::commit(const std::function<Status()>& before_commit) {
  return writer_->commit(before_commit);
}

std::int64_t StepImport::stored() const {
  return writer_->stored();
}

ContextSelection select_contexts(const RunFilter& filter,
                                 const std::vector<std::pair<std::int64_t, RunContext>>& contexts) {
  ContextSelection out;
  if (filter.empty()) return out;
  out.every = false;
  for (const auto& [id, context] : contexts) {
    if (filter.matches(context)) out.ids.push_back(id);
  }
  return out;
}

std::string ContextSelection::condition(std::string_view column) const {
  if (every) return "";
  std::string out = " AND ";
  out += column;
  out += " IN (";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + ")";
}

}  // namespace perfguard
