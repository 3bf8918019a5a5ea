// The notifications outbox of the shared store. Not there yet, as the alerts (alerts.cpp).

#include "store/postgres/postgres_engine.h"

namespace perfguard {

namespace {

Error no_outbox_yet(const pq::Connection& c) {
  return Error{ExitCode::store, c.name() + ": the shared store does not hold alerts yet"};
}

}  // namespace

Result<std::vector<PendingNotification>> PostgresStore::claim_notifications(std::int64_t,
                                                                            std::int64_t, int,
                                                                            bool) {
  return no_outbox_yet(*connection_);
}

Status PostgresStore::finish_notification(std::int64_t, const NotificationResult&, std::int64_t) {
  return no_outbox_yet(*connection_);
}

Result<std::int64_t> PostgresStore::pending_notifications(std::int64_t) {
  return no_outbox_yet(*connection_);
}

}  // namespace perfguard
