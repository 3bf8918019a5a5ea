#include <doctest/doctest.h>

#include <cstdio>

#include "output/report.h"

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
