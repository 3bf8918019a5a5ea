#pragma once
// `perf-baseline report`: one self-contained HTML file of the recorded steps. Inline CSS and
// inline SVG (report/svg.h), no script, no external resource of any kind (a Content
// Security Policy says so to the browser), so it opens from disk, offline, and can be
// attached to a CI job or an incident ticket as it is.
//
// Collecting (from the store) and rendering (pure) are apart, so the page is testable
// without a store.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/duration.h"
#include "core/result.h"
#include "report/svg.h"
#include "stats/statistics.h"
#include "store/step_reads.h"
#include "store/store.h"
#include "trace/run_filter.h"

namespace perfguard {

// At most this many runs are drawn per chart: every breach, and evenly spaced others
// (the table's statistics always use every run).
inline constexpr std::size_t kMaxChartPoints = 4000;

struct ReportRun {
  std::int64_t started_us = 0;
  std::int64_t duration_us = 0;
  StepStatus status = StepStatus::ok;
};

// A direct child span of a step (commit's add and commit, rollback's snapshot and reset):
// its durations over the step's completed runs that have it.
struct ReportSpan {
  std::string name;
  Summary timing;
};

struct ReportStep {
  std::string name;
  std::vector<ReportRun> runs;  // completed runs (ok, breach), oldest first
  StatusCounts counts;          // every run, however it ended
  Summary timing;               // over the completed runs
  std::optional<Duration> threshold;
  std::optional<double> baseline_p99_us;  // the active baseline's, when there is one
  std::vector<ReportSpan> spans;          // in the order they run
};

struct Report {
  std::int64_t generated_us = 0;
  std::optional<std::int64_t> since_us;    // the range asked for; nothing: all time
  std::int64_t first_us = 0, last_us = 0;  // of the runs found
  std::vector<std::string> repositories;   // the work trees the runs come from
  std::vector<ReportStep> steps;           // by name
  std::size_t run_count() const;
};

struct ReportQuery {
  std::string step;                      // empty: every step
  std::optional<std::int64_t> since_us;  // started at or after; nothing: all
  std::int64_t now_us = 0;
  Thresholds thresholds;  // the configured ones, drawn as the threshold line
  RunFilter filter;       // empty: every run
};

Result<Report> collect_report(Store& store, const ReportQuery& query);

// The rolling median and p95 of a step's durations that its time chart draws: at
// kRollingPoints evenly spaced times, over the runs in the trailing `window_us` before each.
// The window is the shortest of 1m, 5m, 15m, 30m, 1h, 2h, 6h, 12h, 1d, 2d, 3d, 7d, 14d, 30d
// that is at least a thirtieth of the runs' span and holds kRollingWindowRuns runs on
// average; a time whose window holds fewer than kRollingMinRuns runs is a gap. Nothing (no
// window, no points) with fewer than 2 * kRollingWindowRuns runs or no such window within
// half the span.
inline constexpr int kRollingPoints = 150;
inline constexpr std::size_t kRollingWindowRuns = 20;
inline constexpr std::size_t kRollingMinRuns = 5;

struct RollingSeries {
  std::int64_t window_us = 0;  // 0: none
  std::vector<RollingPoint> points;
};

RollingSeries rolling_quantiles(const std::vector<ReportRun>& runs);

// The whole page. With no steps it is a page that says there is no data.
std::string render_html_report(const Report& report);

// Writes the page to `path` through a temporary file beside it renamed into place, so no
// reader sees half a report. Errors are ExitCode::step_failed naming the file.
Status write_report_file(const std::filesystem::path& path, const std::string& html);

}  // namespace perfguard
