#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json_reader.h"
#include "core/text_encoding.h"
#include "exchange/exchange.h"
#include "output/record_json.h"
#include "output/report.h"
#include "process/runner.h"
#include "store/journal.h"
#include "store/store.h"
#include "support.h"

using namespace perfguard;
using perfguard::test::query_int;
using perfguard::test::read_file;
using perfguard::test::sh;
using perfguard::test::TempDir;
using perfguard::test::write_file;

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kDayUs = 86400LL * 1000000;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Store open_store(const fs::path& path) {
  auto store = Store::open(StoreOptions{path});
  REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().message));
  return std::move(store.value());
}

RunContext context(const std::string& host = "build-1.example.com") {
  RunContext c;
  c.repo = "/srv/payments";
  c.branch = "main";
  c.host = host;
  c.user = "alice";
  c.tool = "perf-commit";
  c.tool_version = "0.1.0";
  c.git_version = "2.39.5";
  return c;
}

// A commit as perf-commit records it: add and commit child spans, one of them nested.
StepRecord commit_record(std::uint64_t trace_id, std::int64_t start_us, std::int64_t add_us,
                         std::int64_t commit_us, StepStatus status = StepStatus::ok) {
  StepRecord r;
  r.trace_id = trace_id;
  r.step = "commit";
  r.root.name = "commit";
  r.root.start_us = start_us;
  r.root.duration = Duration::micros(add_us + commit_us + 100);
  Span add{"add", start_us + 50, Duration::micros(add_us), 0, {add_us / 2, add_us / 4, 7000}, {}};
  Span commit{"commit",
              start_us + 60 + add_us,
              Duration::micros(commit_us),
              0,
              {commit_us / 2, commit_us / 4, 9000},
              {}};
  commit.children.push_back(
      Span{"hook:pre-commit", start_us + 70 + add_us, Duration::micros(commit_us / 3), 0, {}, {}});
  r.root.children = {add, commit};
  r.root.usage = {add.usage.cpu_user_us + commit.usage.cpu_user_us,
                  add.usage.cpu_sys_us + commit.usage.cpu_sys_us, 9000};
  r.status = status;
  r.threshold = Duration::seconds(1);
  r.exit_code = status == StepStatus::ok ? 0 : status == StepStatus::breach ? 3 : 1;
  r.head_before = "1111111111111111111111111111111111111111";
  r.head_after = "2222222222222222222222222222222222222222";
  r.context = context();
  r.labels = {{"ticket", "OPS-1"}, {"note", "a \"quoted\" value"}};
  return r;
}

ImportOptions import_options() {
  ImportOptions o;
  o.context = context("importer.example.com");
  o.context.tool = "perf-baseline";
  o.now_us = now_us();
  return o;
}

// Imports a file; REQUIREs success unless `expect_ok` is false.
ImportSummary import_file(Store& store, ImportFormat format, const fs::path& file,
                          bool skip_bad = false, bool expect_ok = true,
                          ImportOptions options = import_options()) {
  ImportRequest request;
  request.format = format;
  request.input = file;
  request.skip_bad = skip_bad;
  request.options = options;
  ImportSummary summary;
  Status s = import_records(store, request, summary);
  if (expect_ok) REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  if (!expect_ok) CHECK_FALSE(s.ok());
  return summary;
}

std::vector<StepRecord> all_steps(Store& store) {
  std::vector<StepRecord> out;
  StepQuery q;
  REQUIRE(store.for_each_step(q, [&](StepRecord& r) -> Status {
    out.push_back(r);
    return {};
  }));
  return out;
}

std::string as_jsonl(const std::vector<StepRecord>& records) {
  std::string out;
  for (const StepRecord& r : records) out += record_to_jsonl(r) + "\n";
  return out;
}

std::string exported(Store& store, ExportFormat format, const fs::path& file,
                     std::optional<std::int64_t> since = std::nullopt, std::string step = "") {
  ExportRequest request;
  request.format = format;
  request.output = file;
  request.since_us = since;
  request.step = std::move(step);
  auto n = export_records(store, request);
  REQUIRE_MESSAGE(n.ok(), (n.ok() ? "" : n.error().message));
  return read_file(file);
}

std::vector<StepRecord> sample_records(std::int64_t base) {
  return {commit_record(0x1234, base, 12000, 90000),
          commit_record(0x1234, base + 5000000, 15000, 1500000, StepStatus::breach),
          commit_record(0x7fffffffffffffffULL, base + 9000000, 9000, 40000, StepStatus::failed)};
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Small parts

TEST_CASE("exchange: UTC timestamps parse to Unix microseconds") {
  CHECK(parse_utc_timestamp("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_utc_timestamp("2026-11-23T16:10:38.078291Z") == 1795450238078291LL);
  CHECK(parse_utc_timestamp("2026-11-23T16:10:38.5Z") == 1795450238500000LL);
  CHECK(parse_utc_timestamp("2026-11-23T17:10:38+01:00") == 1795450238000000LL);
  CHECK(parse_utc_timestamp("2000-02-29T00:00:00Z") == 951782400000000LL);
  CHECK(parse_utc_timestamp(format_utc_timestamp(1795450238078291LL)) == 1795450238078291LL);
  CHECK_FALSE(parse_utc_timestamp("2026-11-23T16:10:38"));  // no zone
  CHECK_FALSE(parse_utc_timestamp("2026-13-01T00:00:00Z"));
  // Days that do not exist in their month are refused, not carried into the next one.
  CHECK_FALSE(parse_utc_timestamp("2026-02-31T00:00:00Z"));
  CHECK_FALSE(parse_utc_timestamp("2026-04-31T00:00:00Z"));
  CHECK_FALSE(parse_utc_timestamp("2027-02-29T00:00:00Z"));
  CHECK_FALSE(parse_utc_timestamp("1900-02-29T00:00:00Z"));
  CHECK(parse_utc_timestamp("2028-02-29T00:00:00Z") == 1835395200000000LL);
  CHECK_FALSE(parse_utc_timestamp("2026-11-23T16:10:38.Z"));
  CHECK_FALSE(parse_utc_timestamp("yesterday"));
}

TEST_CASE("exchange: derived trace ids are stable, 63-bit and never 0") {
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    std::uint64_t id = stable_trace_id("line " + std::to_string(i));
    CHECK(id != 0);
    CHECK(id < (1ULL << 63));
    CHECK(id == stable_trace_id("line " + std::to_string(i)));
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("exchange: formats are known by name") {
  CHECK(parse_import_format("hyperfine") == ImportFormat::hyperfine);
  CHECK(parse_import_format("trace2") == ImportFormat::trace2);
  CHECK_FALSE(parse_import_format("xml"));
  CHECK(parse_export_format("prometheus") == ExportFormat::prometheus);
  CHECK(std::string(to_string(ExportFormat::otlp)) == "otlp");
  CHECK_FALSE(parse_export_format("json"));
  CHECK(to_string(ImportProblem{"a.jsonl", 3, "bad", ""}) == "a.jsonl:3: bad");
  CHECK(to_string(ImportProblem{"dir/x", 0, "bad", ""}) == "dir/x: bad");
}

// ---------------------------------------------------------------------------------------
// jsonl

TEST_CASE("import jsonl: records come back exactly as exported, and twice adds nothing") {
  TempDir tmp;
  Store source = open_store(tmp / "a.db");
  auto records = sample_records(now_us() - kDayUs);
  REQUIRE(source.record(records));
  std::string text = exported(source, ExportFormat::jsonl, tmp / "out.jsonl");
  CHECK(text == as_jsonl(all_steps(source)));

  Store target = open_store(tmp / "b.db");
  ImportSummary first = import_file(target, ImportFormat::jsonl, tmp / "out.jsonl");
  CHECK(first.read == 3);
  CHECK(first.imported == 3);
  CHECK(first.duplicates == 0);
  CHECK(as_jsonl(all_steps(target)) == text);

  ImportSummary second = import_file(target, ImportFormat::jsonl, tmp / "out.jsonl");
  CHECK(second.imported == 0);
  CHECK(second.duplicates == 3);
  CHECK(all_steps(target).size() == 3);
}

TEST_CASE("import jsonl: a bad line is named by file and line, and nothing is imported") {
  TempDir tmp;
  std::int64_t base = now_us() - kDayUs;
  auto good = sample_records(base);
  std::string text = record_to_jsonl(good[0]) + "\n" + "{\"step\": \"commit\", oops}\n" +
                     record_to_jsonl(good[1]) + "\n\n" +
                     R"({"step":"commit","started_us":1,"duration_us":"slow"})" + "\n" +
                     record_to_jsonl(good[2]) + "\n";
  write_file(tmp / "in.jsonl", text);
  Store store = open_store(tmp / "s.db");

  ImportSummary refused = import_file(store, ImportFormat::jsonl, tmp / "in.jsonl", false, false);
  CHECK(refused.bad == 2);
  REQUIRE(refused.problems.size() == 2);
  CHECK(to_string(refused.problems[0]).rfind((tmp / "in.jsonl").string() + ":2: column 20: ", 0) ==
        0);
  CHECK(to_string(refused.problems[1]) ==
        (tmp / "in.jsonl").string() + ":5: \"duration_us\" must be an integer");
  CHECK(all_steps(store).empty());

  ImportSummary skipped = import_file(store, ImportFormat::jsonl, tmp / "in.jsonl", true);
  CHECK(skipped.bad == 2);
  CHECK(skipped.imported == 3);
  CHECK(all_steps(store).size() == 3);
}

TEST_CASE("import jsonl: fields are checked, unknown ones ignored, missing ids derived") {
  TempDir tmp;
  Store store = open_store(tmp / "s.db");
  const std::pair<std::string, std::string> bad[] = {
      {R"({"started_us":1,"duration_us":1})", "\"step\" must be present"},
      {R"({"step":"","started_us":1,"duration_us":1})", "\"step\" must be a non-empty string"},
      {R"({"step":"x","duration_us":1})", "\"started_us\" must be present (or started_at)"},
      {R"({"step":"x","started_us":1})", "\"duration_us\" must be present"},
      {R"({"step":"x","started_us":1,"duration_us":-1})", "\"duration_us\" must be 0 or more"},
      {R"({"step":"x","started_us":1,"duration_us":1,"status":"meh"})",
       "\"status\" must be ok, breach, failed, timeout or interrupted"},
      {R"({"step":"x","started_us":1,"duration_us":1,"trace_id":"xyz"})",
       "\"trace_id\" must be 1 to 16 hex digits, not all zero"},
      {R"({"step":"x","started_us":1,"duration_us":1,"labels":{"a":1}})",
       "label \"a\" must be a string"},
      {R"({"step":"x","started_us":1,"duration_us":1,"spans":[{"name":"a","duration_us":1}]})",
       "span: \"offset_us\" must be present"},
      {R"({"step":"x","started_us":1,"duration_us":1,"spans":{}})",
       "\"spans\" must be an array of span objects"},
      {R"([1,2])", "expected a record object, found an array"},
  };
  for (const auto& [line, message] : bad) {
    CAPTURE(line);
    write_file(tmp / "one.jsonl", line + "\n");
    ImportSummary s = import_file(store, ImportFormat::jsonl, tmp / "one.jsonl", false, false);
    REQUIRE(s.problems.size() == 1);
    CHECK(s.problems[0].message == message);
    CHECK(s.problems[0].line == 1);
  }

  // A third party's lines: no trace_id, started_at instead of started_us, a future field.
  write_file(tmp / "third.jsonl",
             R"({"step":"deploy","started_at":"2026-01-31T12:00:00.25Z","duration_us":1500,)"
             R"("exit_code":2,"future_field":{"x":[1]},"host":"ci-7"})"
             "\n");
  ImportSummary s = import_file(store, ImportFormat::jsonl, tmp / "third.jsonl");
  CHECK(s.imported == 1);
  auto steps = all_steps(store);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].step == "deploy");
  CHECK(steps[0].root.start_us == *parse_utc_timestamp("2026-01-31T12:00:00.25Z"));
  CHECK(steps[0].status == StepStatus::failed);  // derived from the exit code
  CHECK(steps[0].context.host == "ci-7");        // given
  CHECK(steps[0].context.user == "alice");       // from the importing context
  CHECK(steps[0].trace_id != 0);
  CHECK(import_file(store, ImportFormat::jsonl, tmp / "third.jsonl").duplicates == 1);
}

TEST_CASE("import jsonl: what cannot be written back the same is refused") {
  // Found by tests/fuzz/fuzz_import_journal: a start no started_at can show, a span offset
  // that overflowed when added to the start, a span exit code cut to 32 bits.
  TempDir tmp;
  Store store = open_store(tmp / "s.db");
  const std::pair<std::string, std::string> bad[] = {
      {R"({"step":"x","started_us":-9223372036854775808,"duration_us":1})",
       "\"started_us\" must be a time from year 0000 to 9999"},
      {R"({"step":"x","started_us":253402300800000000,"duration_us":1})",
       "\"started_us\" must be a time from year 0000 to 9999"},
      {R"({"step":"x","started_us":1,"duration_us":1,)"
       R"("spans":[{"name":"a","offset_us":9223372036854775807,"duration_us":1}]})",
       "span: \"offset_us\" must be an offset from the step's start that fits 64 bits"},
      {R"({"step":"x","started_us":1,"duration_us":1,)"
       R"("spans":[{"name":"a","offset_us":0,"duration_us":1,"exit_code":4294967296}]})",
       "span: \"exit_code\" must be a 32-bit integer"},
  };
  for (const auto& [line, message] : bad) {
    CAPTURE(line);
    write_file(tmp / "one.jsonl", line + "\n");
    ImportSummary s = import_file(store, ImportFormat::jsonl, tmp / "one.jsonl", false, false);
    REQUIRE(s.problems.size() == 1);
    CHECK(s.problems[0].message == message);
  }
  // The ends of the range an import takes (1970 to 9999) are records like any other, and
  // come back the same.
  write_file(tmp / "ends.jsonl",
             R"({"step":"x","started_us":0,"duration_us":1})"
             "\n"
             R"({"step":"y","started_at":"9999-12-31T23:59:59.999999Z","duration_us":1})"
             "\n");
  CHECK(import_file(store, ImportFormat::jsonl, tmp / "ends.jsonl").imported == 2);
  std::string again;
  for (const auto& r : all_steps(store)) again += record_to_jsonl(r) + "\n";
  write_file(tmp / "again.jsonl", again);
  Store other = open_store(tmp / "o.db");
  CHECK(import_file(other, ImportFormat::jsonl, tmp / "again.jsonl").imported == 2);
}

TEST_CASE("import jsonl: stdin is read as '-' and a missing file is a usage error") {
  TempDir tmp;
  Store store = open_store(tmp / "s.db");
  ImportRequest request;
  request.input = tmp / "missing.jsonl";
  ImportSummary summary;
  Status s = import_records(store, request, summary);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ExitCode::usage);
  CHECK(s.error().message.find("cannot read " + (tmp / "missing.jsonl").string()) == 0);
}

// ---------------------------------------------------------------------------------------
// journal

TEST_CASE("import journal: the journal beside the store is taken back, then removed") {
  TempDir tmp;
  const fs::path db = tmp / "perf.db";
  auto records = sample_records(now_us() - kDayUs);
  REQUIRE(append_to_journal(db, {records[0], records[1]}));
  REQUIRE(append_to_journal(db, {records[2]}));
  const fs::path journal = journal_path_for(db);
  REQUIRE(fs::exists(journal));

  Store store = open_store(db);
  ImportRequest request;
  request.format = ImportFormat::journal;
  request.options = import_options();
  ImportSummary summary;
  REQUIRE(import_records(store, request, summary));
  CHECK(summary.imported == 3);
  CHECK_FALSE(fs::exists(journal));
  CHECK(fs::is_empty(tmp.path()) == false);
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    CHECK(e.path().filename().string().find("importing") == std::string::npos);
  }
  REQUIRE_FALSE(summary.notes.empty());
  CHECK(summary.notes.back() ==
        "removed the journal " + journal.string() + " (its records are in the store now)");
  CHECK(all_steps(store).size() == 3);

  REQUIRE(import_records(store, request, summary));
  CHECK(summary.imported == 0);
  CHECK(summary.notes ==
        std::vector<std::string>{"no journal at " + journal.string() + ": nothing to import"});
}

TEST_CASE("import journal: a bad line leaves the journal in place unless skipped, then kept") {
  TempDir tmp;
  const fs::path db = tmp / "perf.db";
  auto records = sample_records(now_us() - kDayUs);
  REQUIRE(append_to_journal(db, {records[0]}));
  const fs::path journal = journal_path_for(db);
  {
    std::ofstream out(journal, std::ios::app);
    out << "{\"step\": truncated\n";
  }
  REQUIRE(append_to_journal(db, {records[1]}));
  Store store = open_store(db);
  ImportRequest request;
  request.format = ImportFormat::journal;
  request.options = import_options();
  ImportSummary summary;
  Status s = import_records(store, request, summary);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ExitCode::usage);
  REQUIRE(summary.problems.size() == 1);
  CHECK(summary.problems[0].line == 2);
  CHECK(summary.problems[0].file == journal.string());
  CHECK(fs::exists(journal));  // put back where it was
  CHECK(all_steps(store).empty());

  request.skip_bad = true;
  REQUIRE(import_records(store, request, summary));
  CHECK(summary.imported == 2);
  CHECK(summary.bad == 1);
  CHECK(summary.problems[0].file == journal.string());
  CHECK_FALSE(fs::exists(journal));
  fs::path bad = journal;
  bad += ".bad";
  CHECK(read_file(bad) == "{\"step\": truncated\n");
  struct stat st;
  REQUIRE(::stat(bad.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("import journal: a journal left aside by an interrupted import is taken too") {
  TempDir tmp;
  const fs::path db = tmp / "perf.db";
  auto records = sample_records(now_us() - kDayUs);
  REQUIRE(append_to_journal(db, {records[0]}));
  fs::path aside = journal_path_for(db);
  aside += ".importing-99999";
  fs::rename(journal_path_for(db), aside);
  REQUIRE(append_to_journal(db, {records[1]}));

  Store store = open_store(db);
  ImportRequest request;
  request.format = ImportFormat::journal;
  request.options = import_options();
  ImportSummary summary;
  REQUIRE(import_records(store, request, summary));
  CHECK(summary.imported == 2);
  CHECK_FALSE(fs::exists(aside));
  CHECK_FALSE(fs::exists(journal_path_for(db)));
}

TEST_CASE("import journal: a named journal file is imported and left alone") {
  TempDir tmp;
  auto records = sample_records(now_us() - kDayUs);
  REQUIRE(append_to_journal(tmp / "other.db", records));
  Store store = open_store(tmp / "perf.db");
  ImportSummary s = import_file(store, ImportFormat::journal, journal_path_for(tmp / "other.db"));
  CHECK(s.imported == 3);
  CHECK(fs::exists(journal_path_for(tmp / "other.db")));
}

// ---------------------------------------------------------------------------------------
// csv

TEST_CASE("import csv: our csv export comes back, child spans laid end to end") {
  TempDir tmp;
  Store source = open_store(tmp / "a.db");
  auto records = sample_records(now_us() - kDayUs);
  records[0].context.repo = "/srv/with,comma \"and quotes\"";
  records[0].labels.push_back({"multi", "line one\nline two"});
  REQUIRE(source.record(records));
  std::string csv = exported(source, ExportFormat::csv, tmp / "out.csv");

  // The same bytes as the tools' --format csv.
  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* mem = ::open_memstream(&text, &size);
  write_records(mem, Format::csv, all_steps(source), "x", 0);
  std::fclose(mem);
  CHECK(csv == std::string(text, size));
  std::free(text);

  Store target = open_store(tmp / "b.db");
  ImportSummary s = import_file(target, ImportFormat::csv, tmp / "out.csv");
  CHECK(s.imported == 3);
  CHECK(s.bad == 0);
  auto back = all_steps(target);
  auto orig = all_steps(source);
  REQUIRE(back.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(back[i].trace_id == orig[i].trace_id);
    CHECK(back[i].step == orig[i].step);
    CHECK(back[i].status == orig[i].status);
    CHECK(back[i].root.start_us == orig[i].root.start_us);
    CHECK(back[i].root.duration == orig[i].root.duration);
    CHECK(back[i].threshold == orig[i].threshold);
    CHECK(back[i].head_after == orig[i].head_after);
    CHECK(back[i].context.repo == orig[i].context.repo);
    CHECK(back[i].labels == orig[i].labels);
    CHECK(back[i].root.usage.cpu_user_us == orig[i].root.usage.cpu_user_us);
    REQUIRE(back[i].root.children.size() == 2);
    CHECK(back[i].root.children[0].name == "add");
    CHECK(back[i].root.children[0].start_us == back[i].root.start_us);
    CHECK(back[i].root.children[1].start_us ==
          back[i].root.start_us + back[i].root.children[0].duration.us);
    CHECK(back[i].root.children[1].duration == orig[i].root.children[1].duration);
  }
  CHECK(import_file(target, ImportFormat::csv, tmp / "out.csv").duplicates == 3);
}

TEST_CASE("import csv: columns are found by name; bad rows are named by line") {
  TempDir tmp;
  write_file(tmp / "in.csv",
             "duration_us,extra,step,started_at,spans\n"
             "1500,x,deploy,2026-01-31T12:00:00Z,build:1000;push:500\n"
             "oops,x,deploy,2026-01-31T12:00:01Z,\n"
             "1500,x,deploy\n"
             "1500,x,deploy,2026-01-31T12:00:03Z,build\n"
             "\"1500,x,deploy,2026-01-31T12:00:02Z,\n");
  Store store = open_store(tmp / "s.db");
  ImportSummary s = import_file(store, ImportFormat::csv, tmp / "in.csv", true);
  CHECK(s.imported == 1);
  REQUIRE(s.problems.size() == 4);
  CHECK(s.problems[0].line == 3);
  CHECK(s.problems[0].message == "\"duration_us\" must be an integer");
  CHECK(s.problems[1].line == 4);
  CHECK(s.problems[1].message == "expected 5 fields, as in the header, found 3");
  CHECK(s.problems[2].line == 5);
  CHECK(s.problems[2].message == "\"spans\" must be name:duration_us pairs separated by ';'");
  CHECK(s.problems[3].line == 6);  // the quote never closes: the rest of the file is one field
  CHECK(s.problems[3].message == "column 1: unterminated quoted field");
  auto steps = all_steps(store);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].root.children.size() == 2);
  CHECK(steps[0].context.host == "importer.example.com");

  write_file(tmp / "nohead.csv", "a,b\n1,2\n");
  ImportSummary n = import_file(store, ImportFormat::csv, tmp / "nohead.csv", false, false);
  REQUIRE(n.problems.size() == 1);
  CHECK(n.problems[0].line == 1);
  CHECK(n.problems[0].message.find("no \"step\" column") != std::string::npos);
}

// ---------------------------------------------------------------------------------------
// hyperfine

TEST_CASE("import hyperfine: every run is a step, laid end to end up to the file's time") {
  TempDir tmp;
  write_file(tmp / "hf.json", R"({
  "results": [
    {
      "command": "git status",
      "mean": 0.0015, "stddev": 0.0001, "median": 0.0015, "user": 0.001, "system": 0.0005,
      "min": 0.0014, "max": 0.0016,
      "times": [0.0014, 0.0016],
      "exit_codes": [0, 128]
    },
    {
      "command": "git log -1",
      "times": [0.0021],
      "exit_codes": [null],
      "parameters": {"n": "1"}
    }
  ]
})");
  // A known modification time: the last run ends there.
  const std::int64_t mtime_s = 1790000000;
  sh(tmp.path(), "touch -d @" + std::to_string(mtime_s) + " hf.json");
  Store store = open_store(tmp / "s.db");
  ImportSummary s = import_file(store, ImportFormat::hyperfine, tmp / "hf.json");
  CHECK(s.imported == 3);
  auto steps = all_steps(store);
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].step == "git status");
  CHECK(steps[0].root.duration.us == 1400);
  CHECK(steps[0].status == StepStatus::ok);
  CHECK(steps[1].root.start_us == steps[0].root.start_us + 1400);
  CHECK(steps[1].exit_code == 128);
  CHECK(steps[1].status == StepStatus::failed);
  CHECK(steps[2].step == "git log -1");
  CHECK(steps[2].root.start_us + steps[2].root.duration.us == mtime_s * 1000000);
  CHECK(steps[2].status == StepStatus::failed);  // null: killed by a signal
  CHECK(steps[2].labels == Labels{{"command", "git log -1"}, {"parameter.n", "1"}});
  CHECK(steps[0].context.tool == "hyperfine");
  CHECK(steps[0].context.host == "importer.example.com");
  std::set<std::uint64_t> ids;
  for (const auto& r : steps) ids.insert(r.trace_id);
  CHECK(ids.size() == 3);

  CHECK(import_file(store, ImportFormat::hyperfine, tmp / "hf.json").duplicates == 3);

  ImportOptions named = import_options();
  named.step = "status";
  Store other = open_store(tmp / "o.db");
  import_file(other, ImportFormat::hyperfine, tmp / "hf.json", false, true, named);
  for (const auto& r : all_steps(other)) CHECK(r.step == "status");
}

TEST_CASE("import hyperfine: a malformed result is reported at its line") {
  TempDir tmp;
  write_file(tmp / "hf.json",
             "{\"results\": [\n"
             "  {\"command\": \"a\", \"times\": [0.1]},\n"
             "  {\"command\": \"b\", \"times\": [0.1,\n"
             "     \"slow\"]},\n"
             "  {\"command\": \"c\", \"times\": [0.1], \"exit_codes\": [0, 0]}\n"
             "]}\n");
  Store store = open_store(tmp / "s.db");
  ImportSummary s = import_file(store, ImportFormat::hyperfine, tmp / "hf.json", true);
  CHECK(s.imported == 1);
  REQUIRE(s.problems.size() == 2);
  CHECK(s.problems[0].line == 4);
  CHECK(s.problems[0].message == "\"times\" must hold run times in seconds, 0 or more");
  CHECK(s.problems[1].line == 5);
  CHECK(s.problems[1].message == "\"exit_codes\" must be an array as long as \"times\"");

  write_file(tmp / "broken.json", "{\"results\": [\n  {\"command\": \"a\",]\n}");
  ImportSummary b = import_file(store, ImportFormat::hyperfine, tmp / "broken.json", false, false);
  REQUIRE(b.problems.size() == 1);
  CHECK(b.problems[0].line == 2);
  CHECK(b.problems[0].message.rfind("column 19: ", 0) == 0);

  write_file(tmp / "other.json", "{\"benchmarks\": []}");
  ImportSummary o = import_file(store, ImportFormat::hyperfine, tmp / "other.json", false, false);
  REQUIRE(o.problems.size() == 1);
  CHECK(o.problems[0].message.find("hyperfine --export-json") != std::string::npos);
}

// ---------------------------------------------------------------------------------------
// trace2, with real git

namespace {

// Runs a script with git writing trace2 events into `events`, in a HOME of its own.
void with_trace2(const TempDir& tmp, const fs::path& events, const std::string& script) {
  sh(tmp.path(), "export HOME='" + (tmp / "home").string() +
                     "' GIT_CONFIG_NOSYSTEM=1 GIT_TRACE2_EVENT='" + events.string() +
                     "' GIT_TRACE2_EVENT_NESTING=5 && " + script);
}

const Span* find_span(const Span& s, const std::string& name) {
  if (s.name == name) return &s;
  for (const Span& c : s.children) {
    if (const Span* found = find_span(c, name)) return found;
  }
  return nullptr;
}

ImportOptions settled_options() {
  ImportOptions o = import_options();
  o.now_us = now_us() + 2000000;  // as if a few seconds later: the files are settled
  return o;
}

}  // namespace

TEST_CASE("import trace2: a conflicted merge with its merge-ort regions and git children") {
  TempDir tmp;
  fs::create_directories(tmp / "home");
  fs::create_directories(tmp / "events");
  sh(tmp.path(), "export HOME='" + (tmp / "home").string() +
                     "' GIT_CONFIG_NOSYSTEM=1 && git init -q -b main r && cd r && "
                     "git config user.name T && git config user.email t@example.com && "
                     "echo a > f && git add f && git commit -qm a && git checkout -qb side && "
                     "echo b > f && git commit -qam b && git checkout -q main && echo c > f && "
                     "git commit -qam c");
  with_trace2(tmp, tmp / "events", "cd r && (git merge side >/dev/null 2>&1 || true)");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp / "events")) ++files;
  REQUIRE(files >= 2);  // git merge, and the git stash create it runs

  Store store = open_store(tmp / "s.db");
  ImportSummary s =
      import_file(store, ImportFormat::trace2, tmp / "events", false, true, settled_options());
  CHECK(s.imported == 1);
  CHECK(s.files_removed == files);
  CHECK(s.files_deferred == 0);
  CHECK(fs::is_empty(tmp / "events"));

  auto steps = all_steps(store);
  REQUIRE(steps.size() == 1);
  const StepRecord& merge = steps[0];
  CHECK(merge.step == "git:merge");
  CHECK(merge.exit_code == 1);  // the conflict
  CHECK(merge.status == StepStatus::failed);
  CHECK(merge.context.tool == "git");
  CHECK(merge.context.git_version.rfind("2.", 0) == 0);
  CHECK(merge.context.repo == fs::canonical(tmp / "r").string());
  CHECK(std::find(merge.labels.begin(), merge.labels.end(),
                  std::pair<std::string, std::string>{"argv", "git merge side"}) !=
        merge.labels.end());
  CHECK(merge.root.duration.us > 0);

  const Span* incore = find_span(merge.root, "merge:incore_recursive");
  REQUIRE(incore);
  CHECK(incore->start_us >= merge.root.start_us);
  CHECK(incore->start_us + incore->duration.us <= merge.root.start_us + merge.root.duration.us);
  // Nested as git nested it: collect_merge_info and process_entries inside incore_recursive.
  CHECK(find_span(*incore, "merge:collect_merge_info"));
  const Span* process = find_span(*incore, "merge:process_entries");
  REQUIRE(process);
  CHECK(find_span(*process, "merge:processing"));
  CHECK(find_span(merge.root, "merge:checkout"));
  // The git child, matched to its own file, with its exit code.
  const Span* stash = find_span(merge.root, "git:stash");
  REQUIRE(stash);
  CHECK(stash->exit_code == 0);

  // The files are gone: a second import adds nothing.
  ImportSummary again =
      import_file(store, ImportFormat::trace2, tmp / "events", false, true, settled_options());
  CHECK(again.read == 0);
  CHECK(all_steps(store).size() == 1);
}

TEST_CASE("import trace2: files still being written are left for next time") {
  TempDir tmp;
  fs::create_directories(tmp / "home");
  fs::create_directories(tmp / "events");
  sh(tmp.path(),
     "export HOME='" + (tmp / "home").string() + "' GIT_CONFIG_NOSYSTEM=1 && git init -q r");
  with_trace2(tmp, tmp / "events", "git -C r status >/dev/null");
  Store store = open_store(tmp / "s.db");
  fs::path file = fs::directory_iterator(tmp / "events")->path();
  const std::string text = read_file(file);
  REQUIRE(text.find("\"event\":\"atexit\"") != std::string::npos);
  // The file as it was before `event` was written.
  auto before = [&](std::string_view event) {
    std::string cut;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\"event\":\"" + std::string(event) + "\"") != std::string::npos) break;
      cut += line + "\n";
    }
    return cut;
  };

  // exit written, atexit not yet (git runs its exit handlers), within the last second.
  write_file(file, before("atexit"));
  ImportSummary exiting =
      import_file(store, ImportFormat::trace2, tmp / "events", false, true, import_options());
  CHECK(exiting.imported == 0);
  CHECK(exiting.files_deferred == 1);
  CHECK(exiting.files_removed == 0);

  // No exit event yet: a process still running, however long the file has been quiet.
  write_file(file, before("exit"));
  ImportSummary unfinished =
      import_file(store, ImportFormat::trace2, tmp / "events", false, true, settled_options());
  CHECK(unfinished.imported == 0);
  CHECK(unfinished.files_deferred == 1);
  CHECK(fs::exists(file));

  // Finished (atexit written): imported and removed at once, though it changed just now.
  write_file(file, text);
  ImportSummary done =
      import_file(store, ImportFormat::trace2, tmp / "events", false, true, import_options());
  CHECK(done.imported == 1);
  CHECK(done.files_deferred == 0);
  CHECK_FALSE(fs::exists(file));
  auto steps = all_steps(store);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].step == "git:status");
  CHECK(steps[0].status == StepStatus::ok);
}

TEST_CASE("import trace2: a process without an end, unchanged for a day, ends interrupted") {
  TempDir tmp;
  fs::create_directories(tmp / "home");
  fs::create_directories(tmp / "events");
  sh(tmp.path(),
     "export HOME='" + (tmp / "home").string() + "' GIT_CONFIG_NOSYSTEM=1 && git init -q r");
  with_trace2(tmp, tmp / "events", "git -C r status >/dev/null");
  // Killed before its end: no exit or atexit event.
  fs::path file = fs::directory_iterator(tmp / "events")->path();
  std::string killed, last;
  std::istringstream lines(read_file(file));
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"event\":\"exit\"") != std::string::npos) break;
    killed += line + "\n";
    last = line;
  }
  write_file(file, killed);
  Store store = open_store(tmp / "s.db");

  ImportOptions hours_later = settled_options();
  hours_later.now_us += 23LL * 3600 * 1000000;
  ImportSummary waiting =
      import_file(store, ImportFormat::trace2, tmp / "events", false, true, hours_later);
  CHECK(waiting.imported == 0);
  CHECK(waiting.files_deferred == 1);

  ImportOptions a_day_later = settled_options();
  a_day_later.now_us += 24LL * 3600 * 1000000;
  ImportSummary s =
      import_file(store, ImportFormat::trace2, tmp / "events", false, true, a_day_later);
  CHECK(s.imported == 1);
  CHECK(s.files_removed == 1);
  CHECK_FALSE(fs::exists(file));
  auto steps = all_steps(store);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].step == "git:status");
  CHECK(steps[0].status == StepStatus::interrupted);
  CHECK(steps[0].exit_code == 130);
  JsonDocument doc;
  REQUIRE_FALSE(doc.parse(last));
  const std::int64_t last_us = *parse_utc_timestamp(doc.root()["time"].as_string());
  CHECK(steps[0].root.start_us + steps[0].root.duration.us == last_us);
}

TEST_CASE("import trace2: a child whose parent is not in the directory is a step of its own") {
  TempDir tmp;
  fs::create_directories(tmp / "events");
  const std::string parent = "20260101T000000.000000Z-H00000000-P00000010";
  const std::string child = "20260101T000000.100000Z-H00000000-P00000011";
  auto event = [&](const std::string& sid, const std::string& rest) {
    return "{\"event\":" + rest.substr(0, rest.find(',')) + ",\"sid\":\"" + sid +
           "\",\"thread\":\"main\"" + rest.substr(rest.find(',')) + "}\n";
  };
  write_file(
      tmp / "events" / child,
      event(parent + "/" + child,
            R"("version","time":"2026-01-01T00:00:00.100000Z","exe":"2.39.5")") +
          event(
              parent + "/" + child,
              R"("start","time":"2026-01-01T00:00:00.101000Z","t_abs":0.001,"argv":["git","gc","--auto"])") +
          event(parent + "/" + child,
                R"("cmd_name","time":"2026-01-01T00:00:00.101100Z","name":"gc")") +
          event(
              parent + "/" + child,
              R"("region_enter","time":"2026-01-01T00:00:00.102000Z","nesting":1,"category":"gc","label":"pack")") +
          event(
              parent + "/" + child,
              R"("region_leave","time":"2026-01-01T00:00:00.152000Z","t_rel":0.05,"nesting":1,"category":"gc","label":"pack")") +
          event(parent + "/" + child,
                R"("exit","time":"2026-01-01T00:00:00.160000Z","t_abs":0.06,"code":0)"));
  Store store = open_store(tmp / "s.db");
  ImportSummary s =
      import_file(store, ImportFormat::trace2, tmp / "events", false, true, settled_options());
  CHECK(s.imported == 1);
  auto steps = all_steps(store);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].step == "git:gc");
  CHECK(steps[0].root.start_us == *parse_utc_timestamp("2026-01-01T00:00:00.100000Z"));
  CHECK(steps[0].root.duration.us == 60000);
  REQUIRE(steps[0].root.children.size() == 1);
  CHECK(steps[0].root.children[0].name == "gc:pack");
  CHECK(steps[0].root.children[0].duration.us == 50000);
  CHECK(steps[0].root.children[0].start_us - steps[0].root.start_us == 2000);
  CHECK(std::find(steps[0].labels.begin(), steps[0].labels.end(),
                  std::pair<std::string, std::string>{"parent_sid", parent}) !=
        steps[0].labels.end());
  CHECK(steps[0].trace_id == stable_trace_id(parent + "/" + child));
}

TEST_CASE("import trace2: a file that is not trace2 is reported and left alone") {
  TempDir tmp;
  fs::create_directories(tmp / "events");
  write_file(tmp / "events" / "notes.txt", "hello\n");
  sh(tmp.path(), "touch -d '-10 seconds' events/notes.txt");
  Store store = open_store(tmp / "s.db");
  // Not a bad line: the import goes on without --skip-bad.
  ImportSummary s =
      import_file(store, ImportFormat::trace2, tmp / "events", false, true, import_options());
  CHECK(s.bad == 0);
  REQUIRE(s.left_alone.size() == 1);
  CHECK(s.left_alone[0].file == (tmp / "events" / "notes.txt").string());
  CHECK(s.left_alone[0].message.rfind("not a trace2 event file (its first line is not a", 0) == 0);
  CHECK(fs::exists(tmp / "events" / "notes.txt"));

  ImportRequest request;
  request.format = ImportFormat::trace2;
  request.input = tmp / "events" / "notes.txt";
  ImportSummary summary;
  Status notdir = import_records(store, request, summary);
  REQUIRE_FALSE(notdir.ok());
  CHECK(notdir.error().message.find("is not a directory") != std::string::npos);
}

TEST_CASE("import trace2: seconds past 1e9 and signals past 127 are bad events") {
  // Found by tests/fuzz/fuzz_import_trace2: t_abs 1e308 overflowed the start time computed
  // from it, and a huge signo the exit code.
  TempDir tmp;
  fs::create_directories(tmp / "events");
  const std::string sid = "20260101T000000.000000Z-H00000000-P00000010";
  auto event = [&](const std::string& rest) {
    return R"({"event":)" + rest.substr(0, rest.find(',')) + R"(,"sid":")" + sid +
           R"(","thread":"main","time":"2026-01-01T00:00:01Z")" + rest.substr(rest.find(',')) +
           "}\n";
  };
  const std::string start = event(R"("start","t_abs":0.1,"argv":["git"])");
  const std::string exit = event(R"("exit","t_abs":1,"code":0)");
  const std::pair<std::string, std::string> bad[] = {
      {event(R"("start","t_abs":1e308,"argv":["git"])") + exit,
       "a start event needs \"t_abs\" in seconds, 0 to 1e9"},
      {event(R"("start","t_abs":-1,"argv":["git"])") + exit,
       "a start event needs \"t_abs\" in seconds, 0 to 1e9"},
      {start + event(R"("exit","t_abs":1e300,"code":0)"),
       "a exit event needs \"t_abs\" in seconds, 0 to 1e9"},
      {start + event(R"("signal","t_abs":1,"signo":2147483647)"),
       "a signal event needs \"signo\" from 0 to 127"},
  };
  for (const auto& [text, message] : bad) {
    CAPTURE(text);
    write_file(tmp / "events" / sid, text);
    Store store = open_store(tmp / "s.db");
    ImportSummary s =
        import_file(store, ImportFormat::trace2, tmp / "events", true, true, settled_options());
    REQUIRE(s.problems.size() >= 1);
    CHECK(s.problems[0].message == message);
  }
}

// ---------------------------------------------------------------------------------------
// prometheus

namespace {

// A strict reading of the text exposition format 0.0.4: every line a HELP, a TYPE or a
// sample; names and label names valid; label values escaped; a family's samples together,
// after its TYPE; the text ends with a newline. Returns the samples by their full text
// before the value.
std::map<std::string, double> check_exposition(const std::string& text) {
  REQUIRE_FALSE(text.empty());
  CHECK(text.back() == '\n');
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
  static const std::regex type(
      R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,|(?=\})))*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf))");
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::set<std::string> finished;
  std::string current;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    CAPTURE(line);
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      CHECK(types.count(m[1]) == 0);  // HELP first, once
      continue;
    }
    if (std::regex_match(line, m, type)) {
      CHECK(types.count(m[1]) == 0);
      if (!current.empty()) finished.insert(current);
      current = m[1];
      types[m[1]] = m[2];
      continue;
    }
    REQUIRE(std::regex_match(line, m, sample));
    std::string name = m[1];
    std::string family = name;
    for (const char* suffix : {"_sum", "_count", "_bucket"}) {
      std::string base = name.substr(0, name.size() - std::min(name.size(), std::strlen(suffix)));
      if (name.size() > std::strlen(suffix) &&
          name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0 &&
          types.count(base) &&
          (types[base] == "histogram" || (types[base] == "summary" && suffix[1] != 'b'))) {
        family = base;
      }
    }
    CHECK(family == current);  // after its TYPE, samples of a family together
    CHECK(finished.count(family) == 0);
    std::string key = line.substr(0, line.rfind(' '));
    CHECK(samples.count(key) == 0);  // no series twice
    samples[key] = std::stod(m[3]);
  }
  return samples;
}

}  // namespace

TEST_CASE("export prometheus: a histogram of the completed runs per step, with counters") {
  TempDir tmp;
  Store store = open_store(tmp / "s.db");
  std::int64_t base = now_us() - kDayUs;
  std::vector<StepRecord> records;
  std::vector<std::int64_t> completed;
  for (int i = 0; i < 37; ++i) {
    std::int64_t add = 1000 + (i * 7919) % 50000, commit = 20000 + (i * 104729) % 900000;
    StepStatus status = i % 10 == 3   ? StepStatus::breach
                        : i % 10 == 7 ? StepStatus::failed
                                      : StepStatus::ok;
    if (i == 9) status = StepStatus::timeout;
    records.push_back(commit_record(100 + i, base + i * 1000000, add, commit, status));
    if (status == StepStatus::ok || status == StepStatus::breach) {
      completed.push_back(add + commit + 100);
    }
  }
  // On a bucket's bound exactly: counted in it (le is "less than or equal").
  records.push_back(commit_record(98, base - 1000000, 2000, 2900));
  completed.push_back(5000);
  StepRecord odd = commit_record(999, base, 1000, 1000);
  odd.step = "rollback";
  odd.context.repo = "C:\\repo \"quoted\"\nnext";
  odd.threshold.reset();
  records.push_back(odd);
  REQUIRE(store.record(records));

  std::string text = exported(store, ExportFormat::prometheus, tmp / "perfguard.prom");
  auto samples = check_exposition(text);
  const std::string commit = "{repo=\"/srv/payments\",step=\"commit\"";
  const std::pair<const char*, std::int64_t> bounds[] = {
      {"0.005", 5000},  {"0.01", 10000},  {"0.025", 25000}, {"0.05", 50000},    {"0.1", 100000},
      {"0.25", 250000}, {"0.5", 500000},  {"1", 1000000},   {"2", 2000000},     {"5", 5000000},
      {"10", 10000000}, {"30", 30000000}, {"60", 60000000}, {"+Inf", INT64_MAX}};
  double previous = 0;
  for (auto [le, us] : bounds) {
    const std::string key =
        "perfguard_step_duration_seconds_bucket" + commit + ",le=\"" + le + "\"}";
    CAPTURE(key);
    REQUIRE(samples.count(key));
    const auto within = std::count_if(completed.begin(), completed.end(),
                                      [us = us](std::int64_t d) { return d <= us; });
    CHECK(samples[key] == static_cast<double>(within));
    CHECK(samples[key] >= previous);  // cumulative
    previous = samples[key];
  }
  double sum = 0;
  for (std::int64_t d : completed) sum += static_cast<double>(d) / 1e6;
  CHECK(samples["perfguard_step_duration_seconds_sum" + commit + "}"] ==
        doctest::Approx(sum).epsilon(1e-9));
  CHECK(samples["perfguard_step_duration_seconds_count" + commit + "}"] ==
        static_cast<double>(completed.size()));
  CHECK(samples["perfguard_step_runs_total" + commit + ",status=\"ok\"}"] == 30);
  CHECK(samples["perfguard_step_runs_total" + commit + ",status=\"breach\"}"] == 4);
  CHECK(samples["perfguard_step_runs_total" + commit + ",status=\"failed\"}"] == 3);
  CHECK(samples["perfguard_step_runs_total" + commit + ",status=\"timeout\"}"] == 1);
  CHECK(samples["perfguard_step_runs_total" + commit + ",status=\"interrupted\"}"] == 0);
  CHECK(samples["perfguard_step_breaches_total" + commit + "}"] == 4);
  CHECK(samples["perfguard_step_failures_total" + commit + "}"] == 4);
  CHECK(samples["perfguard_step_threshold_seconds" + commit + "}"] == 1);
  CHECK(samples["perfguard_step_last_run_timestamp_seconds" + commit + "}"] ==
        doctest::Approx(static_cast<double>(base + 36 * 1000000) / 1e6));
  // Escaped label values; no threshold sample for a step without one.
  const std::string rollback = "{repo=\"C:\\\\repo \\\"quoted\\\"\\nnext\",step=\"rollback\"";
  CHECK(samples.count("perfguard_step_duration_seconds_count" + rollback + "}"));
  CHECK_FALSE(samples.count("perfguard_step_threshold_seconds" + rollback + "}"));
  CHECK(text.find("# TYPE perfguard_step_duration_seconds histogram\n") != std::string::npos);
  CHECK(text.find("# TYPE perfguard_step_runs_total counter\n") != std::string::npos);
  CHECK(text.find("# TYPE perfguard_step_breaches_total counter\n") != std::string::npos);
  // The window is said: all of the store here.
  CHECK(text.find("over every run in the store") != std::string::npos);

  // --since and --step narrow what is counted, and the HELP text says since when.
  std::string recent =
      exported(store, ExportFormat::prometheus, tmp / "recent.prom", base + 30 * 1000000, "commit");
  auto narrowed = check_exposition(recent);
  CHECK(narrowed["perfguard_step_duration_seconds_count" + commit + "}"] == 7);
  CHECK(narrowed["perfguard_step_runs_total" + commit + ",status=\"breach\"}"] == 1);
  CHECK(narrowed["perfguard_step_runs_total" + commit + ",status=\"failed\"}"] == 0);
  CHECK_FALSE(narrowed.count("perfguard_step_duration_seconds_count" + rollback + "}"));
  CHECK(recent.find("over the runs started since " + format_timestamp(base + 30 * 1000000)) !=
        std::string::npos);
}

TEST_CASE("export prometheus: an empty store still gives a valid file") {
  TempDir tmp;
  Store store = open_store(tmp / "s.db");
  std::string text = exported(store, ExportFormat::prometheus, tmp / "p.prom");
  CHECK(check_exposition(text).empty());
}

TEST_CASE("export: -o replaces the file whole, readable by others") {
  TempDir tmp;
  Store store = open_store(tmp / "s.db");
  REQUIRE(store.record(sample_records(now_us() - kDayUs)));
  write_file(tmp / "out.prom", "old\n");
  exported(store, ExportFormat::prometheus, tmp / "out.prom");
  CHECK(read_file(tmp / "out.prom").rfind("# HELP", 0) == 0);
  struct stat st;
  REQUIRE(::stat((tmp / "out.prom").c_str(), &st) == 0);
  mode_t mask = ::umask(0);
  ::umask(mask);
  CHECK((st.st_mode & 0777) == (0666 & ~mask));
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------
// otlp

TEST_CASE("export otlp: resource, scope and spans with deterministic ids and parent links") {
  TempDir tmp;
  Store store = open_store(tmp / "s.db");
  auto records = sample_records(now_us() - kDayUs);
  records[2].context.host = "build-2.example.com";
  REQUIRE(store.record(records));
  std::string text = exported(store, ExportFormat::otlp, tmp / "traces.json");
  CHECK(text == exported(store, ExportFormat::otlp, tmp / "again.json"));  // deterministic
  CHECK(text.back() == '\n');

  JsonDocument doc;
  auto error = doc.parse(text);
  REQUIRE_MESSAGE(!error, to_string(*error));
  JsonValue resources = doc.root()["resourceSpans"];
  REQUIRE(resources.size() == 2);  // one per host
  static const std::regex hex32("[0-9a-f]{32}"), hex16("[0-9a-f]{16}"), digits("[0-9]+");
  std::map<std::string, JsonValue> by_id;
  std::vector<JsonValue> spans;
  std::set<std::string> hosts;
  for (JsonValue rs : resources.items()) {
    std::map<std::string, std::string> attributes;
    for (JsonValue a : rs["resource"]["attributes"].items()) {
      attributes[std::string(a["key"].as_string())] = a["value"]["stringValue"].as_string();
    }
    CHECK(attributes["service.name"] == "perfguard");
    hosts.insert(attributes["host.name"]);
    JsonValue scope = rs["scopeSpans"];
    REQUIRE(scope.size() == 1);
    JsonValue first = *scope.items().begin();
    CHECK(first["scope"]["name"].as_string() == "perfguard");
    CHECK_FALSE(first["scope"]["version"].as_string().empty());
    for (JsonValue s : first["spans"].items()) {
      std::string id(s["spanId"].as_string());
      CHECK(std::regex_match(id, hex16));
      CHECK(std::regex_match(std::string(s["traceId"].as_string()), hex32));
      CHECK(std::regex_match(std::string(s["startTimeUnixNano"].as_string()), digits));
      CHECK(std::regex_match(std::string(s["endTimeUnixNano"].as_string()), digits));
      CHECK(std::stoll(std::string(s["endTimeUnixNano"].as_string())) >=
            std::stoll(std::string(s["startTimeUnixNano"].as_string())));
      CHECK(s["kind"].as_int64() == 1);
      CHECK(by_id.count(id) == 0);
      by_id[id] = s;
      spans.push_back(s);
    }
  }
  CHECK(hosts == std::set<std::string>{"build-1.example.com", "build-2.example.com"});
  CHECK(spans.size() == 3 * 4);  // root, add, commit, hook:pre-commit

  int roots = 0;
  for (JsonValue s : spans) {
    if (!s["parentSpanId"]) {
      ++roots;
      CHECK(s["traceId"].as_string().substr(0, 16) == "0000000000000000");
      continue;
    }
    std::string parent(s["parentSpanId"].as_string());
    REQUIRE(by_id.count(parent));
    JsonValue p = by_id[parent];
    CHECK(p["traceId"].as_string() == s["traceId"].as_string());
    CHECK(std::stoll(std::string(s["startTimeUnixNano"].as_string())) >=
          std::stoll(std::string(p["startTimeUnixNano"].as_string())));
    if (s["name"].as_string() == "hook:pre-commit") CHECK(p["name"].as_string() == "commit");
  }
  CHECK(roots == 3);

  // Status: OK for ok, ERROR with a message for a breach and a failure.
  std::map<std::string, std::pair<std::int64_t, std::string>> statuses;
  for (JsonValue s : spans) {
    if (s["parentSpanId"]) continue;
    std::string status;
    for (JsonValue a : s["attributes"].items()) {
      if (a["key"].as_string() == "perfguard.status")
        status = a["value"]["stringValue"].as_string();
    }
    statuses[status] = {s["status"]["code"].as_int64().value_or(-1),
                        std::string(s["status"]["message"].as_string())};
  }
  CHECK(statuses["ok"].first == 1);
  CHECK(statuses["breach"].first == 2);
  CHECK(statuses["breach"].second.find("over the 1s threshold") != std::string::npos);
  CHECK(statuses["failed"].first == 2);
  CHECK(statuses["failed"].second == "failed with exit code 1");
}

// ---------------------------------------------------------------------------------------
// Store: streaming reads and pruning

TEST_CASE("store: for_each_step streams by step and time, oldest or newest first") {
  TempDir tmp;
  Store store = open_store(tmp / "s.db");
  std::int64_t base = now_us() - 10 * kDayUs;
  std::vector<StepRecord> records;
  for (int i = 0; i < 10; ++i) {
    StepRecord r = commit_record(1 + i, base + i * kDayUs, 1000, 1000);
    if (i % 2) r.step = "rollback";
    records.push_back(r);
  }
  REQUIRE(store.record(records));
  StepQuery q;
  q.step = "commit";
  q.since_us = base + 3 * kDayUs;
  std::vector<std::int64_t> starts;
  REQUIRE(store.for_each_step(q, [&](StepRecord& r) -> Status {
    CHECK(r.step == "commit");
    starts.push_back(r.root.start_us);
    return {};
  }));
  CHECK(starts ==
        std::vector<std::int64_t>{base + 4 * kDayUs, base + 6 * kDayUs, base + 8 * kDayUs});
  q = StepQuery{};
  q.newest_first = true;
  q.limit = 2;
  q.before_us = base + 5 * kDayUs;
  starts.clear();
  REQUIRE(store.for_each_step(q, [&](StepRecord& r) -> Status {
    starts.push_back(r.root.start_us);
    return {};
  }));
  CHECK(starts == std::vector<std::int64_t>{base + 4 * kDayUs, base + 3 * kDayUs});

  // A visitor's error stops the walk and comes back.
  int seen = 0;
  Status stopped = store.for_each_step(StepQuery{}, [&](StepRecord&) -> Status {
    return ++seen == 3 ? Status(make_error(ExitCode::step_failed, "enough")) : Status();
  });
  REQUIRE_FALSE(stopped.ok());
  CHECK(stopped.error().message == "enough");
  CHECK(seen == 3);
}

TEST_CASE("store: prune removes old steps with their spans, and a dry run only counts") {
  TempDir tmp;
  Store store = open_store(tmp / "s.db");
  std::int64_t now = now_us();
  std::vector<StepRecord> records;
  for (int i = 0; i < 6; ++i) {
    records.push_back(commit_record(1 + i, now - (i < 4 ? 100 : 10) * kDayUs - i, 1000, 1000));
  }
  REQUIRE(store.record(records));
  REQUIRE(store.record_snapshot({"snap-1", "c", "h", "main", now - 200 * kDayUs, "t", "r"}));

  auto dry = store.prune_steps(now - 90 * kDayUs, true);
  REQUIRE(dry.ok());
  CHECK(dry->steps == 4);
  CHECK(dry->spans == 4 * 3);  // add, commit, hook:pre-commit
  CHECK(all_steps(store).size() == 6);

  auto done = store.prune_steps(now - 90 * kDayUs, false);
  REQUIRE(done.ok());
  CHECK(done->steps == 4);
  CHECK(done->spans == 12);
  auto left = all_steps(store);
  CHECK(left.size() == 2);
  for (const auto& r : left) CHECK(r.root.children.size() == 2);

  CHECK(query_int(store.path(), "SELECT count(*) FROM spans") == 6);
  CHECK(query_int(store.path(), "SELECT count(*) FROM snapshots") == 1);  // not pruned here

  auto none = store.prune_steps(now - 90 * kDayUs, false);
  REQUIRE(none.ok());
  CHECK(none->steps == 0);
}

TEST_CASE("store: a bulk import that is not committed leaves nothing behind") {
  TempDir tmp;
  Store store = open_store(tmp / "s.db");
  {
    auto import = store.begin_import();
    REQUIRE(import.ok());
    auto added = import->add(commit_record(1, now_us(), 1, 1));
    REQUIRE(added.ok());
    CHECK(*added);
    added = import->add(commit_record(1, now_us() - 5, 1, 1));
    CHECK(*added);
  }
  CHECK(all_steps(store).empty());
  auto import = store.begin_import();
  REQUIRE(import.ok());
  StepRecord r = commit_record(1, 1000, 1, 1);
  CHECK(*import->add(r));
  CHECK_FALSE(*import->add(r));  // the same trace, step and start: already there
  REQUIRE(import->commit());
  CHECK(all_steps(store).size() == 1);
}

// ---------------------------------------------------------------------------------------
// Bytes that are not UTF-8, in and out

namespace {

// A record whose texts are bytes, not UTF-8: a Latin-1 path and branch, a stray byte in a
// label and a span, and a `%` that would read back as another byte if it were written as
// it is.
StepRecord record_in_bytes(std::uint64_t trace_id, std::int64_t start_us) {
  StepRecord r = commit_record(trace_id, start_us, 1000, 2000);
  r.context.repo = "/srv/caf\xE9/r\xFF";
  r.context.branch =
      "b\xE9"
      "50%41";
  r.root.children[0].name = "add\xFE";
  r.labels = {{"note", "caf\xE9"}, {"k\xFF", "100%"}};
  return r;
}

}  // namespace

TEST_CASE("export and import: bytes that are not UTF-8 are percent-encoded and come back") {
  TempDir tmp;
  Store source = open_store(tmp / "source.db");
  const std::int64_t base = now_us() - kDayUs;
  REQUIRE(source.record({record_in_bytes(0x51, base), record_in_bytes(0x52, base + 1000000)}));
  const std::vector<StepRecord> stored = all_steps(source);
  REQUIRE(stored.size() == 2);
  CHECK(stored[0].context.repo == "/srv/caf\xE9/r\xFF");  // the store keeps the bytes
  CHECK(stored[0].labels == record_in_bytes(0x51, base).labels);

  const std::string jsonl = exported(source, ExportFormat::jsonl, tmp / "out.jsonl");
  const std::string csv = exported(source, ExportFormat::csv, tmp / "out.csv");
  const std::string prometheus = exported(source, ExportFormat::prometheus, tmp / "out.prom");
  const std::string otlp = exported(source, ExportFormat::otlp, tmp / "out.json");
  for (const std::string* text : {&jsonl, &csv, &prometheus, &otlp}) {
    CHECK(is_utf8(*text));
    CHECK(text->find("/srv/caf%E9/r%FF") != std::string::npos);
  }
  CHECK(jsonl.find("\"branch\":\"b%E950%2541\"") != std::string::npos);
  CHECK(jsonl.find("\"labels\":{\"note\":\"caf%E9\",\"k%FF\":\"100%\"}") != std::string::npos);
  CHECK(prometheus.find("{repo=\"/srv/caf%E9/r%FF\",step=\"commit\"}") != std::string::npos);

  for (auto [format, file] : {std::pair{ImportFormat::jsonl, tmp / "out.jsonl"},
                              std::pair{ImportFormat::csv, tmp / "out.csv"}}) {
    CAPTURE(to_string(format));
    Store copy = open_store(tmp / (std::string("copy-") + to_string(format) + ".db"));
    import_file(copy, format, file);
    const std::vector<StepRecord> back = all_steps(copy);
    REQUIRE(back.size() == 2);
    for (std::size_t i = 0; i < back.size(); ++i) {
      CHECK(back[i].context.repo == stored[i].context.repo);
      CHECK(back[i].context.branch == stored[i].context.branch);
      CHECK(back[i].root.children[0].name == stored[i].root.children[0].name);
      CHECK(back[i].labels == stored[i].labels);
    }
    if (format == ImportFormat::jsonl) {
      CHECK(exported(copy, ExportFormat::jsonl, tmp / "again.jsonl") == jsonl);
    }
  }
}

TEST_CASE("import journal: a record journaled from a path that is not UTF-8 keeps its bytes") {
  TempDir tmp;
  const fs::path db = tmp / "caf\xE9.db";
  const StepRecord r = record_in_bytes(0x61, now_us() - kDayUs);
  REQUIRE(append_to_journal(db, {r}).ok());
  CHECK(is_utf8(read_file(journal_path_for(db))));
  Store store = open_store(db);
  ImportRequest request;
  request.format = ImportFormat::journal;
  request.options = import_options();
  ImportSummary summary;
  REQUIRE(import_records(store, request, summary));
  CHECK(summary.imported == 1);
  const std::vector<StepRecord> back = all_steps(store);
  REQUIRE(back.size() == 1);
  CHECK(back[0].context.repo == r.context.repo);
  CHECK(back[0].labels == r.labels);
}

TEST_CASE("import: no store is made when the import refuses before it writes anything") {
  TempDir tmp;
  const fs::path db = tmp / "new" / "perf.db";
  auto import = [&](ImportFormat format, const fs::path& input) {
    ImportRequest request;
    request.format = format;
    request.input = input;
    request.options = import_options();
    ImportSummary summary;
    return import_records(StoreOptions{db}, request, summary);
  };
  Status missing = import(ImportFormat::jsonl, tmp / "missing.jsonl");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ExitCode::usage);
  write_file(tmp / "bad.jsonl",
             "{\"step\":\"commit\"}\n" + as_jsonl({commit_record(1, 1000, 1, 1)}));
  Status bad = import(ImportFormat::jsonl, tmp / "bad.jsonl");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ExitCode::usage);
  CHECK(import(ImportFormat::journal, {}).ok());  // no journal: nothing to do
  CHECK_FALSE(fs::exists(db));
  CHECK_FALSE(fs::exists(db.parent_path()));

  write_file(tmp / "good.jsonl", as_jsonl({commit_record(1, 1000, 1, 1)}));
  REQUIRE(import(ImportFormat::jsonl, tmp / "good.jsonl"));
  Store made = open_store(db);
  CHECK(all_steps(made).size() == 1);
}

TEST_CASE("import: an interrupt before the commit rolls it all back, and the next takes it all") {
  TempDir tmp;
  Store store = open_store(tmp / "s.db");
  std::vector<StepRecord> records;
  for (int i = 0; i < 600; ++i) records.push_back(commit_record(0x100 + i, 1000 + i, 1, 1));
  write_file(tmp / "in.jsonl", as_jsonl(records));

  install_interrupt_forwarding();
  clear_received_interrupt();
  ::raise(SIGTERM);  // noted, as it would be at any instant of a long import
  ImportRequest request;
  request.format = ImportFormat::jsonl;
  request.input = tmp / "in.jsonl";
  request.options = import_options();
  ImportSummary summary;
  Status stopped = import_records(store, request, summary);
  clear_received_interrupt();
  REQUIRE_FALSE(stopped.ok());
  CHECK(stopped.error().code == ExitCode::interrupted);
  CHECK(all_steps(store).empty());

  REQUIRE(import_records(store, request, summary));
  CHECK(summary.imported == 600);
  CHECK(summary.duplicates == 0);
  CHECK(all_steps(store).size() == 600);
}
