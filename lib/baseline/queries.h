#pragma once
// The read-only questions perf-baseline answers about the recorded steps: per-step
// statistics, the trend over time, the slowest runs. Each returns structs; printing them is
// lib/baseline/render.h's business.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "stats/statistics.h"
#include "store/step_reads.h"
#include "store/store.h"
#include "trace/run_filter.h"

namespace perfguard {

// Up to kExactSamples (stats/statistics.h) completed runs of a step in a query's range, stats
// reads the runs themselves and the step's percentiles and MAD are exact percentile_cont;
// above it they come from the hourly rollups' histograms, within 0.78% (histogram.h), which
// keeps the time of a query flat however many runs the store holds. Trend decides the same
// for the whole range. Counts, mean, stddev, min and max are exact either way; each Summary
// says which method it used.
//
// With a RunFilter, each query reads the runs in its range that the filter matches, one at a
// time (the rollups do not know where a run ran; the store reads only the runs of the
// contexts the filter matches): the same method (exact up to kExactSamples, a histogram
// above), at the cost of a read that grows with the matching runs in range.

struct StatsQuery {
  std::string step;           // empty: every step
  std::int64_t since_us = 0;  // steps started at or after
  RunFilter filter;           // empty: every run
};

// One step's runs in the window: how each ended, and the timing of the completed ones.
struct StepStats {
  std::string step;
  StatusCounts counts;
  Summary timing;  // over the completed runs (ok and breach); timing.method: exact or not
};

Result<std::vector<StepStats>> step_stats(Store& store, const StatsQuery& query);

enum class TrendPeriod { day, hour };
const char* to_string(TrendPeriod period);
std::optional<TrendPeriod> parse_trend_period(std::string_view text);

struct TrendQuery {
  std::string step;  // empty: every step
  int days = 30;     // today and the days before it (UTC), or their hours
  TrendPeriod by = TrendPeriod::day;
  std::int64_t now_us = 0;  // 0: the current time
  RunFilter filter;         // empty: every run
};

// One period (a UTC day or hour) of one step that has runs.
struct TrendPoint {
  std::string step;
  std::int64_t start_us = 0;  // the period's start
  StatusCounts counts;
  Summary timing;
};

// By step, then period; periods without a run are left out.
Result<std::vector<TrendPoint>> step_trend(Store& store, const TrendQuery& query);

// Where a trend starts: the start of the period `days` days back that makes `days` whole
// days (or days × 24 whole hours) up to and including the current one.
std::int64_t trend_start(const TrendQuery& query, std::int64_t now_us);

struct SlowestQuery {
  std::int64_t since_us = 0;
  int limit = 20;
  std::string step;  // empty: every step
  int spans = 3;     // child spans shown with each step, slowest first
  RunFilter filter;  // empty: every run
};

Result<std::vector<SlowStep>> slowest_steps(Store& store, const SlowestQuery& query);

}  // namespace perfguard
