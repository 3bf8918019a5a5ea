#pragma once
// Internal to the PostgreSQL engine: the per-step, per-hour rollups (table step_hours;
// schema.cpp says what a row holds), rebuilt from the steps of each hour a write touched.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/postgres/pq.h"
#include "store/step_reads.h"

namespace perfguard {

struct HourKey {
  std::string step;
  std::int64_t hour = 0;
  friend auto operator<=>(const HourKey&, const HourKey&) = default;
};

// The steps of one hour in the order they were stored (by id): what its rollup is made of.
struct HourSteps {
  StatusCounts counts;
  std::vector<std::int64_t> durations;  // of the completed ones

  void add(StepStatus status, std::int64_t duration_us) {
    counts.add(status);
    if (is_completed(status)) durations.push_back(duration_us);
  }
  // The hour's counts, moments and histogram.
  void roll_up(StepHour& hour) const;
};

// The steps a writer stored in each hour, in the order it stored them.
using WrittenHours = std::map<HourKey, HourSteps>;

// Rebuilds the step_hours rows of `hours` from their steps, and clears them from
// stale_hours, inside the current transaction. Each hour is locked first (an advisory lock,
// taken in one order by every writer), so that two writers adding to one hour at once each
// count the other's steps: the second reads the hour after the first committed.
//
// An hour in `written` that has neither a step_hours nor a stale_hours row held no steps
// before this transaction (every committed step's hour has one or the other: writers roll up
// their hours, and the triggers mark the hours anything else changes), so its steps are the
// writer's: it is rolled up from `written` without reading them back.
Status rebuild_hours(pq::Connection& c, std::vector<HourKey> hours,
                     const WrittenHours& written = {});

// The hours marked stale (changed by other means than a writer).
Result<std::vector<HourKey>> stale_hours(pq::Connection& c);

// Reads the steps of `hours` (each from `since_us` on) and calls `visit` with each hour's
// counts and timing, in the order of `hours`; hours without steps are visited empty. With
// `streamed` the rows come in one round trip and `visit` must not use the connection; else
// through a cursor (inside a transaction), and `visit` may write.
Status read_hours_from_steps(pq::Connection& c, const std::vector<HourKey>& hours,
                             std::int64_t since_us, bool streamed,
                             const std::function<Status(std::size_t, StepHour&)>& visit);

// A step's status as stored (step_rows.status): StepStatus's number.
StepStatus status_from_code(std::int64_t code);

}  // namespace perfguard
