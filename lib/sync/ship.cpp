#include "sync/ship.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace perfguard {

namespace {

bool same_step(const ShippedMark& mark, std::int64_t id, const StepRecord& r) {
  return mark.id == id && mark.trace_id == r.trace_id && mark.step == r.step &&
         mark.started_us == r.root.start_us;
}

// One batch: the records after a local id, in id order.
using Batch = std::vector<std::pair<std::int64_t, StepRecord>>;

Result<Batch> read_batch(Store& local, std::int64_t after, int size) {
  Batch records;
  Status read = local.for_each_step_after(after, size, [&](std::int64_t id, StepRecord& r) {
    records.emplace_back(id, std::move(r));
    return Status{};
  });
  if (!read) return read.error();
  return records;
}

// Sends a batch in one transaction; returns how many of its records were new there.
Result<std::int64_t> send_batch(Store& shared, const Batch& records) {
  auto import = shared.begin_import(records.size());
  if (!import) return import.error();
  for (const auto& [id, r] : records) {
    if (auto added = import->add(r); !added) return added.error();
  }
  if (Status committed = import->commit(); !committed) return committed.error();
  return import->stored();
}

ShippedMark mark_of(const Batch& records) {
  const auto& [id, last] = records.back();
  return ShippedMark{id, last.trace_id, last.step, last.root.start_us};
}

bool same_baseline(const Baseline& a, const Baseline& b) {
  const Summary& x = a.summary;
  const Summary& y = b.summary;
  return a.computed_us == b.computed_us && a.window.us == b.window.us &&
         a.multiplier == b.multiplier && x.n == y.n && x.p50 == y.p50 && x.p95 == y.p95 &&
         x.p99 == y.p99 && x.max == y.max;
}

}  // namespace

ShipSummary& ShipSummary::operator+=(const ShipSummary& other) {
  read += other.read;
  stored += other.stored;
  already += other.already;
  batches += other.batches;
  seconds += other.seconds;
  from_start = from_start || other.from_start;
  return *this;
}

Result<std::optional<ShippedMark>> shipped_mark(Store& local, const std::string& target) {
  auto state = local.shipping_state();
  if (!state) return state.error();
  if (state->target != target || !state->shipped) return std::optional<ShippedMark>{};
  const ShippedMark& mark = *state->shipped;
  bool holds = false;
  Status read = local.for_each_step_after(mark.id - 1, 1, [&](std::int64_t id, StepRecord& r) {
    holds = same_step(mark, id, r);
    return Status{};
  });
  if (!read) return read.error();
  if (!holds) return std::optional<ShippedMark>{};
  return std::optional<ShippedMark>(mark);
}

Result<std::int64_t> pending_records(Store& local, const std::string& target) {
  auto mark = shipped_mark(local, target);
  if (!mark) return mark.error();
  return local.count_steps_after(*mark ? (*mark)->id : 0);
}

Status ship(Store& local, Store& shared, const ShipOptions& options, ShipSummary& summary) {
  const auto start = std::chrono::steady_clock::now();
  struct Timed {
    ShipSummary& summary;
    std::chrono::steady_clock::time_point start;
    ~Timed() { summary.seconds += static_cast<double>(elapsed_since(start).us) / 1e6; }
  } timed{summary, start};

  auto mark = shipped_mark(local, options.target);
  if (!mark) return mark.error();
  summary.from_start = !*mark;
  const int size = options.batch > 0 ? options.batch : kShipBatch;
  auto batch = read_batch(local, *mark ? (*mark)->id : 0, size);
  if (!batch) return batch.error();
  while (!batch->empty()) {
    // The shared store takes this batch while the next is read from the local one: the two
    // stores are each used by one thread at a time, and the server's work and ours overlap.
    // The reading thread yields to this one (nice 5), which keeps the server fed: where the
    // server shares the cores, the reading fills the time the server's backend and the rows
    // it waits for leave free.
    const ShippedMark last = mark_of(*batch);
    auto read = std::async(std::launch::async, [&local, after = last.id, size] {
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5);
      return read_batch(local, after, size);
    });
    auto stored = send_batch(shared, *batch);
    auto next = read.get();
    if (!stored) return stored.error();
    const auto n = static_cast<std::int64_t>(batch->size());
    summary.read += n;
    summary.stored += *stored;
    summary.already += n - *stored;
    summary.batches += 1;
    // Only now that the shared store has committed the batch.
    if (Status kept = local.save_shipped(options.target, last); !kept) return kept;
    if (options.after_batch) options.after_batch();
    if (!next) return next.error();
    batch = std::move(next);
  }
  return {};
}

Result<BaselinePull> pull_baselines(Store& shared, Store& local) {
  auto team = shared.active_baselines();
  if (!team) return team.error();
  BaselinePull pull;
  pull.team = static_cast<std::int64_t>(team->size());
  Status updated = local.update_baselines([&](BaselineUpdate& update) -> Status {
    for (const Baseline& b : *team) {
      auto active = update.active(b.key);
      if (!active) return active.error();
      if (*active && same_baseline(**active, b)) continue;
      Baseline copy = b;
      copy.id = 0;
      copy.active = true;
      copy.replaces_id = *active ? std::optional<std::int64_t>((*active)->id) : std::nullopt;
      if (auto id = update.activate(copy); !id) return id.error();
      ++pull.changed;
    }
    return {};
  });
  if (!updated) return updated.error();
  return pull;
}

}  // namespace perfguard
