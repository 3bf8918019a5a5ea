#pragma once
// Baselines: what a step normally takes, computed over a rolling window of its completed
// runs and kept in the store's `baselines` table (store/baselines.h) for the other tools.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/duration.h"
#include "core/result.h"
#include "stats/statistics.h"
#include "store/baselines.h"
#include "store/store.h"
#include "trace/run_filter.h"

namespace perfguard {

struct ComputeOptions {
  std::string step;  // empty: every step recorded in the window
  Duration window = Duration::seconds(7 * 86400);
  std::int64_t min_samples = 10;
  double multiplier = 2.0;
  BaselineScope scope = BaselineScope::all;
  double min_change = 0.05;  // a percentile must move more than this (relative) to replace
  bool force = false;        // replace the active baseline whatever moved
  std::int64_t now_us = 0;   // the end of the window; 0: the current time
  // Which of the scope's baselines to compute: a repository's (scope repo or branch), a
  // branch's (scope branch). Only repo and branch are read: a baseline's key names no host
  // or runner, so one computed from some hosts' runs would stand for all of them.
  RunFilter filter;
};

enum class BaselineOutcome {
  stored,          // the first baseline for its key, now active
  replaced,        // a percentile moved more than min_change (or --force): now active
  kept,            // nothing moved enough: the active baseline stays, nothing is stored
  too_few_samples  // fewer completed runs than min_samples: nothing is stored
};
const char* to_string(BaselineOutcome outcome);

// The percentile that moved most (relatively) between the active baseline and the new one.
struct PercentileMove {
  std::string percentile;  // p50, p75, p90, p95, p99
  double from_us = 0;
  double to_us = 0;
  double change = 0;  // (to - from) / from; ±infinity from 0
};

struct ComputeResult {
  BaselineKey key;
  BaselineOutcome outcome = BaselineOutcome::too_few_samples;
  Summary summary;                             // the new computation
  std::int64_t failures = 0;                   // runs in the window left out: failed, killed, …
  std::optional<Baseline> previous;            // the active baseline before, if any
  std::optional<PercentileMove> largest_move;  // against `previous`
  std::int64_t baseline_id = 0;  // the active baseline after: new, or kept (0 if none)
};

// Computes a baseline per step (per step and repository, or branch, for those scopes) from
// the completed runs started in the window, and stores each one that is new or that moved.
// One transaction: either every baseline is stored or none is.
Result<std::vector<ComputeResult>> compute_baselines(Store& store, const ComputeOptions& options);

// A step's configured threshold, for the steps that have one (commit, rollback, validate,
// recover); nothing for any other step (a git command imported from trace2, say).
std::optional<Duration> threshold_for(const Thresholds& thresholds, std::string_view step);

// An active baseline beside its step's threshold: the headroom is threshold - p99.
struct BaselineHeadroom {
  Baseline baseline;
  std::optional<Duration> threshold;
  std::optional<double> headroom_us;   // negative when p99 is over the threshold
  std::optional<double> headroom_pct;  // of the threshold
};

std::vector<BaselineHeadroom> with_headroom(const std::vector<Baseline>& baselines,
                                            const Thresholds& thresholds);

}  // namespace perfguard
