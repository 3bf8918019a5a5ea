#pragma once
// Shipping a local store's records to the team's shared store, local-first: every tool records
// into its local store; a ship copies what the shared store does not have yet, in batches, and
// takes the team's active baselines back. Works with any engine on either side (store.h).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/result.h"
#include "store/store.h"

namespace perfguard {

// Records per transaction on the shared store: big enough that a transaction's own cost (its
// round trips, its rollups' edges) is little per record, small enough that a failure loses
// little work, a writer's lock is held a fraction of a second and the batches in memory (one
// per lane being sent, the next read meanwhile) take a few tens of megabytes.
inline constexpr int kShipBatch = 10000;

// Connections a ship of more than one batch sends through at once, each its own batch in its
// own transaction: the server's work on a batch (parsing the rows, the indexes, the log) is a
// backend's, one core's, and the shipper's and the backend's turns leave each side idle in
// part. Two keep a backend busy while the other waits for its rows, and the shipper reading,
// without more connections than a team's server expects of a clone.
inline constexpr int kShipLanes = 2;

struct ShipOptions {
  std::string target;  // the shared store's name (shared_store_name): where the local store ships
  int batch = kShipBatch;
  // Called after each batch the shared store committed (a progress line; the tests).
  std::function<void()> after_batch;
  // Opens another connection to the shared store, for the lanes of a ship of more than one
  // batch (kShipLanes); none, or a store that has one writer at a time: one lane.
  std::function<Result<Store>()> open_lane;
};

struct ShipSummary {
  std::int64_t read = 0;     // local records read and sent
  std::int64_t stored = 0;   // of them, new on the shared store
  std::int64_t already = 0;  // of them, there already (sent before, or by another clone)
  std::int64_t batches = 0;  // committed
  int lanes = 0;             // the most connections it sent through at once
  double seconds = 0;
  bool from_start = false;  // shipped from the first record (see ship)

  ShipSummary& operator+=(const ShipSummary& other);
};

// Ships the local records the shared store has not committed, in id order, in batches of
// options.batch records per transaction on the shared store, each read from the local store
// while the ones before are sent, through as many lanes as the shared store allows
// (ShipOptions::open_lane, Store::claim_lanes), each batch through one. Once a batch and every
// batch before it are committed, the local store keeps the mark of its last record
// (Store::save_shipped): a failure part-way keeps what was committed before it and leaves the
// rest for the next ship. A batch committed whose mark was not kept (a crash in between, or a
// batch before it that failed) is sent again, and the shared store, which knows a record by
// its trace id, step and start time, stores it once: nothing is lost, nothing is stored
// twice.
//
// It starts from the first record when the mark is of another shared store (the
// configuration names a new one), or when the step at the mark's id is not the one shipped
// (deleted: the store may then have handed its id, or lower ones, to new steps).
// `summary` holds what was done, also on failure.
Status ship(Store& local, Store& shared, const ShipOptions& options, ShipSummary& summary);

// How many local records the shared store `target` has not committed, without reaching it.
Result<std::int64_t> pending_records(Store& local, const std::string& target);

// The mark of the last record shipped to `target`, if it still holds: nothing when the
// local store shipped elsewhere, never shipped, or no longer has that step at that id.
Result<std::optional<ShippedMark>> shipped_mark(Store& local, const std::string& target);

struct BaselinePull {
  std::int64_t team = 0;     // the shared store's active baselines
  std::int64_t changed = 0;  // of them, new or different in the local store
};

// Makes the shared store's active baselines the local store's active ones (one write
// transaction), so that the tools' own evaluation on the hot path compares with the team's.
// A baseline the local store has active already, the same, is left as it is.
Result<BaselinePull> pull_baselines(Store& shared, Store& local);

}  // namespace perfguard
