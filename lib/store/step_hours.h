#pragma once
// The per-step, per-hour rollups (table step_hours; schema.cpp says what a row holds) and
// the reads of recorded steps that go through them: the rollups themselves, or the steps,
// found through the rollups' id ranges.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/duration.h"
#include "core/result.h"
#include "stats/histogram.h"
#include "store/store.h"
#include "trace/span.h"

struct sqlite3;

namespace perfguard {

inline constexpr std::int64_t kHourUs = 3600LL * 1000000;

// The UTC hour a time falls in, as the schema computes it (SQLite's integer division).
constexpr std::int64_t hour_of(std::int64_t unix_us) {
  return unix_us / kHourUs;
}

// A step's status as stored (step_rows.status).
constexpr int status_code(StepStatus s) {
  return static_cast<int>(s);
}
static_assert(status_code(StepStatus::ok) == 0 && status_code(StepStatus::breach) == 1 &&
              status_code(StepStatus::failed) == 2 && status_code(StepStatus::timeout) == 3 &&
              status_code(StepStatus::interrupted) == 4);
StepStatus status_from_code(int code);

struct StatusCounts {
  std::int64_t ok = 0, breach = 0, failed = 0, timeout = 0, interrupted = 0;

  void add(StepStatus s, std::int64_t n = 1);
  StatusCounts& operator+=(const StatusCounts& o);
  std::int64_t total() const { return ok + breach + failed + timeout + interrupted; }
  std::int64_t completed() const { return ok + breach; }                    // a timing to count
  std::int64_t failures() const { return failed + timeout + interrupted; }  // no timing
};

// Whether a step's duration is a timing of the step: it finished, within its threshold or
// not. A failed, killed or interrupted step stopped early; its duration says little about
// how long the step takes, so the statistics leave it out (and count it as a failure).
constexpr bool is_completed(StepStatus s) {
  return s == StepStatus::ok || s == StepStatus::breach;
}

// The steps of one step name in one UTC hour (or, for the first hour of a range that starts
// within it, in the part of it from the start on). Counts and moments are exact; the
// histogram gives percentiles within 0.78% (see histogram.h).
struct StepHour {
  std::string step;
  std::int64_t hour = 0;
  StatusCounts counts;
  Moments timing;         // of the completed steps' durations, microseconds
  std::string histogram;  // of the same, encoded: add it to one with DurationHistogram::decode
};

// The hours of `step` (of every step when empty), ordered by step then hour, holding exactly
// the steps started at or after `since_us`.
Result<std::vector<StepHour>> read_step_hours(Store& store, const std::string& step,
                                              std::int64_t since_us);

// One recorded step, with where it ran when asked for: what baselines and exact statistics
// read.
struct StepSample {
  std::string step;
  std::int64_t started_us = 0;
  std::int64_t duration_us = 0;
  StepStatus status = StepStatus::ok;
  std::string repo;    // with_context only
  std::string branch;  // with_context only
};

// The steps of `step` (every step when empty) started at or after `since_us`.
Result<std::vector<StepSample>> read_step_samples(Store& store, const std::string& step,
                                                  std::int64_t since_us, bool with_context = false);

// A step among the slowest, with its direct child spans, slowest first.
struct SlowStep {
  std::int64_t id = 0;
  std::uint64_t trace_id = 0;
  std::string step;
  std::int64_t started_us = 0;
  Duration duration;
  StepStatus status = StepStatus::ok;
  std::optional<Duration> threshold;
  std::string repo;
  std::string branch;
  std::vector<Span> children;  // name, start, duration, exit code, usage (no grandchildren)
};

// The `limit` slowest steps (of `step`, or all) started at or after `since_us`, slowest
// first; each with at most `max_children` child spans.
Result<std::vector<SlowStep>> read_slowest_steps(Store& store, std::int64_t since_us, int limit,
                                                 const std::string& step = "",
                                                 int max_children = 3);

// The ranges of step ids (first, last) that hold every step of `step` (of all when empty)
// started at or after `since_us`, merged and in order: there is no index on time, so a
// time-bounded read goes `WHERE id BETWEEN first AND last AND started_us >= since` range by
// range. Usually one range, as steps are recorded in time order. Steps added with plain
// SQL are in it after catch_up_rollups().
Result<std::vector<std::pair<std::int64_t, std::int64_t>>> step_id_ranges(Store& store,
                                                                          const std::string& step,
                                                                          std::int64_t since_us);

// Rolls up the steps that were added without Store::record (plain SQL), and rebuilds the
// hours marked stale by deletions or changes (a prune), if any. A cheap check when there is
// nothing to do; writes otherwise.
Status catch_up_rollups(Store& store);

// Keeps step_hours while Store::record appends steps, inside the caller's write
// transaction. Internal to the store.
class HourRollups {
 public:
  explicit HourRollups(sqlite3* db) : db_(db) {}

  // Rolls up steps stored since the last roll-up by other means than Store::record.
  bool catch_up();
  // Rebuilds every hour marked stale (see schema.cpp), to be written by flush().
  bool refresh_stale();
  // Whether a step with this name, start and trace is stored already (or was added to
  // this batch): a record imported twice. Nothing on a read error.
  std::optional<bool> contains(std::int64_t name_id, std::int64_t started_us,
                               std::uint64_t trace_id);
  void add(std::int64_t name_id, std::int64_t started_us, std::int64_t duration_us,
           StepStatus status, std::uint64_t trace_id, std::int64_t step_id);
  // Writes every hour touched, and the last step id rolled up.
  bool flush();

  struct State {
    StatusCounts counts;
    std::vector<std::int64_t> durations;  // of the completed steps
    std::vector<std::int64_t> ids;
    std::int64_t first_id = std::numeric_limits<std::int64_t>::max();
    std::int64_t last_id = std::numeric_limits<std::int64_t>::min();
    struct KeyHash {
      std::size_t operator()(const std::pair<std::uint64_t, std::int64_t>& k) const {
        return std::hash<std::uint64_t>{}(k.first * 0x9E3779B97F4A7C15ULL ^
                                          static_cast<std::uint64_t>(k.second));
      }
    };
    std::unordered_set<std::pair<std::uint64_t, std::int64_t>, KeyHash> keys;  // trace, start
  };

 private:
  State* load(std::int64_t name_id, std::int64_t hour);

  sqlite3* db_;
  std::map<std::pair<std::int64_t, std::int64_t>, State> hours_;  // (name id, hour)
  std::int64_t rolled_up_to_ = 0;  // meta 'rolled_up_to' as read by catch_up
  std::int64_t max_id_ = 0;        // the largest step id when catch_up ran
  std::int64_t last_added_ = 0;
  // load() reads stored steps up to this id; later ones are counted by add().
  std::int64_t scan_limit_ = std::numeric_limits<std::int64_t>::max();
};

}  // namespace perfguard
