#include "sync/shipper.h"

#include <utility>

#include "core/clock.h"
#include "sync/ship_lock.h"

namespace perfguard {

namespace {

// One round under the lock: everything pending, then the team's baselines.
Status ship_round(Store& local, std::optional<Store>& shared, const ShipperRequest& request,
                  ShipperResult& result) {
  if (!shared) {
    auto opened = request.open_shared();
    if (!opened) return opened.error();
    shared.emplace(std::move(*opened));
  }
  ShipSummary round;
  Status shipped =
      ship(local, *shared,
           {request.target, request.batch, request.after_batch, request.open_shared}, round);
  result.shipped += round;
  if (!shipped) return shipped;
  auto pulled = pull_baselines(*shared, local);
  if (!pulled) return pulled.error();
  result.baselines = *pulled;
  return {};
}

}  // namespace

// Why no record is left behind although a shipper that finds the lock held gives up at once.
// A tool commits its record R, then starts a shipper B. If B finds the lock held, some shipper
// A held it at that moment, after R was committed, so A lets it go after R was committed. A
// checks for pending records after letting it go, so A sees R: either A takes the lock again
// and ships R, or A finds the lock held by yet another shipper C, which took it after R was
// committed and makes the same check after letting it go. Each hand-over happens after R's
// commit, so the last shipper in the chain ships R. (A check before letting go would not do: R
// could be committed between the check and the release, while B still finds the lock held.)
Status run_shipper(const ShipperRequest& request, ShipperResult& result) {
  auto opened = Store::open({request.local, request.busy_timeout, false});
  if (!opened) return opened.error();
  Store& local = *opened;
  std::optional<Store> shared;

  auto lock = [&]() -> Result<std::optional<FileLock>> {
    if (!request.wait) return try_take_ship_lock(request.local);
    auto taken = take_ship_lock(request.local);
    if (!taken) return taken.error();
    return std::optional<FileLock>(std::move(*taken));
  }();
  if (!lock) return lock.error();
  if (!*lock) {
    result.busy = true;
    return {};
  }
  int idle_rounds = 0;  // in a row, shipping nothing
  for (;;) {
    ++result.rounds;
    const std::int64_t before = result.shipped.read;
    Status round = ship_round(local, shared, request, result);
    const std::int64_t now = now_unix_us();
    if (!round) {
      // Kept for the next tool run to report; a local store that cannot keep it has its own
      // error to give, and the round's is the one that matters.
      (void)local.record_ship_outcome(now, result.shipped.read,
                                      ShipFailure{request.target, round.error().message, now});
      return round;
    }
    if (Status kept = local.record_ship_outcome(now, result.shipped.read, std::nullopt); !kept) {
      return kept;
    }
    if (request.before_release) request.before_release();
    (*lock)->release();

    auto pending = pending_records(local, request.target);
    if (!pending) return pending.error();
    // A round ships what was pending when it read; a record committed after its last read is
    // the next round's. Two rounds in a row that shipped nothing while records were pending
    // would not do better a third time: the next shipper takes them.
    idle_rounds = result.shipped.read == before ? idle_rounds + 1 : 0;
    if (*pending == 0 || idle_rounds >= 2) return {};
    auto again = try_take_ship_lock(request.local);
    if (!again) return again.error();
    if (!*again) return {};  // its holder makes the same check after letting it go
    *lock = std::move(*again);
  }
}

std::string ship_failure_cause(const ShipFailure& failure) {
  std::string cause = failure.message;
  if (!failure.target.empty() && cause.starts_with(failure.target + ": ")) {
    cause.erase(0, failure.target.size() + 2);
  }
  return cause;
}

Result<std::optional<std::string>> unreported_ship_failure(Store& local,
                                                           const std::string& target) {
  auto state = local.shipping_state();
  if (!state) return state.error();
  if (!state->failure || state->failure->reported) return std::optional<std::string>{};
  auto claimed = local.claim_ship_failure();
  if (!claimed) return claimed.error();
  if (!*claimed) return std::optional<std::string>{};  // another tool said it just now
  const ShipFailure& failure = **claimed;
  auto pending = pending_records(local, target);
  if (!pending) return pending.error();
  const std::string cause = ship_failure_cause(failure);
  const std::string name = failure.target.empty() ? target : failure.target;
  std::string line = std::to_string(*pending) +
                     (*pending == 1 ? " record is not shipped" : " records are not shipped") +
                     " to the shared store " + name + " (" + cause + ")";
  line += *pending == 1 ? "; it stays local and the next ship takes it"
                        : "; they stay local and the next ship takes them";
  return std::optional<std::string>(std::move(line));
}

}  // namespace perfguard
