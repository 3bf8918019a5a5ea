#include "baseline/baseline.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "core/clock.h"
#include "stats/summary.h"
#include "store/step_reads.h"

namespace perfguard {

namespace {

// The largest relative move of p50..p99 from `from` to `to`.
PercentileMove largest_move(const Summary& from, const Summary& to) {
  const std::tuple<const char*, double, double> ps[] = {{"p50", from.p50, to.p50},
                                                        {"p75", from.p75, to.p75},
                                                        {"p90", from.p90, to.p90},
                                                        {"p95", from.p95, to.p95},
                                                        {"p99", from.p99, to.p99}};
  PercentileMove best;
  bool first = true;
  for (auto [name, a, b] : ps) {
    double change = a != 0   ? (b - a) / a
                    : b == a ? 0
                             : std::copysign(std::numeric_limits<double>::infinity(), b - a);
    if (first || std::fabs(change) > std::fabs(best.change)) {
      best = {name, a, b, change};
      first = false;
    }
  }
  return best;
}

struct Group {
  SummaryBuilder timing;  // of the completed runs
  std::int64_t failures = 0;
};

using GroupKey = std::tuple<std::string, std::string, std::string>;  // step, repo, branch

// The window's runs, grouped by baseline key: failures counted, completed durations summed
// up. For every run of a step (scope all), a step with at most kExactSamples completed runs
// in the window is read run by run (exact); one with more is read from its hourly rollups
// (histogram), so the time of a computation does not grow with the runs in the window. The
// rollups are per step, not per repository or branch: those scopes read every run in the
// window, into a builder per key that keeps a histogram instead of sorting once it has more
// than kExactSamples.
Result<std::map<GroupKey, Group>> gather(Store& store, const ComputeOptions& o,
                                         std::int64_t since_us) {
  std::map<GroupKey, Group> groups;
  auto count = [](Group& g, const StepSample& s) {
    if (is_completed(s.status)) {
      g.timing.add(s.duration_us);
    } else {
      ++g.failures;
    }
  };
  if (o.scope != BaselineScope::all) {
    // Runs come in id order, a context at a time for long stretches: the group of the
    // last (step, context) is kept at hand, and looked up by its texts only when it changes.
    std::int64_t last_context = -1;
    std::string last_step;
    Group* last = nullptr;
    Status read = store.for_each_sample(o.step, since_us, true, [&](const StepSample& run) {
      if (!o.filter.repo.empty() && run.repo != o.filter.repo) return;
      if (!o.filter.branch.empty() && run.branch != o.filter.branch) return;
      if (!last || last_context != run.context_id || last_step != run.step) {
        last_context = run.context_id;
        last_step = run.step;
        last = &groups[{run.step, run.repo,
                        o.scope == BaselineScope::branch ? run.branch : std::string()}];
      }
      count(*last, run);
    });
    if (!read) return read.error();
    return groups;
  }

  auto hours = store.step_hours(o.step, since_us);
  if (!hours) return hours.error();
  // Ordered by step: each step's hours are one run of the vector.
  for (auto first = hours->begin(); first != hours->end();) {
    auto last = first;
    std::int64_t completed = 0;
    for (; last != hours->end() && last->step == first->step; ++last) {
      completed += last->counts.completed();
    }
    Group& g = groups[{first->step, "", ""}];
    if (completed <= kExactSamples) {
      auto samples = store.step_samples(first->step, since_us);
      if (!samples) return samples.error();
      for (const StepSample& s : *samples) count(g, s);
    } else {
      for (auto h = first; h != last; ++h) {
        g.failures += h->counts.failures();
        if (!g.timing.add(h->timing, h->histogram)) {
          return Error{ExitCode::store, store.path().string() +
                                            ": cannot read the recorded steps: a damaged rollup "
                                            "row of " +
                                            h->step};
        }
      }
    }
    first = last;
  }
  return groups;
}

// Sets r.outcome, and returns the baseline to store for it, if any: the first one for its
// key, or one that replaces the active baseline because a percentile moved enough (or
// because it was forced).
std::optional<Baseline> decide(ComputeResult& r, const ComputeOptions& o, std::int64_t now) {
  if (r.summary.n < o.min_samples) {
    r.outcome = BaselineOutcome::too_few_samples;
    return std::nullopt;
  }
  Baseline b;
  b.key = r.key;
  b.summary = r.summary;
  b.computed_us = now;
  b.window = o.window;
  b.multiplier = o.multiplier;
  b.min_change = o.min_change;
  if (!r.previous) {
    b.reason = "first";
    r.outcome = BaselineOutcome::stored;
    return b;
  }
  if (o.force) {
    b.reason = "forced";
  } else if (r.largest_move && std::fabs(r.largest_move->change) > o.min_change) {
    b.reason = "moved";
  } else {
    r.outcome = BaselineOutcome::kept;
    return std::nullopt;
  }
  r.outcome = BaselineOutcome::replaced;
  b.replaces_id = r.previous->id;
  return b;
}

}  // namespace

const char* to_string(BaselineOutcome outcome) {
  switch (outcome) {
    case BaselineOutcome::stored:
      return "stored";
    case BaselineOutcome::replaced:
      return "replaced";
    case BaselineOutcome::kept:
      return "kept";
    case BaselineOutcome::too_few_samples:
      return "too_few_samples";
  }
  return "kept";
}

Result<std::vector<ComputeResult>> compute_baselines(Store& store, const ComputeOptions& o) {
  const std::int64_t now = o.now_us ? o.now_us : now_unix_us();
  auto groups = gather(store, o, now - o.window.us);
  if (!groups) return groups.error();
  // A step asked for by name is reported even with no run in the window (0 of the needed).
  if (!o.step.empty() && o.scope == BaselineScope::all) (*groups)[{o.step, "", ""}];

  std::vector<ComputeResult> results;
  for (auto& [key, group] : *groups) {
    ComputeResult r;
    r.key = {std::get<0>(key), o.scope, std::get<1>(key), std::get<2>(key)};
    r.summary = group.timing.finish();
    r.failures = group.failures;
    results.push_back(std::move(r));
  }

  // Decide and write under the write lock, so two computations at once cannot both replace
  // the same baseline.
  Status written = store.update_baselines([&](BaselineUpdate& baselines) -> Status {
    for (ComputeResult& r : results) {
      auto previous = baselines.active(r.key);
      if (!previous) return previous.error();
      r.previous = *previous;
      if (r.previous) {
        r.baseline_id = r.previous->id;
        if (r.summary.n > 0) r.largest_move = largest_move(r.previous->summary, r.summary);
      }
      std::optional<Baseline> next = decide(r, o, now);
      if (!next) continue;
      auto id = baselines.activate(*next);
      if (!id) return id.error();
      r.baseline_id = *id;
    }
    return {};
  });
  if (!written) return written.error();
  return results;
}

std::optional<Duration> threshold_for(const Thresholds& t, std::string_view step) {
  if (step == "commit") return t.commit;
  if (step == "rollback") return t.rollback;
  if (step == "validate") return t.validate;
  if (step == "recover") return t.recover;
  return std::nullopt;
}

std::vector<BaselineHeadroom> with_headroom(const std::vector<Baseline>& baselines,
                                            const Thresholds& thresholds) {
  std::vector<BaselineHeadroom> out;
  for (const Baseline& b : baselines) {
    BaselineHeadroom h{b, threshold_for(thresholds, b.key.step), std::nullopt, std::nullopt};
    if (h.threshold && !std::isnan(b.summary.p99)) {
      double t = static_cast<double>(h.threshold->us);
      h.headroom_us = t - b.summary.p99;
      if (t > 0) h.headroom_pct = *h.headroom_us / t * 100.0;
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace perfguard
