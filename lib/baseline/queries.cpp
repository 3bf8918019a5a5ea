#include "baseline/queries.h"

#include <algorithm>
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

}  // namespace

Result<std::vector<StepStats>> step_stats(Store& store, const StatsQuery& query) {
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
  return store.slowest_steps(query.since_us, query.limit, query.step, query.spans);
}

}  // namespace perfguard
