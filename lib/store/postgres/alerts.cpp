// The alert operations of the shared store. Not there yet: each says so, as a store error
// that names the store, and changes nothing. (What the rules read of the recorded steps is
// there: recent_runs.cpp.)

#include "store/postgres/postgres_engine.h"

namespace perfguard {

namespace {

Error no_alerts_yet(const pq::Connection& c) {
  return Error{ExitCode::store, c.name() + ": the shared store does not hold alerts yet"};
}

}  // namespace

Result<std::vector<AlertChange>> PostgresStore::apply_findings(const std::vector<AlertFinding>&,
                                                               const AlertApplyOptions&) {
  return no_alerts_yet(*connection_);
}

Result<std::vector<Alert>> PostgresStore::alerts(const AlertQuery&) {
  return no_alerts_yet(*connection_);
}

Result<std::int64_t> PostgresStore::count_alerts(const AlertQuery&) {
  return no_alerts_yet(*connection_);
}

Result<std::optional<Alert>> PostgresStore::alert(std::int64_t) {
  return no_alerts_yet(*connection_);
}

Result<std::vector<AlertEvent>> PostgresStore::alert_events(std::int64_t) {
  return no_alerts_yet(*connection_);
}

Result<std::vector<AlertRun>> PostgresStore::alert_runs(std::int64_t) {
  return no_alerts_yet(*connection_);
}

Result<std::vector<AlertChange>> PostgresStore::transition(const std::vector<std::int64_t>&,
                                                           const AlertTransition&) {
  return no_alerts_yet(*connection_);
}

Status PostgresStore::record_health(const std::string&, std::int64_t,
                                    const std::vector<HealthFigureRow>&) {
  return no_alerts_yet(*connection_);
}

}  // namespace perfguard
