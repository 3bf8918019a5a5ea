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
#include <limits>
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
                     "threshold"});
  }
  if (s.baseline_p99_us && std::isfinite(*s.baseline_p99_us)) {
    lines.push_back({*s.baseline_p99_us, "baseline p99 " + duration_label(*s.baseline_p99_us),
                     chart_colour::baseline, "baseline"});
  }
  return lines;
}

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:960px;color:#222;background:#fff;padding:0 16px}
h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.2em;margin:32px 0 4px;
border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;margin:0 0 16px}
table.summary{border-collapse:collapse;font-size:.92em;margin:8px 0 16px}
table.summary th,table.summary td{padding:4px 10px;border-bottom:1px solid #e5e5e5;
text-align:right}
table.summary th:first-child,table.summary td:first-child{text-align:left}
table.summary td.bad{color:#d62728;font-weight:600}
.legend{font-size:.88em;color:#444;margin:4px 0}
.legend span{margin-right:16px;white-space:nowrap}
.swatch{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;
vertical-align:middle}
.dash{display:inline-block;width:18px;border-top:2px dashed;margin-right:4px;
vertical-align:middle}
figure{margin:8px 0}figcaption{font-size:.85em;color:#666}
svg{max-width:100%;height:auto;display:block}
.empty{font-size:1.1em;color:#555;padding:32px 0}
footer{margin-top:40px;font-size:.8em;color:#888}
)";

void append_summary_table(std::string& html, const Report& report) {
  html +=
      "<table class=\"summary\"><thead><tr><th>step</th><th>runs</th><th>n</th><th>p50</th>"
      "<th>p95</th><th>p99</th><th>max</th><th>breaches</th><th>failures</th>"
      "<th>threshold</th><th>baseline p99</th></tr></thead><tbody>\n";
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

void append_step(std::string& html, const Report& report, std::size_t index) {
  const ReportStep& s = report.steps[index];
  const std::vector<ChartLine> lines = reference_lines(s);
  html += "<section class=\"step\" id=\"step-" + std::to_string(index + 1) + "\">\n<h2>" +
          escape_html(s.name) + "</h2>\n";
  html += "<div class=\"legend\"><span><i class=\"swatch\" style=\"background:" +
          std::string(chart_colour::ok) + "\"></i>run</span><span><i class=\"swatch\" " +
          "style=\"background:" + chart_colour::breach + "\"></i>breach (" +
          std::to_string(s.counts.breach) + ")</span>";
  for (const auto& l : lines) {
    html += "<span><i class=\"dash\" style=\"border-color:" + l.colour + "\"></i>" +
            escape_html(l.label) + "</span>";
  }
  html += "</div>\n";
  if (s.runs.empty()) {
    html += "<p class=\"empty\">No completed run of " + escape_html(s.name) + " in this range (" +
            std::to_string(s.counts.failures()) + " failed, killed or interrupted).</p>\n";
    html += "</section>\n";
    return;
  }

  TimeChart chart;
  chart.points = chart_points(s.runs);
  chart.lines = lines;
  chart.from_us = report.since_us ? std::max(*report.since_us, report.first_us) : report.first_us;
  chart.from_us = std::min(chart.from_us, s.runs.front().started_us);
  chart.to_us = report.last_us;
  chart.title = s.name + ": duration of each run over time";
  html += "<figure>" + render_time_chart(chart) + "<figcaption>Duration of each run over time";
  if (chart.points.size() < s.runs.size()) {
    html += " (" + std::to_string(chart.points.size()) + " of " + std::to_string(s.runs.size()) +
            " runs drawn: every breach, and evenly spaced others)";
  }
  html += ".</figcaption></figure>\n";

  HistogramChart hist;
  for (const auto& r : s.runs) hist.durations_us.push_back(static_cast<double>(r.duration_us));
  hist.lines = lines;
  hist.title = s.name + ": distribution of durations";
  html += "<figure>" + render_histogram(hist) + "<figcaption>Distribution of " +
          std::to_string(s.runs.size()) + (s.runs.size() == 1 ? " run" : " runs") + ": p50 " +
          cell(s.timing.p50) + ", p95 " + cell(s.timing.p95) + ", p99 " + cell(s.timing.p99) +
          ".</figcaption></figure>\n</section>\n";
}

}  // namespace

std::size_t Report::run_count() const {
  std::size_t n = 0;
  for (const auto& s : steps) n += static_cast<std::size_t>(s.counts.total());
  return n;
}

Result<Report> collect_report(Store& store, const ReportQuery& query) {
  Report report;
  report.generated_us = query.now_us;
  report.since_us = query.since_us;
  auto samples =
      store.step_samples(query.step, query.since_us.value_or(std::numeric_limits<int64_t>::min()),
                         /*with_context=*/true);
  if (!samples) return samples.error();
  std::sort(samples->begin(), samples->end(), [](const StepSample& a, const StepSample& b) {
    return a.step != b.step ? a.step < b.step : a.started_us < b.started_us;
  });

  std::set<std::string> repos;
  bool first = true;
  for (const StepSample& s : *samples) {
    if (report.steps.empty() || report.steps.back().name != s.step) {
      report.steps.push_back({});
      report.steps.back().name = s.step;
      report.steps.back().threshold = threshold_for(query.thresholds, s.step);
    }
    ReportStep& step = report.steps.back();
    step.counts.add(s.status);
    if (is_completed(s.status)) step.runs.push_back({s.started_us, s.duration_us, s.status});
    report.first_us = first ? s.started_us : std::min(report.first_us, s.started_us);
    report.last_us = first ? s.started_us : std::max(report.last_us, s.started_us);
    first = false;
    if (!s.repo.empty()) repos.insert(s.repo);
  }
  report.repositories.assign(repos.begin(), repos.end());

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
