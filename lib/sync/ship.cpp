#include "sync/ship.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
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

// A ship of many batches frees each batch's records and buffers (megabytes in all) while the
// next is made. glibc gives blocks that large back to the kernel (mapped on their own above
// its threshold, the heap's top trimmed), and each batch faulted its memory in again. Fixed
// thresholds (which also stop glibc raising them as it goes) keep the freed memory for the
// next batch: the client's CPU for a million records went from 9 to 10 s (3 of them in the
// kernel) to 4 to 4.5, a ship's time by a quarter, and the process holds its peak (about
// 160 MB for a million, not 100) until it ends.
void keep_freed_memory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
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
Result<std::int64_t> send_batch(Store& shared, const Batch& records, ImportLane lane) {
  auto import = shared.begin_import(records.size(), lane);
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

// The next batch, read on a thread of its own that yields to the ones sending (nice 5), which
// keeps the server fed: where the server shares the cores, the reading fills the time the
// server's backends and the rows they wait for leave free.
Result<Batch> read_batch_aside(Store& local, std::int64_t after, int size) {
  return std::async(std::launch::async,
                    [&local, after, size] {
                      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5);
                      return read_batch(local, after, size);
                    })
      .get();
}

// The connections a ship sends through besides `shared`: none when one batch is all there is
// (`more` false), without ShipOptions::open_lane, or when the shared store does not grant the
// claim (Store::claim_lanes); else as many as open, up to kShipLanes in all (a server at its
// connection limit leaves fewer).
Result<std::vector<Store>> open_lanes(Store& shared, const ShipOptions& options, bool more) {
  std::vector<Store> lanes;
  if (!more || !options.open_lane) return lanes;
  auto claimed = shared.claim_lanes();
  if (!claimed) return claimed.error();
  if (!*claimed) return lanes;
  while (lanes.size() + 1 < static_cast<std::size_t>(kShipLanes)) {
    auto opened = options.open_lane();
    if (!opened) break;
    lanes.push_back(std::move(*opened));
  }
  if (lanes.empty()) {
    if (Status released = shared.release_lanes(); !released) return released.error();
  }
  return lanes;
}

// A batch on its way to the shared store, sent on a thread of its own through one lane.
struct Sending {
  std::future<Result<std::int64_t>> stored;  // how many of its records were new there
  ShippedMark last;
  std::int64_t records = 0;
};

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
  lanes = std::max(lanes, other.lanes);
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

  const bool more = static_cast<int>(batch->size()) == size;
  if (more) keep_freed_memory();
  auto more_lanes = open_lanes(shared, options, more);
  if (!more_lanes) return more_lanes.error();
  std::vector<Store*> lanes{&shared};
  for (Store& lane : *more_lanes) lanes.push_back(&lane);
  const ImportLane how = lanes.size() > 1 ? ImportLane::beside_others : ImportLane::alone;
  // The claim goes when the ship ends, after the last batch sent (declared before `sending`).
  struct Claim {
    Store& shared;
    bool held;
    ~Claim() {
      if (held) (void)shared.release_lanes();  // else it goes with the connection
    }
  } claim{shared, lanes.size() > 1};
  summary.lanes = std::max(summary.lanes, static_cast<int>(lanes.size()));

  // The batches on their way, oldest first. The local store is used by one thread at a time:
  // this one, or the one reading the next batch while this one waits.
  std::deque<Sending> sending;
  auto finish_oldest = [&]() -> Status {
    Sending oldest = std::move(sending.front());
    sending.pop_front();
    auto stored = oldest.stored.get();
    if (!stored) return stored.error();
    summary.read += oldest.records;
    summary.stored += *stored;
    summary.already += oldest.records - *stored;
    summary.batches += 1;
    // Only now that the shared store has committed this batch and every one before it.
    if (Status kept = local.save_shipped(options.target, oldest.last); !kept) return kept;
    if (options.after_batch) options.after_batch();
    return {};
  };
  auto finish_all = [&]() -> Status {
    while (!sending.empty()) {
      if (Status finished = finish_oldest(); !finished) return finished;
    }
    return {};
  };

  std::size_t turn = 0;
  while (!batch->empty()) {
    if (sending.size() == lanes.size()) {
      if (Status finished = finish_oldest(); !finished) return finished;
    }
    Store& lane = *lanes[turn++ % lanes.size()];
    const ShippedMark last = mark_of(*batch);
    const auto records = static_cast<std::int64_t>(batch->size());
    sending.push_back(
        {std::async(std::launch::async,
                    [&lane, sent = std::move(*batch), how] { return send_batch(lane, sent, how); }),
         last, records});
    auto next = read_batch_aside(local, last.id, size);
    if (!next) {
      (void)finish_all();  // what was sent is kept; the read's failure is the one to say
      return next.error();
    }
    batch = std::move(next);
  }
  return finish_all();
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
