#pragma once
// Internal to the SQLite engine: the per-step, per-hour rollups (table step_hours; schema.cpp
// says what a row holds), kept as steps are appended, and the step id ranges that the reads
// find through them. There is no index on time, so a time-bounded read goes
// `WHERE id BETWEEN first AND last AND started_us >= since` range by range: usually one
// range, as steps are recorded in time order.

#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/step_reads.h"
#include "trace/record.h"

namespace perfguard {

class SqliteStore;

// A step's status as stored (step_rows.status).
constexpr int status_code(StepStatus s) {
  return static_cast<int>(s);
}
static_assert(status_code(StepStatus::ok) == 0 && status_code(StepStatus::breach) == 1 &&
              status_code(StepStatus::failed) == 2 && status_code(StepStatus::timeout) == 3 &&
              status_code(StepStatus::interrupted) == 4);
StepStatus status_from_code(int code);

// Ranges of step ids (first, last), in order.
using IdRanges = std::vector<std::pair<std::int64_t, std::int64_t>>;

// Keeps step_hours while records are appended, inside the writer's transaction.
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

// Ids less than this far apart are read as one range: reading a few rows more costs less
// than another search.
inline constexpr std::int64_t kIdGap = 1024;

// Appends to `ranges` the ids of one step_hours row (columns first_id, last_id, stale, ids
// from `col` on) as runs, ids less than `gap` apart in one. A range may hold steps of other
// hours (those between, and steps recorded out of time order interleave): a read of one hour
// bounds the start times too. A stale row's list may miss steps changed since: its bounds,
// which hold them all, are used instead. False when the list is damaged.
bool row_ranges(sqlite3_stmt* row, int col, IdRanges& ranges, std::int64_t gap = kIdGap);

// The ranges that hold the steps of the hours from `from_hour` on, of one name (of all when
// none), merged.
Result<IdRanges> id_ranges(SqliteStore& store, std::optional<std::int64_t> name_id,
                           std::int64_t from_hour);

// One hour of `name_id` read from the steps themselves rather than its step_hours row
// (given as the columns first_id, last_id, stale, ids from `col` of `row`): the steps
// started at or after `since_us`. How a stale hour, or the cut first hour of a range, is
// read. False on a read error or a damaged row.
bool read_hour_steps(sqlite3* db, sqlite3_stmt* row, int col, std::int64_t name_id,
                     std::int64_t hour, std::int64_t since_us, HourRollups::State& state);

// An hour's timing from its completed durations.
void summarize_hour(const std::vector<std::int64_t>& durations, Moments& timing,
                    DurationHistogram& histogram);

}  // namespace perfguard
