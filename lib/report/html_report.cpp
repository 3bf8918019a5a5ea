#include "report/html_report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "baseline/baseline.h"
#include "output/output_file.h"
#include "report/svg.h"
#include "stats/summary.h"

namespace perfguard {

namespace {

std::string utc(std::int64_t unix_us) {
  std::time_t t = static_cast<std::time_t>(unix_us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string cell(double us) {
  return std::isfinite(us) ? duration_label(us) : "–";
}

// Keeps every breach and evenly spaced other runs, at most kMaxChartPoints in all.
std::vector<ChartPoint> chart_points(const std::vector<ReportRun>& runs) {
  std::size_t breaches = 0;
  for (const auto& r : runs) breaches += r.status == StepStatus::breach;
  const std::size_t others = runs.size() - breaches;
  const std::size_t room = kMaxChartPoints > breaches ? kMaxChartPoints - breaches : 1;
  const double stride = runs.size() <= kMaxChartPoints
                            ? 1.0
                            : static_cast<double>(others) / static_cast<double>(room);
  std::vector<ChartPoint> out;
  double next = 0;
  std::size_t i = 0;
  for (const auto& r : runs) {
    const bool breach = r.status == StepStatus::breach;
    if (!breach) {
      const bool keep = static_cast<double>(i++) >= next;
      if (!keep) continue;
      next += stride;
    }
    out.push_back({r.started_us, static_cast<double>(r.duration_us), breach});
  }
  return out;
}

std::vector<ChartLine> reference_lines(const ReportStep& s) {
  std::vector<ChartLine> lines;
  if (s.threshold) {
    lines.push_back({static_cast<double>(s.threshold->us),
                     "threshold " + format_duration(*s.threshold), chart_colour::threshold,
                     "threshold", chart_colour::threshold_text});
  }
  if (s.baseline_p99_us && std::isfinite(*s.baseline_p99_us)) {
    lines.push_back({*s.baseline_p99_us, "baseline p99 " + duration_label(*s.baseline_p99_us),
                     chart_colour::baseline, "baseline", chart_colour::baseline_text});
  }
  return lines;
}

// "3d", "12h", "5m": a rolling window in the caption.
std::string window_label(std::int64_t us) {
  constexpr std::int64_t minute = 60'000'000, hour = 60 * minute, day = 24 * hour;
  if (us % day == 0) return std::to_string(us / day) + "d";
  if (us % hour == 0) return std::to_string(us / hour) + "h";
  return std::to_string(us / minute) + "m";
}

// The nearest-rank quantile of `values` (reordered).
double nearest_rank(std::vector<std::int64_t>& values, double q) {
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  const std::size_t index = std::clamp<std::size_t>(rank, 1, values.size()) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return static_cast<double>(values[index]);
}

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:960px;color:#222;background:#fff;padding:0 16px}
h1{font-size:1.5em;margin:0 0 4px;overflow-wrap:anywhere}h2{font-size:1.2em;margin:32px 0 4px;
border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;margin:0 0 16px}
table.summary{border-collapse:collapse;font-size:.92em;margin:8px 0 16px}
table.summary th,table.summary td{padding:4px 10px;border-bottom:1px solid #e5e5e5;
text-align:right}
table.summary th:first-child,table.summary td:first-child{text-align:left}
table.summary td.bad{color:#b01d1e;font-weight:600}
table.summary caption{text-align:left;font-size:.88em;color:#444;padding:0 0 4px}
h3{font-size:1em;margin:16px 0 2px;color:#333}
.legend{font-size:.88em;color:#444;margin:4px 0}
.legend span{margin-right:16px;white-space:nowrap}
.swatch{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;
vertical-align:middle}
.dash{display:inline-block;width:18px;border-top:2px dashed;margin-right:4px;
vertical-align:middle}
figure{margin:8px 0}figcaption{font-size:.85em;color:#555}
svg{max-width:100%;height:auto;display:block}
.empty{font-size:1.1em;color:#555;padding:32px 0}
footer{margin-top:40px;font-size:.8em;color:#595959}
.line{display:inline-block;width:18px;border-top:2px solid;margin-right:4px;
vertical-align:middle}
)";

void append_summary_table(std::string& html, const Report& report) {
  html +=
      "<h2 id=\"summary\">Summary</h2>\n"
      "<table class=\"summary\"><thead><tr><th scope=\"col\">step</th><th scope=\"col\">runs"
      "</th><th scope=\"col\">n</th><th scope=\"col\">p50</th><th scope=\"col\">p95</th>"
      "<th scope=\"col\">p99</th><th scope=\"col\">max</th><th scope=\"col\">breaches</th>"
      "<th scope=\"col\">failures</th><th scope=\"col\">threshold</th>"
      "<th scope=\"col\">baseline p99</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < report.steps.size(); ++i) {
    const ReportStep& s = report.steps[i];
    const bool has_timing = s.timing.n > 0;
    html += "<tr><td><a href=\"#step-" + std::to_string(i + 1) + "\">" + escape_html(s.name) +
            "</a></td><td>" + std::to_string(s.counts.total()) + "</td><td>" +
            std::to_string(s.timing.n) + "</td><td>" + (has_timing ? cell(s.timing.p50) : "–") +
            "</td><td>" + (has_timing ? cell(s.timing.p95) : "–") + "</td><td>" +
            (has_timing ? cell(s.timing.p99) : "–") + "</td><td>" +
            (has_timing ? cell(s.timing.max) : "–") + "</td><td" +
            (s.counts.breach ? " class=\"bad\"" : "") + ">" + std::to_string(s.counts.breach) +
            "</td><td" + (s.counts.failures() ? " class=\"bad\"" : "") + ">" +
            std::to_string(s.counts.failures()) + "</td><td>" +
            (s.threshold ? escape_html(format_duration(*s.threshold)) : "–") + "</td><td>" +
            (s.baseline_p99_us ? cell(*s.baseline_p99_us) : "–") + "</td></tr>\n";
  }
  html += "</tbody></table>\n";
}

// The step's child spans: a table of each one's median and p95 (and how many runs had it),
// beside the step's own.
void append_span_table(std::string& html, const ReportStep& s, const std::string& id) {
  if (s.spans.empty()) return;
  html += "<h3 id=\"" + id + "-spans\">Spans of " + escape_html(s.name) +
          "</h3>\n<table class=\"summary spans\" aria-labelledby=\"" + id +
          "-spans\"><thead><tr><th scope=\"col\">span</th><th scope=\"col\">runs</th>"
          "<th scope=\"col\">p50</th><th scope=\"col\">p95</th><th scope=\"col\">share of "
          "the step's p50</th></tr></thead><tbody>\n";
  for (const ReportSpan& span : s.spans) {
    const bool share = s.timing.n > 0 && s.timing.p50 > 0;
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.0f%%", share ? 100 * span.timing.p50 / s.timing.p50 : 0.0);
    html += "<tr><th scope=\"row\">" + escape_html(span.name) + "</th><td>" +
            std::to_string(span.timing.n) + "</td><td>" + cell(span.timing.p50) + "</td><td>" +
            cell(span.timing.p95) + "</td><td>" + (share ? pct : "–") + "</td></tr>\n";
  }
  html += "<tr class=\"whole\"><th scope=\"row\">" + escape_html(s.name) +
          " (whole step)</th><td>" + std::to_string(s.timing.n) + "</td><td>" + cell(s.timing.p50) +
          "</td><td>" + cell(s.timing.p95) + "</td><td>100%</td></tr>\n</tbody></table>\n";
}

std::string time_chart_description(const ReportStep& s, const RollingSeries& rolling) {
  std::string d = std::to_string(s.runs.size()) + (s.runs.size() == 1 ? " run" : " runs") +
                  " from " + utc(s.runs.front().started_us) + " to " +
                  utc(s.runs.back().started_us) + ", " + std::to_string(s.counts.breach) +
                  (s.counts.breach == 1 ? " breach" : " breaches") + "; p50 " + cell(s.timing.p50) +
                  ", p95 " + cell(s.timing.p95) + ", max " + cell(s.timing.max) + ".";
  if (!rolling.points.empty()) {
    const RollingPoint &first = rolling.points.front(), &last = rolling.points.back();
    d += " Rolling " + window_label(rolling.window_us) + " median from " + cell(first.median_us) +
         " to " + cell(last.median_us) + ", rolling p95 from " + cell(first.p95_us) + " to " +
         cell(last.p95_us) + ".";
  }
  for (const auto& l : reference_lines(s)) d += " Line: " + l.label + ".";
  return d;
}

std::string histogram_description(const ReportStep& s, const HistogramBins& bins) {
  std::size_t peak = 0;
  for (std::size_t b = 0; b < bins.counts.size(); ++b) {
    if (bins.counts[b] > bins.counts[peak]) peak = b;
  }
  std::string d = std::to_string(bins.counts.size()) + " bars from " + cell(bins.edges.front()) +
                  " to " + cell(bins.edges.back()) + (bins.log ? " (log scale)" : "") +
                  "; the most runs, " +
                  std::to_string(bins.counts.empty() ? 0 : bins.counts[peak]) + ", between " +
                  cell(bins.edges[peak]) + " and " + cell(bins.edges[peak + 1]) + ".";
  if (bins.tail > 0) {
    d += " " + std::to_string(bins.tail) + (bins.tail == 1 ? " run" : " runs") + " above " +
         cell(bins.tail_from) + ", the slowest " + cell(bins.tail_max) + ".";
  }
  d += " p50 " + cell(s.timing.p50) + ", p95 " + cell(s.timing.p95) + ", p99 " +
       cell(s.timing.p99) + ".";
  return d;
}

void append_step(std::string& html, const Report& report, std::size_t index) {
  const ReportStep& s = report.steps[index];
  const std::vector<ChartLine> lines = reference_lines(s);
  const std::string id = "step-" + std::to_string(index + 1);
  html += "<section class=\"step\" id=\"" + id + "\" aria-labelledby=\"" + id + "-name\">\n" +
          "<h2 id=\"" + id + "-name\">" + escape_html(s.name) + "</h2>\n";
  if (s.runs.empty()) {
    html += "<p class=\"empty\">No completed run of " + escape_html(s.name) + " in this range (" +
            std::to_string(s.counts.failures()) + " failed, killed or interrupted).</p>\n";
    html += "</section>\n";
    return;
  }
  const RollingSeries rolling = rolling_quantiles(s.runs);
  auto legend = [&](bool with_rolling) {
    std::string l = "<div class=\"legend\"><span><i class=\"swatch\" style=\"background:" +
                    std::string(chart_colour::ok) + "\"></i>run</span><span><i class=\"swatch\" " +
                    "style=\"background:" + chart_colour::breach + "\"></i>breach (" +
                    std::to_string(s.counts.breach) + ")</span>";
    if (with_rolling) {
      l += "<span><i class=\"line\" style=\"border-color:" + std::string(chart_colour::median) +
           "\"></i>rolling median</span><span><i class=\"line\" style=\"border-color:" +
           chart_colour::p95 + "\"></i>rolling p95</span>";
    }
    for (const auto& line : lines) {
      l += "<span><i class=\"dash\" style=\"border-color:" + line.colour + "\"></i>" +
           escape_html(line.label) + "</span>";
    }
    return l + "</div>\n";
  };

  TimeChart chart;
  chart.points = chart_points(s.runs);
  chart.rolling = rolling.points;
  chart.lines = lines;
  chart.from_us = report.since_us ? std::max(*report.since_us, report.first_us) : report.first_us;
  chart.from_us = std::min(chart.from_us, s.runs.front().started_us);
  chart.to_us = report.last_us;
  chart.id = id + "-time";
  chart.title = s.name + ": duration of each run over time";
  chart.description = time_chart_description(s, rolling);
  html += "<h3>Durations over time</h3>\n" + legend(!rolling.points.empty());
  html += "<figure>" + render_time_chart(chart) + "<figcaption>Duration of each run over time";
  if (chart.points.size() < s.runs.size()) {
    html += " (" + std::to_string(chart.points.size()) + " of " + std::to_string(s.runs.size()) +
            " runs drawn: every breach, and evenly spaced others)";
  }
  if (!rolling.points.empty()) {
    html += ". Lines: the median and the p95 of every run in the trailing " +
            window_label(rolling.window_us) + " window, at " +
            std::to_string(rolling.points.size()) +
            " times (a gap where the window holds fewer than " + std::to_string(kRollingMinRuns) +
            " runs)";
  } else {
    html += ". No rolling median or p95: too few runs (they need " +
            std::to_string(2 * kRollingWindowRuns) + " or more, " +
            std::to_string(kRollingWindowRuns) + " to a window of at most half their span)";
  }
  html += ".</figcaption></figure>\n";

  HistogramChart hist;
  hist.durations_us.reserve(s.runs.size());
  for (const auto& r : s.runs) hist.durations_us.push_back(static_cast<double>(r.duration_us));
  hist.lines = lines;
  hist.id = id + "-distribution";
  hist.title = s.name + ": distribution of durations";
  const HistogramBins bins = histogram_bins(hist.durations_us, hist.bins, hist.fold_quantile);
  hist.description = histogram_description(s, bins);
  html += "<h3>Distribution</h3>\n<figure>" + render_histogram(hist) +
          "<figcaption>Distribution of " + std::to_string(s.runs.size()) +
          (s.runs.size() == 1 ? " run" : " runs") + ": p50 " + cell(s.timing.p50) + ", p95 " +
          cell(s.timing.p95) + ", p99 " + cell(s.timing.p99);
  if (bins.tail > 0) {
    html += ". The " + std::to_string(bins.tail) + (bins.tail == 1 ? " run" : " runs") +
            " slower than " + cell(bins.tail_from) + " (1.5 times the p99), up to " +
            cell(bins.tail_max) + ", are one bar at the right";
  }
  if (bins.log) html += "; the duration axis is logarithmic";
  html += ".</figcaption></figure>\n";
  append_span_table(html, s, id);
  html += "</section>\n";
}

}  // namespace

std::size_t Report::run_count() const {
  std::size_t n = 0;
  for (const auto& s : steps) n += static_cast<std::size_t>(s.counts.total());
  return n;
}

RollingSeries rolling_quantiles(const std::vector<ReportRun>& runs) {
  RollingSeries out;
  if (runs.size() < 2 * kRollingWindowRuns) return out;
  const std::int64_t first = runs.front().started_us, last = runs.back().started_us;
  const std::int64_t span = last - first;
  if (span <= 0) return out;
  constexpr std::int64_t m = 60'000'000, h = 60 * m, d = 24 * h;
  static constexpr std::int64_t windows[] = {m,      5 * m, 15 * m, 30 * m, h,     2 * h,  6 * h,
                                             12 * h, d,     2 * d,  3 * d,  7 * d, 14 * d, 30 * d};
  const double runs_per_us = static_cast<double>(runs.size()) / static_cast<double>(span);
  for (std::int64_t w : windows) {
    if (w * 30 >= span && static_cast<double>(w) * runs_per_us >= kRollingWindowRuns) {
      out.window_us = w;
      break;
    }
  }
  if (out.window_us == 0 || out.window_us * 2 > span) {
    out.window_us = 0;
    return out;
  }
  std::vector<std::int64_t> window;
  std::size_t begin = 0, end = 0;  // runs[begin, end): the window ending at t
  bool gap = false;
  for (int k = 0; k < kRollingPoints; ++k) {
    const std::int64_t t =
        first + static_cast<std::int64_t>(static_cast<double>(span) * k / (kRollingPoints - 1));
    while (end < runs.size() && runs[end].started_us <= t) ++end;
    while (begin < end && runs[begin].started_us <= t - out.window_us) ++begin;
    if (end - begin < kRollingMinRuns) {
      gap = true;
      continue;
    }
    window.clear();
    for (std::size_t i = begin; i < end; ++i) window.push_back(runs[i].duration_us);
    RollingPoint p;
    p.time_us = t;
    p.p95_us = nearest_rank(window, 0.95);
    p.median_us = nearest_rank(window, 0.5);
    p.gap_before = gap && !out.points.empty();
    gap = false;
    out.points.push_back(p);
  }
  return out;
}

namespace {

// The steps a filtered report reads for their child spans: those of the runs it matches.
StepQuery filtered_steps(const ReportQuery& query) {
  StepQuery steps;
  steps.step = query.step;
  steps.since_us = query.since_us;
  steps.where_ran = query.filter;
  return steps;
}

// The runs a report reads: the store's samples (of the runs the filter matches).
Status for_each_run(Store& store, const ReportQuery& query,
                    const std::function<void(const StepSample&)>& visit) {
  return store.for_each_sample(query.step,
                               query.since_us.value_or(std::numeric_limits<int64_t>::min()),
                               /*with_context=*/true, visit, query.filter);
}

// Their direct child spans.
Status for_each_child_span(Store& store, const ReportQuery& query,
                           const std::function<void(const ChildSpanSample&)>& visit) {
  if (query.filter.empty()) {
    return store.for_each_child_span(
        query.step, query.since_us.value_or(std::numeric_limits<int64_t>::min()), visit);
  }
  return store.for_each_step(filtered_steps(query), [&](StepRecord& run) -> Status {
    for (const Span& child : run.root.children) {
      visit({run.step, run.status, child.name, child.duration.us});
    }
    return {};
  });
}

}  // namespace

Result<Report> collect_report(Store& store, const ReportQuery& query) {
  Report report;
  report.generated_us = query.now_us;
  report.since_us = query.since_us;
  // Streamed into each step's runs (ReportRun is small: no copy of a sample's texts, no sort
  // of the samples), then the steps sorted by name and each one's runs by time.
  std::set<std::string> repos;
  std::map<std::string, std::size_t> by_name;
  ReportStep* adding = nullptr;
  std::int64_t context = -1;
  bool first = true;
  Status read = for_each_run(store, query, [&](const StepSample& s) {
    if (!adding || adding->name != s.step) {
      auto [it, added] = by_name.try_emplace(s.step, report.steps.size());
      if (added) {
        report.steps.emplace_back();
        report.steps.back().name = s.step;
        report.steps.back().threshold = threshold_for(query.thresholds, s.step);
      }
      adding = &report.steps[it->second];
    }
    adding->counts.add(s.status);
    if (is_completed(s.status)) adding->runs.push_back({s.started_us, s.duration_us, s.status});
    report.first_us = first ? s.started_us : std::min(report.first_us, s.started_us);
    report.last_us = first ? s.started_us : std::max(report.last_us, s.started_us);
    first = false;
    if (s.context_id != context) {
      context = s.context_id;
      if (!s.repo.empty()) repos.insert(s.repo);
    }
  });
  if (!read) return read.error();
  std::sort(report.steps.begin(), report.steps.end(),
            [](const ReportStep& a, const ReportStep& b) { return a.name < b.name; });
  for (ReportStep& s : report.steps) {
    std::sort(s.runs.begin(), s.runs.end(),
              [](const ReportRun& a, const ReportRun& b) { return a.started_us < b.started_us; });
  }
  report.repositories.assign(repos.begin(), repos.end());

  // The child spans of the completed runs, by step and span name, in the order they first ran.
  std::vector<std::vector<SummaryBuilder>> span_timings(report.steps.size());
  ReportStep* current = nullptr;
  std::vector<SummaryBuilder>* timings = nullptr;
  Status spans = for_each_child_span(store, query, [&](const ChildSpanSample& span) {
    if (!is_completed(span.status)) return;
    if (!current || current->name != span.step) {
      auto it = std::lower_bound(
          report.steps.begin(), report.steps.end(), span.step,
          [](const ReportStep& s, const std::string& name) { return s.name < name; });
      if (it == report.steps.end() || it->name != span.step) return;  // recorded since
      current = &*it;
      timings = &span_timings[static_cast<std::size_t>(it - report.steps.begin())];
    }
    std::size_t i = 0;
    while (i < current->spans.size() && current->spans[i].name != span.span) ++i;
    if (i == current->spans.size()) {
      current->spans.push_back({span.span, {}});
      timings->emplace_back();
    }
    (*timings)[i].add(span.duration_us);
  });
  if (!spans) return spans.error();
  for (std::size_t i = 0; i < report.steps.size(); ++i) {
    for (std::size_t k = 0; k < report.steps[i].spans.size(); ++k) {
      report.steps[i].spans[k].timing = span_timings[i][k].finish();
    }
  }

  auto baselines = store.active_baselines(query.step);
  if (!baselines) return baselines.error();
  for (ReportStep& step : report.steps) {
    // The same summary as stats and baselines: exact up to kExactSamples runs.
    SummaryBuilder timing;
    for (const auto& r : step.runs) timing.add(r.duration_us);
    step.timing = timing.finish();
    // The baseline of every run of the step, else the first of a narrower scope.
    for (const Baseline& b : *baselines) {
      if (b.key.step != step.name) continue;
      if (!step.baseline_p99_us || b.key.scope == BaselineScope::all) {
        step.baseline_p99_us = b.summary.p99;
      }
    }
  }
  return report;
}

static_assert(kExactSamples == 5000, "the footer of the page says 5,000");

std::string render_html_report(const Report& report) {
  std::string title = "perfguard report";
  if (report.repositories.size() == 1) title += ": " + report.repositories.front();
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      // Nothing is loaded from anywhere: the page is whole as it is.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"perf-baseline report\">\n<title>" +
      escape_html(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<header>\n" +
      "<h1>" + escape_html(title) + "</h1>\n";

  if (report.steps.empty()) {
    html += "<p class=\"meta\">Generated " + utc(report.generated_us) + ".</p>\n</header>\n";
    html += "<p class=\"empty\" id=\"no-data\">No data: no recorded steps";
    if (report.since_us) html += " since " + utc(*report.since_us);
    html +=
        ". Record some with perf-commit or perf-rollback, or measure a baseline with "
        "<code>perf-baseline measure</code>.</p>\n";
  } else {
    std::size_t runs = report.run_count();
    html += "<p class=\"meta\">" + utc(report.first_us) + " to " + utc(report.last_us) + " · " +
            std::to_string(report.steps.size()) +
            (report.steps.size() == 1 ? " step · " : " steps · ") + std::to_string(runs) +
            (runs == 1 ? " run" : " runs");
    if (report.repositories.size() > 1) {
      html += " · repositories: ";
      for (std::size_t i = 0; i < report.repositories.size(); ++i) {
        html += (i ? ", " : "") + escape_html(report.repositories[i]);
      }
    }
    html += " · generated " + utc(report.generated_us) + "</p>\n";
    append_summary_table(html, report);
    html += "</header>\n<main>\n";
    for (std::size_t i = 0; i < report.steps.size(); ++i) append_step(html, report, i);
    html += "</main>\n";
  }
  html +=
      "<footer>Durations of completed runs (ok and breach); failed, killed and interrupted "
      "runs are counted as failures. Percentiles are percentile_cont, exact up to 5,000 "
      "completed runs of a step and within 0.78% above (from a histogram), as in "
      "perf-baseline stats.</footer>\n"
      "</body>\n</html>\n";
  return html;
}

Status write_report_file(const std::filesystem::path& path, const std::string& html) {
  return write_file_atomically(path, html);
}

}  // namespace perfguard
