#pragma once
// What a local store keeps of its shipping to the team's shared store (lib/sync): how far the
// shared store has committed its steps, and how the last ship ended. Kept in the local store
// itself, so that every tool and every shipper of the store sees the same.

#include <cstdint>
#include <optional>
#include <string>

namespace perfguard {

// The newest local step the shared store has committed, by its id in the local store and the
// key that identifies it anywhere (trace id, step, start time). Ids grow as steps are recorded,
// but a store may hand out the id of a deleted step again, when it was the largest: the key
// tells whether the step at `id` is still the one that was shipped.
struct ShippedMark {
  std::int64_t id = 0;
  std::uint64_t trace_id = 0;
  std::string step;
  std::int64_t started_us = 0;
};

// A ship that failed (the shared store could not be reached or written), and whether a tool
// has said so to a person yet. Kept until a ship succeeds.
struct ShipFailure {
  std::string target;  // the shared store's name, without a password
  std::string message;
  std::int64_t at_us = 0;
  bool reported = false;
};

struct ShippingState {
  std::string target;  // the shared store `shipped` refers to; empty: never shipped
  std::optional<ShippedMark> shipped;
  std::int64_t last_success_us = 0;  // 0: never
  std::int64_t last_shipped = 0;     // records the last successful ship read
  std::optional<ShipFailure> failure;
};

}  // namespace perfguard
