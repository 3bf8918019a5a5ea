#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "output/report.h"
#include "output/table.h"

using namespace perfguard;

namespace {

StepRecord sample(StepStatus status, Duration took) {
  StepRecord r;
  r.step = "commit";
  r.status = status;
  r.threshold = Duration::seconds(1);
  r.root.name = "commit";
  r.root.duration = took;
  Span add;
  add.name = "add";
  add.duration = Duration::millis(120);
  r.root.children.push_back(add);
  r.context.repo = "/r, with \"quotes\"";
  r.labels = {{"k", "v"}};
  return r;
}

std::string written(Format f, const std::vector<StepRecord>& records) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* mem = open_memstream(&buf, &len);
  write_records(mem, f, records, "perf-commit", 0);
  std::fclose(mem);
  std::string out(buf, len);
  free(buf);
  return out;
}

}  // namespace

TEST_CASE("text summary says within, or over the threshold by how much") {
  CHECK(text_summary(sample(StepStatus::ok, Duration::millis(412)), false) ==
        "commit 412ms (add 120ms) ok, within 1s");
  CHECK(text_summary(sample(StepStatus::breach, Duration::millis(1420)), false) ==
        "commit 1.42s (add 120ms) over the 1s threshold by 420ms");
  CHECK(text_summary(sample(StepStatus::timeout, Duration::millis(1420)), false)
            .find("killed at its timeout") != std::string::npos);
}

TEST_CASE("colour only when asked") {
  CHECK(text_summary(sample(StepStatus::ok, Duration::millis(5)), true).find("\033[") !=
        std::string::npos);
  CHECK(text_summary(sample(StepStatus::ok, Duration::millis(5)), false).find("\033[") ==
        std::string::npos);
}

TEST_CASE("formats parse by name") {
  CHECK(parse_format("jsonl") == Format::jsonl);
  CHECK_FALSE(parse_format("yaml").has_value());
}

TEST_CASE("csv quotes fields that need it and has one column per header name") {
  std::string csv = written(Format::csv, {sample(StepStatus::ok, Duration::millis(5))});
  auto newline = csv.find('\n');
  std::string header = csv.substr(0, newline);
  CHECK(header.rfind("trace_id,step,status,started_at,duration_us", 0) == 0);
  CHECK(csv.find("\"/r, with \"\"quotes\"\"\"") != std::string::npos);
  CHECK(csv.find("add:120000") != std::string::npos);
}

TEST_CASE("tsv replaces tabs and newlines instead of quoting") {
  auto r = sample(StepStatus::ok, Duration::millis(5));
  r.labels = {{"note", "a\tb\nc"}};
  std::string tsv = written(Format::tsv, {r});
  CHECK(tsv.find("note=a b c") != std::string::npos);
}

TEST_CASE("json is one object with the steps") {
  std::string json = written(Format::json, {sample(StepStatus::ok, Duration::millis(5))});
  CHECK(json.rfind("{\"tool\":\"perf-commit\",\"exit_code\":0,\"steps\":[{", 0) == 0);
  CHECK(json.back() == '\n');
}

TEST_CASE("printable escapes control characters and keeps the rest of UTF-8") {
  CHECK(printable("plain – ünïcode ▇") == "plain – ünïcode ▇");
  CHECK(printable("a\x1b]0;title\x07z") == "a\\x1b]0;title\\x07z");
  CHECK(printable("tab\tline\nDEL\x7f") == "tab\\x09line\\x0aDEL\\x7f");
  CHECK(printable("csi\xc2\x9b"
                  "2J") == "csi\\x9b2J");              // U+009B, a C1 control
  CHECK(printable("bad\x9b\xff") == "bad\\x9b\\xff");  // bytes that are not UTF-8
  CHECK(printable("cut\xe2\x96") == "cut\\xe2\\x96");
}

TEST_CASE("aligned columns escape control characters before measuring widths") {
  CHECK(aligned_columns({{"a\x1b", "x"}, {"bb", "y"}}, {false, false}) == "a\\x1b  x\nbb     y\n");
}

TEST_CASE("spreadsheet_safe quotes text a spreadsheet would run, reversibly") {
  for (std::string text : {"=cmd|' /C calc'!A0", "+1", "-x", "@SUM(1)", "\tt", "\rr", "'=q", "''-q",
                           "plain", "", "'", "'plain", "1-2"}) {
    const std::string safe = spreadsheet_safe(text);
    CHECK(spreadsheet_unquote(safe) == text);
    const char first = safe.empty() ? 'x' : safe[0];
    CHECK(first != '=');
    CHECK(first != '+');
    CHECK(first != '-');
    CHECK(first != '@');
  }
  CHECK(spreadsheet_safe("=1+1") == "'=1+1");
  CHECK(spreadsheet_safe("'=1+1") == "''=1+1");
  CHECK(spreadsheet_safe("'plain") == "'plain");
}

TEST_CASE("csv of records quotes formula text but not negative numbers") {
  StepRecord r = sample(StepStatus::failed, Duration::millis(5));
  r.exit_code = -1;
  r.context.branch = "=HYPERLINK(\"x\")";
  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* mem = ::open_memstream(&text, &size);
  write_records(mem, Format::csv, {r}, "t", 0);
  std::fclose(mem);
  const std::string csv(text, size);
  std::free(text);
  CHECK(csv.find(",-1,") != std::string::npos);
  CHECK(csv.find(",\"'=HYPERLINK(\"\"x\"\")\",") != std::string::npos);
}

TEST_CASE("table cells: text is quoted for spreadsheets, numbers are not") {
  CHECK(Cell("=1").flat() == "'=1");
  CHECK(Cell(std::int64_t{-5}).flat() == "-5");
  CHECK(Cell(-2.5).flat() == "-2.5");
}
