#pragma once
// A shipper's whole run for one local store: the lock (one shipper at a time), the ships, the
// team's baselines, and what the local store keeps of how it ended. perfguard-ship runs it in
// the background after a tool recorded; `perf-baseline sync` in the foreground.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "core/duration.h"
#include "core/result.h"
#include "store/store.h"
#include "sync/ship.h"

namespace perfguard {

struct ShipperRequest {
  std::filesystem::path local;  // the local store (it must exist)
  Duration busy_timeout = Duration::seconds(5);
  std::string target;  // the shared store's name (shared_store_name)
  std::function<Result<Store>()> open_shared;
  // Wait for the shipper that holds the lock, then ship what is left (perf-baseline sync);
  // else leave the work to it.
  bool wait = false;
  int batch = kShipBatch;
  std::function<void()> after_batch;
  // Called with the lock still held, after each round's ship (the tests hold the lock there).
  std::function<void()> before_release;
};

struct ShipperResult {
  bool busy = false;  // another shipper held the lock, and ships what this one would have
  int rounds = 0;
  ShipSummary shipped;  // over every round
  BaselinePull baselines;
};

// Ships every record the shared store lacks, pulls its baselines, and keeps the outcome in the
// local store: a success clears a failure kept before; a failure (the shared store cannot be
// reached or written) is kept for the next tool run in the foreground to report once
// (unreported_ship_failure). `result` holds what was done, also on failure.
Status run_shipper(const ShipperRequest& request, ShipperResult& result);

// What went wrong, without the shared store's name in front (the line that says it names the
// store once).
std::string ship_failure_cause(const ShipFailure& failure);

// The one line a tool in the foreground gives about a failure a shipper kept, the first time
// a tool finds it: `12 records are not shipped to the shared store NAME (CAUSE); they stay local
// and the next ship takes them`. Nothing when there is none or it was reported already; a cheap
// read then.
Result<std::optional<std::string>> unreported_ship_failure(Store& local, const std::string& target);

}  // namespace perfguard
