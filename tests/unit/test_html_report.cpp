#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "report/html_report.h"
#include "report/svg.h"
#include "store/store.h"
#include "support.h"

using namespace perfguard;

namespace {

constexpr std::int64_t kT0 = 1'780'000'000'000'000;  // 2026-05-28, in µs

Report sample_report() {
  Report r;
  r.generated_us = kT0 + 3600'000'000LL;
  r.since_us = kT0 - 86400'000'000LL;
  r.first_us = kT0;
  r.last_us = kT0 + 3000'000'000LL;
  r.repositories = {"/src/<evil> & \"repo\""};
  ReportStep s;
  s.name = "commit<script>";
  s.threshold = Duration::millis(100);
  s.baseline_p99_us = 60'000;
  std::vector<std::int64_t> durations;
  for (int i = 0; i < 50; ++i) {
    std::int64_t d = 20'000 + i * 1'000 + (i == 45 ? 200'000 : 0);
    StepStatus st = d > 100'000 ? StepStatus::breach : StepStatus::ok;
    s.runs.push_back({kT0 + i * 60'000'000LL, d, st});
    s.counts.add(st);
    durations.push_back(d);
  }
  s.counts.add(StepStatus::failed);
  std::sort(durations.begin(), durations.end());
  s.timing = summarize(durations);
  r.steps.push_back(s);
  return r;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) {
    ++n;
  }
  return n;
}

// A small well-formedness check for XML: every tag closed in order, attributes quoted,
// no bare & or <. Enough to catch an unescaped label or a tag left open.
bool well_formed_xml(const std::string& xml, std::string& why) {
  std::vector<std::string> open;
  std::size_t i = 0;
  while (i < xml.size()) {
    char c = xml[i];
    if (c == '&') {
      auto semi = xml.find(';', i);
      std::string entity = xml.substr(i, semi == std::string::npos ? 8 : semi - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" &&
          entity != "&#39;") {
        why = "bad entity at " + std::to_string(i) + ": " + entity;
        return false;
      }
      i = semi + 1;
      continue;
    }
    if (c != '<') {
      if (c == '>') {
        why = "bare > at " + std::to_string(i);
        return false;
      }
      ++i;
      continue;
    }
    auto end = xml.find('>', i);
    if (end == std::string::npos) {
      why = "unterminated tag";
      return false;
    }
    std::string tag = xml.substr(i + 1, end - i - 1);
    if (count(tag, "\"") % 2 != 0 || tag.find('<') != std::string::npos) {
      why = "bad attributes in <" + tag + ">";
      return false;
    }
    if (tag.front() == '/') {
      if (open.empty() || open.back() != tag.substr(1)) {
        why = "</" + tag.substr(1) + "> closes " + (open.empty() ? "nothing" : open.back());
        return false;
      }
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(tag.substr(0, tag.find(' ')));
    }
    i = end + 1;
  }
  if (!open.empty()) why = "<" + open.back() + "> never closed";
  return open.empty();
}

std::vector<std::string> svg_elements(const std::string& html) {
  std::vector<std::string> out;
  for (auto p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) {
    auto end = html.find("</svg>", p);
    REQUIRE(end != std::string::npos);
    out.push_back(html.substr(p, end + 6 - p));
  }
  return out;
}

}  // namespace

TEST_CASE("escape_html escapes the five characters and drops control characters") {
  CHECK(escape_html("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
  CHECK(escape_html(std::string("x\x01y", 3)) == "x y");
  CHECK(escape_html("plain /path") == "plain /path");
}

TEST_CASE("the report is one HTML document with a header, a table and two charts per step") {
  const std::string html = render_html_report(sample_report());
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<meta charset=\"utf-8\">") != std::string::npos);
  CHECK(html.find("<style>") != std::string::npos);
  CHECK(count(html, "<table class=\"summary\">") == 1);
  CHECK(count(html, "<section class=\"step\"") == 1);
  CHECK(count(html, "<svg class=\"time-chart\"") == 1);
  CHECK(count(html, "<svg class=\"histogram\"") == 1);
  CHECK(html.find("</html>") != std::string::npos);
  // The time range and the number of steps are in the header.
  CHECK(html.find("2026-05-28") != std::string::npos);
  CHECK(html.find("1 step · 51 runs") != std::string::npos);
}

TEST_CASE("the time chart marks breaches and draws the threshold and the baseline p99") {
  const std::string html = render_html_report(sample_report());
  CHECK(count(html, "<circle class=\"run\"") == 49);
  CHECK(count(html, "<circle class=\"breach\"") == 1);
  CHECK(html.find(std::string("fill=\"") + chart_colour::breach + "\"") != std::string::npos);
  CHECK(html.find("<g class=\"threshold\">") != std::string::npos);
  CHECK(html.find("<g class=\"baseline\">") != std::string::npos);
  CHECK(html.find("threshold 100ms") != std::string::npos);
  CHECK(html.find("baseline p99 60ms") != std::string::npos);
  // The histogram's bars above the threshold are breaches too.
  CHECK(html.find("<rect class=\"bin breach\"") != std::string::npos);
}

TEST_CASE("every text from the store is escaped") {
  const std::string html = render_html_report(sample_report());
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("commit&lt;script&gt;") != std::string::npos);
  CHECK(html.find("/src/&lt;evil&gt; &amp; &quot;repo&quot;") != std::string::npos);
  CHECK(html.find("<evil>") == std::string::npos);
}

TEST_CASE("nothing is loaded from the network") {
  for (const Report& r : {sample_report(), Report{}}) {
    const std::string html = render_html_report(r);
    CHECK(html.find("http://") == std::string::npos);
    CHECK(html.find("https://") == std::string::npos);
    CHECK(html.find("src=") == std::string::npos);
    CHECK(html.find("<link") == std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("@import") == std::string::npos);
    CHECK(html.find("url(") == std::string::npos);
    CHECK(html.find("default-src 'none'") != std::string::npos);
  }
}

TEST_CASE("every SVG is well-formed XML") {
  Report r = sample_report();
  ReportStep only_failures;
  only_failures.name = "validate";
  only_failures.counts.add(StepStatus::timeout);
  r.steps.push_back(only_failures);
  ReportStep one_run;
  one_run.name = "rollback";
  one_run.runs = {{kT0, 5, StepStatus::ok}};
  one_run.counts.add(StepStatus::ok);
  one_run.timing = summarize(std::vector<std::int64_t>{5});
  one_run.threshold = Duration::seconds(2);
  r.steps.push_back(one_run);
  const std::string html = render_html_report(r);
  auto svgs = svg_elements(html);
  CHECK(svgs.size() == 4);  // validate has no completed run: no chart
  for (const auto& svg : svgs) {
    std::string why;
    CHECK_MESSAGE(well_formed_xml(svg, why), why);
  }
  // The whole body is balanced too (void elements aside).
  auto body = html.substr(html.find("<body>"), html.find("</body>") + 7 - html.find("<body>"));
  std::string why;
  CHECK_MESSAGE(well_formed_xml(body, why), why);
  CHECK(html.find("No completed run of validate") != std::string::npos);
}

TEST_CASE("a wide range of durations gets a log scale, a narrow one a linear scale") {
  TimeChart wide;
  wide.points = {{kT0, 20'000, false}, {kT0 + 1'000'000, 25'000, false}};
  wide.lines = {{1'000'000, "threshold 1s", chart_colour::threshold, "threshold"}};
  wide.from_us = kT0;
  wide.to_us = kT0 + 1'000'000;
  CHECK(render_time_chart(wide).find("log scale") != std::string::npos);
  TimeChart narrow = wide;
  narrow.lines[0].value_us = 40'000;
  CHECK(render_time_chart(narrow).find("log scale") == std::string::npos);
}

TEST_CASE("an empty report says there is no data") {
  Report empty;
  empty.generated_us = kT0;
  const std::string html = render_html_report(empty);
  CHECK(html.find("id=\"no-data\"") != std::string::npos);
  CHECK(html.find("No data") != std::string::npos);
  CHECK(html.find("<svg") == std::string::npos);
}

TEST_CASE("at most kMaxChartPoints runs are drawn, every breach among them") {
  Report r = sample_report();
  ReportStep& s = r.steps.front();
  s.runs.clear();
  for (std::size_t i = 0; i < kMaxChartPoints * 3; ++i) {
    bool breach = i % 1000 == 7;
    s.runs.push_back({kT0 + static_cast<std::int64_t>(i) * 1000, breach ? 200'000 : 30'000,
                      breach ? StepStatus::breach : StepStatus::ok});
  }
  const std::string html = render_html_report(r);
  const std::size_t breaches = count(html, "<circle class=\"breach\"");
  const std::size_t drawn = breaches + count(html, "<circle class=\"run\"");
  CHECK(breaches == kMaxChartPoints * 3 / 1000);
  CHECK(drawn <= kMaxChartPoints + 1);
  CHECK(drawn >= kMaxChartPoints - 1);
  CHECK(html.find("runs drawn: every breach") != std::string::npos);
}

namespace {

// The runs of a step: `n` runs a minute apart of 20ms to 60ms, and among them `outliers`
// evenly spaced breaches of 10s, 11s, 12s and so on.
ReportStep step_with_outliers(std::size_t n, std::size_t outliers) {
  ReportStep s;
  s.name = "commit";
  s.threshold = Duration::seconds(1);
  std::vector<std::int64_t> durations;
  for (std::size_t i = 0; i < n; ++i) {
    const bool slow = outliers > 0 && i % (n / outliers) == n / outliers / 2;
    const std::int64_t d =
        slow ? 10'000'000 + static_cast<std::int64_t>(i / (n / outliers)) * 1'000'000
             : 20'000 + static_cast<std::int64_t>((i * 7919) % 40'000);
    const StepStatus st = slow ? StepStatus::breach : StepStatus::ok;
    s.runs.push_back({kT0 + static_cast<std::int64_t>(i) * 60'000'000LL, d, st});
    s.counts.add(st);
    durations.push_back(d);
  }
  std::sort(durations.begin(), durations.end());
  s.timing = summarize(durations);
  return s;
}

Report report_of(ReportStep s) {
  Report r;
  r.generated_us = kT0;
  r.first_us = s.runs.empty() ? kT0 : s.runs.front().started_us;
  r.last_us = s.runs.empty() ? kT0 : s.runs.back().started_us;
  r.steps.push_back(std::move(s));
  return r;
}

// The marker labels of one chart as the boxes label_width gives them, read back from the SVG.
std::vector<std::pair<LabelBox, std::string>> marker_labels(const std::string& svg) {
  static const std::regex label(
      R"re(<text class="marker-label[^"]*" x="([-0-9.]+)" y="([-0-9.]+)"[^>]*>([^<]*)</text>)re");
  std::vector<std::pair<LabelBox, std::string>> out;
  for (std::sregex_iterator it(svg.begin(), svg.end(), label), end; it != end; ++it) {
    const double x = std::stod((*it)[1]), y = std::stod((*it)[2]);
    const std::string body = (*it)[3];
    out.push_back({{x, y + 3.5 - 14, x + label_width(body), y + 3.5}, body});
  }
  return out;
}

std::size_t non_empty_bars(const std::string& svg) {
  return count(svg, "<rect class=\"bin");
}

}  // namespace

TEST_CASE("a step with a few slow outliers gets many non-empty bars and a labelled tail") {
  const ReportStep s = step_with_outliers(10'000, 5);
  std::vector<double> durations;
  for (const auto& r : s.runs) durations.push_back(static_cast<double>(r.duration_us));
  const HistogramBins bins = histogram_bins(durations, 30, 0.99);
  CHECK(bins.tail == 5);
  CHECK(bins.tail_max == doctest::Approx(14'000'000));
  CHECK(bins.tail_from < 100'000);  // 1.5 times the p99, not the slowest run
  std::size_t non_empty = 0;
  for (auto c : bins.counts) non_empty += c > 0;
  CHECK(non_empty >= 15);  // the bulk spreads over the axis (20ms to 60ms of 20ms to 90ms)
  std::int64_t in_bars = bins.tail;
  for (auto c : bins.counts) in_bars += c;
  CHECK(in_bars == 10'000);

  const std::string html = render_html_report(report_of(s));
  const auto svgs = svg_elements(html);
  REQUIRE(svgs.size() == 2);
  const std::string& hist = svgs[1];
  CHECK(non_empty_bars(hist) >= 16);
  CHECK(count(hist, "<rect class=\"bin tail breach\"") == 1);
  CHECK(hist.find("class=\"tail-label\"") != std::string::npos);
  CHECK(hist.find(">&gt; ") != std::string::npos);
  CHECK(hist.find(">5 runs</text>") != std::string::npos);
  // The threshold (1s) falls in the tail: said in words, not drawn across an empty axis.
  CHECK(hist.find("threshold 1s (in the &gt; ") != std::string::npos);
  CHECK(html.find("are one bar at the right") != std::string::npos);
}

TEST_CASE("without outliers nothing is folded; a wide bulk gets a log axis") {
  std::vector<double> narrow, wide;
  for (int i = 0; i < 1000; ++i) {
    narrow.push_back(20'000 + i * 30);
    wide.push_back(1'000 * std::pow(1000.0, i / 999.0));  // 1ms to 1s, evenly in log
  }
  const HistogramBins n = histogram_bins(narrow, 30, 0.99);
  CHECK(n.tail == 0);
  CHECK_FALSE(n.log);
  CHECK(std::count(n.counts.begin(), n.counts.end(), 0) == 0);
  const HistogramBins w = histogram_bins(wide, 30, 0.99);
  CHECK(w.tail == 0);
  CHECK(w.log);
  CHECK(std::count(w.counts.begin(), w.counts.end(), 0) == 0);
  CHECK(*std::max_element(w.counts.begin(), w.counts.end()) < 60);
  HistogramChart chart;
  chart.durations_us = wide;
  CHECK(render_histogram(chart).find("log scale") != std::string::npos);
}

TEST_CASE("placed labels never intersect and stay inside the chart") {
  // Three labels wanted at the same place, one hanging off the left, one off the top.
  std::vector<LabelBox> wanted = {{700, 20, 800, 34},
                                  {700, 20, 800, 34},
                                  {690, 22, 790, 36},
                                  {40, 100, 160, 114},
                                  {300, -5, 420, 9}};
  const auto boxes = place_labels(wanted, 70, 14, 880, 250);
  REQUIRE(boxes.size() == wanted.size());
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    CHECK(boxes[i].x0 >= 70);
    CHECK(boxes[i].x1 <= 880);
    CHECK(boxes[i].y0 >= 14);
    CHECK(boxes[i].y1 <= 250);
    CHECK(boxes[i].x1 - boxes[i].x0 == doctest::Approx(wanted[i].x1 - wanted[i].x0));
    for (std::size_t k = 0; k < i; ++k) CHECK_FALSE(boxes[i].intersects(boxes[k]));
  }
  CHECK(boxes[0].y0 == 20);  // the first stays where it was wanted
}

TEST_CASE("threshold and baseline labels do not overlap, however close the lines") {
  for (double baseline : {1'000'000.0, 990'000.0, 1'020'000.0, 21'000.0}) {
    ReportStep s = step_with_outliers(2'000, 3);
    s.baseline_p99_us = baseline;
    const std::string html = render_html_report(report_of(s));
    for (const std::string& svg : svg_elements(html)) {
      const auto labels = marker_labels(svg);
      CHECK(labels.size() >= 2);
      for (std::size_t i = 0; i < labels.size(); ++i) {
        CAPTURE(labels[i].second);
        CHECK(labels[i].first.x0 >= 0);
        CHECK(labels[i].first.x1 <= 900);
        CHECK(labels[i].first.y0 >= 0);
        for (std::size_t k = 0; k < i; ++k) {
          const std::string pair = labels[i].second + " overlaps " + labels[k].second;
          CHECK_MESSAGE(!labels[i].first.intersects(labels[k].first), pair);
        }
      }
    }
  }
}

TEST_CASE("the time chart has rolling median and p95 lines when there are enough runs") {
  // 90 days of runs that get slower: the rolling median follows.
  ReportStep s;
  s.name = "commit";
  std::vector<std::int64_t> durations;
  const std::size_t n = 9'000;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t d = 40'000 + static_cast<std::int64_t>(i) * 4 + (i * 7919) % 20'000;
    s.runs.push_back({kT0 + static_cast<std::int64_t>(i) * 864'000'000LL, d, StepStatus::ok});
    s.counts.add(StepStatus::ok);
    durations.push_back(d);
  }
  std::sort(durations.begin(), durations.end());
  s.timing = summarize(durations);
  const RollingSeries rolling = rolling_quantiles(s.runs);
  CHECK(rolling.window_us == 3 * 86'400'000'000LL);  // a thirtieth of 90 days
  // The first times have too few runs in their window yet.
  REQUIRE(rolling.points.size() >= static_cast<std::size_t>(kRollingPoints) - 2);
  CHECK(rolling.points.size() < static_cast<std::size_t>(kRollingPoints));
  CHECK(rolling.points.back().median_us > rolling.points.front().median_us + 30'000);
  for (const auto& p : rolling.points) CHECK(p.p95_us >= p.median_us);
  const std::string html = render_html_report(report_of(s));
  CHECK(count(html, "<path class=\"rolling median\"") == 1);
  CHECK(count(html, "<path class=\"rolling p95\"") == 1);
  CHECK(html.find("trailing 3d window") != std::string::npos);

  // Too few runs: no lines, and the caption says so.
  ReportStep few = step_with_outliers(30, 0);
  CHECK(rolling_quantiles(few.runs).points.empty());
  const std::string sparse = render_html_report(report_of(few));
  CHECK(sparse.find("class=\"rolling") == std::string::npos);
  CHECK(sparse.find("No rolling median or p95: too few runs") != std::string::npos);
  // Enough runs, but all within a minute: no window of at most half their span holds 20.
  std::vector<ReportRun> burst;
  for (int i = 0; i < 50; ++i) burst.push_back({kT0 + i * 1'000'000LL, 30'000, StepStatus::ok});
  const RollingSeries none = rolling_quantiles(burst);
  CHECK(none.window_us == 0);
  CHECK(none.points.empty());
}

TEST_CASE("a step's child spans are a table of their median and p95") {
  ReportStep s = step_with_outliers(100, 0);
  s.spans = {{"add", summarize(std::vector<std::int64_t>{8'000, 9'000, 10'000})},
             {"commit<x>", summarize(std::vector<std::int64_t>{20'000, 30'000, 40'000})}};
  const std::string html = render_html_report(report_of(s));
  CHECK(count(html, "<table class=\"summary spans\"") == 1);
  CHECK(html.find("<h3 id=\"step-1-spans\">Spans of commit</h3>") != std::string::npos);
  CHECK(html.find("<tr><th scope=\"row\">add</th><td>3</td><td>9ms</td>") != std::string::npos);
  CHECK(html.find("<th scope=\"row\">commit&lt;x&gt;</th><td>3</td><td>30ms</td>") !=
        std::string::npos);
  CHECK(html.find("(whole step)") != std::string::npos);
  // No spans, no table.
  CHECK(render_html_report(report_of(step_with_outliers(100, 0))).find("spans") ==
        std::string::npos);
}

TEST_CASE("the page is accessible: lang, one h1, h2 per step, every chart titled and described") {
  Report r = sample_report();
  r.steps.push_back(step_with_outliers(200, 2));
  const std::string html = render_html_report(r);
  CHECK(html.find("<html lang=\"en\">") != std::string::npos);
  CHECK(count(html, "<h1") == 1);
  CHECK(count(html, "<h2") == 1 + r.steps.size());  // the summary, then one a step
  const auto svgs = svg_elements(html);
  CHECK(svgs.size() == 4);
  std::set<std::string> ids;
  for (const std::string& svg : svgs) {
    CHECK(svg.find("role=\"img\"") != std::string::npos);
    static const std::regex named(R"re(aria-labelledby="([^"]+)" aria-describedby="([^"]+)")re");
    std::smatch m;
    REQUIRE(std::regex_search(svg, m, named));
    CHECK(svg.find("<title id=\"" + m[1].str() + "\">") != std::string::npos);
    CHECK(svg.find("<desc id=\"" + m[2].str() + "\">") != std::string::npos);
    CHECK(ids.insert(m[1].str()).second);
    CHECK(ids.insert(m[2].str()).second);
  }
  // The description gives the figures.
  CHECK(html.find("2 runs above ") != std::string::npos);
  CHECK(html.find(", the slowest 11s.") != std::string::npos);
}

TEST_CASE("collect_report reads each step's child spans from the store") {
  test::TempDir tmp;
  auto store = Store::open(StoreOptions{tmp / "perf.db"});
  REQUIRE(store.ok());
  std::vector<StepRecord> records;
  for (int i = 0; i < 20; ++i) {
    StepRecord r;
    r.trace_id = static_cast<std::uint64_t>(i + 1);
    r.step = i % 4 == 3 ? "rollback" : "commit";
    r.root.name = r.step;
    r.root.start_us = kT0 + i * 1'000'000LL;
    const std::int64_t add = 1'000 * (i + 1), commit = 30'000;
    r.root.duration = Duration::micros(add + commit + 100);
    r.status = i == 5 ? StepStatus::failed : StepStatus::ok;
    if (r.step == "commit") {
      r.root.children.push_back(Span{"add", r.root.start_us, Duration::micros(add), 0, {}, {}});
      r.root.children.push_back(
          Span{"commit", r.root.start_us + add, Duration::micros(commit), 0, {}, {}});
      // A grandchild is not a part of the step.
      r.root.children.back().children.push_back(
          Span{"hook", r.root.start_us + add, Duration::micros(10), 0, {}, {}});
    }
    records.push_back(r);
  }
  REQUIRE(store->record(records).ok());
  ReportQuery query;
  query.now_us = kT0 + 100'000'000LL;
  auto report = collect_report(*store, query);
  REQUIRE(report.ok());
  REQUIRE(report->steps.size() == 2);
  const ReportStep& commit = report->steps[0];
  CHECK(commit.name == "commit");
  REQUIRE(commit.spans.size() == 2);
  CHECK(commit.spans[0].name == "add");
  CHECK(commit.spans[1].name == "commit");
  CHECK(commit.spans[0].timing.n == 14);  // the failed run is left out
  CHECK(commit.spans[1].timing.p50 == doctest::Approx(30'000));
  CHECK(report->steps[1].spans.empty());  // rollbacks recorded without parts
  query.step = "rollback";
  auto only = collect_report(*store, query);
  REQUIRE(only.ok());
  REQUIRE(only->steps.size() == 1);
  CHECK(only->steps[0].spans.empty());
}
