#pragma once
// How perf-baseline prints its results: aligned text (with inline charts) for people, and
// the table formats for scripts. Field names of json, jsonl, csv and tsv are a contract
// (see table.h); durations there are microseconds (`_us`, fractional where interpolated),
// times ISO-8601 UTC (`_at`) with the same instant in Unix microseconds (`_us`).
//
//   compute: step, scope, repo, branch, result (stored, replaced, kept, too_few_samples),
//            baseline_id, n, needed, failures, window_us, min_us, p50_us, p75_us, p90_us,
//            p95_us, p99_us, max_us, mean_us, stddev_us, mad_us, multiplier, min_change,
//            previous_id, moved_percentile, moved_from_us, moved_to_us, moved_change, method
//   show:    id, step, scope, repo, branch, computed_at, computed_us, window_us, n, min_us,
//            p50_us, p75_us, p90_us, p95_us, p99_us, max_us, mean_us, stddev_us, mad_us,
//            multiplier, reason, threshold_us, headroom_us, headroom_pct, method
//   stats:   step, count, n, ok, breaches, failures, failed, timeouts, interrupted, mean_us,
//            stddev_us, min_us, p50_us, p75_us, p90_us, p95_us, p99_us, max_us, mad_us,
//            exact (false: percentiles and MAD from the hourly histograms; see queries.h),
//            method
//   trend:   step, period, start, start_us, count, n, breaches, failures, mean_us, p50_us,
//            p95_us, p99_us, max_us, exact, method
//
// `method` is `exact` or `histogram` (stats/statistics.h, SummaryMethod): how the row's
// percentiles and MAD were found.
//   slowest: trace_id, step, status, started_at, started_us, duration_us, threshold_us,
//            repo, branch, spans ([{name, offset_us, duration_us, exit_code}], in CSV
//            `name:duration_us;…`)
//
// `n` is always the number of completed runs the timings come from; `count` all runs.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "baseline/baseline.h"
#include "baseline/queries.h"
#include "output/report.h"

namespace perfguard {

struct RenderContext {
  std::FILE* out = stdout;
  Format format = Format::text;
  bool unicode = false;     // block characters in charts (see unicode_charts)
  std::int64_t now_us = 0;  // for "in the last …" and ages
};

// Whether charts may use Unicode block characters: the stream is a terminal and the locale
// (LC_ALL, else LC_CTYPE, else LANG) is UTF-8.
bool unicode_charts(std::FILE* stream);

// A bar for `value`, `width` characters at `scale`: solid up to `value`, shaded on up to
// `extent` (a second, larger value, say p95 beside p50; 0 for none). ASCII draws `#` and
// `-`; Unicode draws full and eighth blocks and light shade.
std::string chart_bar(double value, double extent, double scale, int width, bool unicode);

// "the last 7d", or "all time" for a window of 0; in_window: " in the last 7d", or "".
std::string describe_window(Duration window);
std::string in_window(Duration window);

void print_compute(const RenderContext& rc, const std::vector<ComputeResult>& results,
                   const ComputeOptions& options);
void print_show(const RenderContext& rc, const std::vector<BaselineHeadroom>& baselines);
void print_stats(const RenderContext& rc, const std::vector<StepStats>& stats, Duration window);
void print_trend(const RenderContext& rc, const std::vector<TrendPoint>& points,
                 const TrendQuery& query);
void print_slowest(const RenderContext& rc, const std::vector<SlowStep>& steps, Duration window);

}  // namespace perfguard
