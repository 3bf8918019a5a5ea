#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "report/html_report.h"
#include "report/svg.h"

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
