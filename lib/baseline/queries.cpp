#include "baseline/queries.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/clock.h"
#include "stats/histogram.h"

namespace perfguard {

namespace {

constexpr std::int64_t kDayUs = 24 * kHourUs;

// Floor division, so a time before 1970 falls in the period that contains it.
std::int64_t floor_to(std::int64_t t, std::int64_t period) {
  std::int64_t q = t / period;
  if (t % period < 0) --q;
  return q * period;
}

}  // namespace

Result<std::vector<StepStats>> step_stats(Store& store, const StatsQuery& query) {
  auto hours = store.step_hours(query.step, query.since_us);
  if (!hours) return hours.error();
  std::int64_t completed = 0;
  for (const StepHour& h : *hours) completed += h.counts.completed();

  std::vector<StepStats> out;
  if (completed <= kExactSamples) {
    auto samples = store.step_samples(query.step, query.since_us);
    if (!samples) return samples.error();
    std::map<std::string, std::pair<StatusCounts, std::vector<std::int64_t>>> by_step;
    for (const StepSample& s : *samples) {
      auto& [counts, durations] = by_step[s.step];
      counts.add(s.status);
      if (is_completed(s.status)) durations.push_back(s.duration_us);
    }
    for (auto& [step, group] : by_step) {
      std::sort(group.second.begin(), group.second.end());
      out.push_back({step, group.first, summarize(group.second), true});
    }
    return out;
  }

  Moments timing;
  DurationHistogram histogram;
  auto finish = [&] {
    if (out.empty()) return;
    out.back().timing = summarize(timing, histogram);
    timing = {};
    histogram.clear();
  };
  for (const StepHour& h : *hours) {  // ordered by step
    if (out.empty() || out.back().step != h.step) {
      finish();
      out.push_back({h.step, {}, {}, false});
    }
    out.back().counts += h.counts;
    timing.merge(h.timing);
    if (!histogram.decode(reinterpret_cast<const unsigned char*>(h.histogram.data()),
                          h.histogram.size())) {
      return Error{ExitCode::store, store.path().string() +
                                        ": cannot read the recorded steps: a damaged rollup row"};
    }
  }
  finish();
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
  auto hours = store.step_hours(query.step, since);
  if (!hours) return hours.error();
  std::int64_t completed = 0;
  for (const StepHour& h : *hours) completed += h.counts.completed();

  std::vector<TrendPoint> out;
  if (completed <= kExactSamples) {
    auto samples = store.step_samples(query.step, since);
    if (!samples) return samples.error();
    std::map<std::pair<std::string, std::int64_t>,
             std::pair<StatusCounts, std::vector<std::int64_t>>>
        groups;
    for (const StepSample& s : *samples) {
      auto& [counts, durations] = groups[{s.step, floor_to(s.started_us, period)}];
      counts.add(s.status);
      if (is_completed(s.status)) durations.push_back(s.duration_us);
    }
    for (auto& [key, group] : groups) {
      std::sort(group.second.begin(), group.second.end());
      out.push_back({key.first, key.second, group.first, summarize(group.second), true});
    }
    return out;
  }

  Moments timing;
  DurationHistogram histogram;
  auto finish = [&] {
    if (out.empty()) return;
    out.back().timing = summarize(timing, histogram);
    timing = {};
    histogram.clear();
  };
  for (const StepHour& h : *hours) {  // ordered by step, then hour
    const std::int64_t start = floor_to(h.hour * kHourUs, period);
    if (out.empty() || out.back().step != h.step || out.back().start_us != start) {
      finish();
      out.push_back({h.step, start, {}, {}, false});
    }
    out.back().counts += h.counts;
    timing.merge(h.timing);
    if (!histogram.decode(reinterpret_cast<const unsigned char*>(h.histogram.data()),
                          h.histogram.size())) {
      return Error{ExitCode::store, store.path().string() +
                                        ": cannot read the recorded steps: a damaged rollup row"};
    }
  }
  finish();
  return out;
}

Result<std::vector<SlowStep>> slowest_steps(Store& store, const SlowestQuery& query) {
  return store.slowest_steps(query.since_us, query.limit, query.step, query.spans);
}

}  // namespace perfguard
