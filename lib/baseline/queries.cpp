#include "baseline/queries.h"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <map>
#include <utility>

#include "core/clock.h"
#include "stats/histogram.h"
#include "stats/summary.h"

namespace perfguard {

namespace {

constexpr std::int64_t kDayUs = 24 * kHourUs;

// Floor division, so a time before 1970 falls in the period that contains it.
std::int64_t floor_to(std::int64_t t, std::int64_t period) {
  std::int64_t q = t / period;
  if (t % period < 0) --q;
  return q * period;
}

Error damaged(Store& store) {
  return Error{ExitCode::store,
               store.path().string() + ": cannot read the recorded steps: a damaged rollup row"};
}

// Calls `visit` with each run of `step` (every step when empty) started at or after
// `since_us` that `filter` matches.
Status for_each_matching_run(Store& store, const std::string& step, std::int64_t since_us,
                             const RunFilter& filter,
                             const std::function<void(const StepRecord&)>& visit) {
  StepQuery query;
  query.step = step;
  query.since_us = since_us;
  query.where_ran = filter;
  return store.for_each_step(query, [&](StepRecord& run) -> Status {
    visit(run);
    return {};
  });
}

Result<std::vector<StepStats>> filtered_step_stats(Store& store, const StatsQuery& query) {
  std::map<std::string, std::pair<StatusCounts, SummaryBuilder>> by_step;
  Status read = store.for_each_sample(
      query.step, query.since_us, /*with_context=*/false,
      [&](const StepSample& run) {
        auto& [counts, timing] = by_step[run.step];
        counts.add(run.status);
        if (is_completed(run.status)) timing.add(run.duration_us);
      },
      query.filter);
  if (!read) return read.error();
  std::vector<StepStats> out;
  for (auto& [step, group] : by_step) out.push_back({step, group.first, group.second.finish()});
  return out;
}

// What the store's slowest_steps returns, read from one run: its direct child spans,
// slowest first (in their order when as slow), at most `spans` of them.
SlowStep slow_step(const StepRecord& run, int spans) {
  SlowStep slow;
  slow.trace_id = run.trace_id;
  slow.step = run.step;
  slow.started_us = run.root.start_us;
  slow.duration = run.root.duration;
  slow.status = run.status;
  slow.threshold = run.threshold;
  slow.repo = run.context.repo;
  slow.branch = run.context.branch;
  slow.children = run.root.children;
  for (Span& child : slow.children) child.children.clear();
  std::stable_sort(slow.children.begin(), slow.children.end(),
                   [](const Span& a, const Span& b) { return a.duration > b.duration; });
  if (slow.children.size() > static_cast<std::size_t>(std::max(0, spans))) {
    slow.children.resize(static_cast<std::size_t>(std::max(0, spans)));
  }
  return slow;
}

Result<std::vector<SlowStep>> filtered_slowest_steps(Store& store, const SlowestQuery& query) {
  const auto limit = static_cast<std::size_t>(std::max(0, query.limit));
  std::vector<SlowStep> slowest;
  bool full = false;  // slowest holds the `limit` slowest so far, in order
  auto keep_slowest = [&] {
    std::sort(slowest.begin(), slowest.end(), slower);
    if (slowest.size() > limit) slowest.resize(limit);
    full = slowest.size() == limit;
  };
  if (limit == 0) return slowest;
  Status read = for_each_matching_run(
      store, query.step, query.since_us, query.filter, [&](const StepRecord& run) {
        if (full && slowest.size() == limit) {
          const SlowStep& last = slowest.back();
          if (run.root.duration != last.duration ? run.root.duration < last.duration
                                                 : run.root.start_us < last.started_us) {
            return;  // not among the slowest so far (as slow and as late: the order decides)
          }
        }
        slowest.push_back(slow_step(run, query.spans));
        if (slowest.size() >= 2 * limit) keep_slowest();
      });
  if (!read) return read.error();
  keep_slowest();
  return slowest;
}

}  // namespace

Result<std::vector<StepStats>> step_stats(Store& store, const StatsQuery& query) {
  if (!query.filter.empty()) return filtered_step_stats(store, query);
  auto hours = store.step_hours(query.step, query.since_us);
  if (!hours) return hours.error();

  // Per step: its rollups when it has more than kExactSamples completed runs in range, else
  // its runs, read after.
  std::vector<StepStats> out;
  std::vector<std::size_t> exact;  // indexes into out
  for (auto first = hours->begin(); first != hours->end();) {
    StepStats stats{first->step, {}, {}};
    auto last = first;
    for (; last != hours->end() && last->step == first->step; ++last) {
      stats.counts += last->counts;
    }
    if (stats.counts.completed() <= kExactSamples) {
      exact.push_back(out.size());
    } else {
      SummaryBuilder timing;
      for (auto h = first; h != last; ++h) {
        if (!timing.add(h->timing, h->histogram)) return damaged(store);
      }
      stats.timing = timing.finish();
    }
    out.push_back(std::move(stats));
    first = last;
  }
  if (exact.empty()) return out;

  // One read of every run when every step is exact; else one per exact step.
  std::vector<std::string> reads;
  if (exact.size() == out.size()) {
    reads.push_back(query.step);
  } else {
    for (std::size_t i : exact) reads.push_back(out[i].step);
  }
  std::map<std::string, std::pair<StatusCounts, SummaryBuilder>> by_step;
  for (const std::string& step : reads) {
    auto samples = store.step_samples(step, query.since_us);
    if (!samples) return samples.error();
    for (const StepSample& s : *samples) {
      auto& [counts, timing] = by_step[s.step];
      counts.add(s.status);
      if (is_completed(s.status)) timing.add(s.duration_us);
    }
  }
  for (std::size_t i : exact) {
    auto& [counts, timing] = by_step[out[i].step];
    out[i].counts = counts;  // counted with the runs timed, in the same read
    out[i].timing = timing.finish();
  }
  std::erase_if(out, [](const StepStats& s) { return s.counts.total() == 0; });
  return out;
}

const char* to_string(TrendPeriod period) {
  return period == TrendPeriod::hour ? "hour" : "day";
}

std::optional<TrendPeriod> parse_trend_period(std::string_view text) {
  if (text == "day") return TrendPeriod::day;
  if (text == "hour") return TrendPeriod::hour;
  return std::nullopt;
}

std::int64_t trend_start(const TrendQuery& query, std::int64_t now_us) {
  const std::int64_t period = query.by == TrendPeriod::hour ? kHourUs : kDayUs;
  const std::int64_t periods =
      std::max(1, query.days) * (query.by == TrendPeriod::hour ? std::int64_t{24} : 1);
  return floor_to(now_us, period) - (periods - 1) * period;
}

Result<std::vector<TrendPoint>> step_trend(Store& store, const TrendQuery& query) {
  const std::int64_t now = query.now_us ? query.now_us : now_unix_us();
  const std::int64_t period = query.by == TrendPeriod::hour ? kHourUs : kDayUs;
  const std::int64_t since = trend_start(query, now);
  if (!query.filter.empty()) {
    std::map<std::pair<std::string, std::int64_t>, std::pair<StatusCounts, SummaryBuilder>> groups;
    Status read = store.for_each_sample(
        query.step, since, /*with_context=*/false,
        [&](const StepSample& run) {
          auto& [counts, timing] = groups[{run.step, floor_to(run.started_us, period)}];
          counts.add(run.status);
          if (is_completed(run.status)) timing.add(run.duration_us);
        },
        query.filter);
    if (!read) return read.error();
    std::vector<TrendPoint> out;
    for (auto& [key, group] : groups) {
      out.push_back({key.first, key.second, group.first, group.second.finish()});
    }
    return out;
  }
  auto hours = store.step_hours(query.step, since);
  if (!hours) return hours.error();
  std::int64_t completed = 0;
  for (const StepHour& h : *hours) completed += h.counts.completed();

  std::vector<TrendPoint> out;
  if (completed <= kExactSamples) {
    auto samples = store.step_samples(query.step, since);
    if (!samples) return samples.error();
    std::map<std::pair<std::string, std::int64_t>, std::pair<StatusCounts, SummaryBuilder>> groups;
    for (const StepSample& s : *samples) {
      auto& [counts, timing] = groups[{s.step, floor_to(s.started_us, period)}];
      counts.add(s.status);
      if (is_completed(s.status)) timing.add(s.duration_us);
    }
    for (auto& [key, group] : groups) {
      out.push_back({key.first, key.second, group.first, group.second.finish()});
    }
    return out;
  }

  SummaryBuilder timing;
  auto finish = [&] {
    if (!out.empty()) out.back().timing = timing.finish();
  };
  for (const StepHour& h : *hours) {  // ordered by step, then hour
    const std::int64_t start = floor_to(h.hour * kHourUs, period);
    if (out.empty() || out.back().step != h.step || out.back().start_us != start) {
      finish();
      out.push_back({h.step, start, {}, {}});
    }
    out.back().counts += h.counts;
    // Every point of the range from the rollups, however few runs it holds: one method.
    if (!timing.add(h.timing, h.histogram)) return damaged(store);
  }
  finish();
  return out;
}

Result<std::vector<SlowStep>> slowest_steps(Store& store, const SlowestQuery& query) {
  if (!query.filter.empty()) return filtered_slowest_steps(store, query);
  return store.slowest_steps(query.since_us, query.limit, query.step, query.spans);
}

}  // namespace perfguard
