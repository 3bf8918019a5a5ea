#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "output/json.h"
#include "output/record_json.h"

using namespace perfguard;

namespace {

std::string quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

StepRecord sample_record() {
  StepRecord r;
  r.trace_id = 0x00ab'cdef'0123'4567ULL;
  r.step = "commit";
  r.status = StepStatus::breach;
  r.root.name = "commit";
  r.root.start_us = 1795447812123456;  // 2026-11-23T15:30:12.123456Z
  r.root.duration = Duration::micros(1234567);
  r.root.usage = {1500, 700, 10240};
  r.threshold = Duration::seconds(1);
  r.exit_code = 3;
  r.head_before = "0123456789abcdef0123456789abcdef01234567";
  r.head_after = "";
  r.context = {"/srv/repo", "main",        "build-1", "alice", "github",
               "42",        "perf-commit", "0.1.0",   "2.39.5"};
  Span add{"add", r.root.start_us + 10, Duration::micros(200000), 0, {100, 50, 9000}, {}};
  Span commit{"commit", r.root.start_us + 200020, Duration::micros(1000000), 0, {}, {}};
  commit.children.push_back(
      Span{"hook:pre-commit", r.root.start_us + 200030, Duration::micros(900000), 1, {}, {}});
  r.root.children = {add, commit};
  r.labels = {{"ticket", "OPS-1"}, {"note", "a \"quoted\"\nline"}};
  return r;
}

}  // namespace

TEST_CASE("JSON strings escape quotes, backslashes and control characters") {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"", R"("")"},
      {"plain", R"("plain")"},
      {"say \"hi\"", R"("say \"hi\"")"},
      {"C:\\path", R"("C:\\path")"},
      {"a\nb", R"("a\nb")"},
      {"tab\there", R"("tab\there")"},
      {"\r\b\f", R"("\r\b\f")"},
      {std::string("nul\0byte", 8), R"("nul\u0000byte")"},
      {"\x01\x1f", R"("\u0001\u001f")"},
      {"\x7f", "\"\x7f\""},
      {"/slash", R"("/slash")"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    CHECK(quoted(c.in) == c.out);
  }
}

TEST_CASE("JSON strings keep valid UTF-8 and percent-encode bytes that are not") {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"caf\xC3\xA9", "\"caf\xC3\xA9\""},            // é
      {"\xE2\x82\xAC", "\"\xE2\x82\xAC\""},          // €
      {"\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\""},  // 😀
      {"100%", "\"100%\""},                          // no %XX: as it is
      {"a\xFF"
       "b",
       "\"a%FFb\""},                             // never valid
      {"\xC3", "\"%C3\""},                       // truncated at the end
      {"\xC0\xAF", "\"%C0%AF\""},                // overlong '/'
      {"\xED\xA0\x80", "\"%ED%A0%80\""},         // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", "\"%F4%90%80%80\""},  // above U+10FFFF
      {"\xE2\x82\"A", "\"%E2%82\\\"A\""},        // truncated, then a quote, escaped after
      {"50%\x80", "\"50%25%80\""},               // the % escaped too
      {"a%41", "\"a%2541\""},                    // valid, but would decode to "aA"
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    CHECK(quoted(c.in) == c.out);
  }
}

TEST_CASE("a JsonWriter for the store writes bytes that are not UTF-8 as they are") {
  JsonWriter w(JsonStrings::bytes);
  w.begin_object().key("k\xFF").value("v\xFE%41").end_object();
  CHECK(w.str() == "{\"k\xFF\":\"v\xFE%41\"}");
}

TEST_CASE("JsonWriter separates members and elements with commas") {
  JsonWriter w;
  w.begin_object();
  w.key("a").value(1);
  w.key("b").begin_array().value("x").value(true).null().begin_object().end_object().end_array();
  w.key("c").value(std::int64_t{-9007199254740993});
  w.key("d").begin_object().end_object();
  w.end_object();
  CHECK(w.str() == R"({"a":1,"b":["x",true,null,{}],"c":-9007199254740993,"d":{}})");
}

TEST_CASE("JSON doubles round-trip and are never NaN or Infinity") {
  auto one = [](double v) {
    JsonWriter w;
    w.value(v);
    return w.take();
  };
  CHECK(one(1.5) == "1.5");
  CHECK(one(0.1) == "0.1");
  CHECK(one(2.0) == "2");
  // No exponent for the durations and ratios we write: scripts and spreadsheets read these.
  CHECK(one(100000.0) == "100000");
  CHECK(one(-2500000.0) == "-2500000");
  CHECK(one(0.00025) == "0.00025");
  CHECK(one(0.0) == "0");
  CHECK(one(1e20) == "1e+20");
  CHECK(std::stod(one(1e-9)) == 1e-9);
  CHECK(std::stod(one(1.0 / 3.0)) == 1.0 / 3.0);
  CHECK(std::stod(one(123456.789012345)) == 123456.789012345);
  CHECK(one(std::nan("")) == "null");
  CHECK(one(std::numeric_limits<double>::infinity()) == "null");
  CHECK(one(-std::numeric_limits<double>::infinity()) == "null");
  JsonWriter w;
  w.begin_array().value(std::nan("")).value(1.25).end_array();
  CHECK(w.str() == "[null,1.25]");
}

TEST_CASE("format_utc_timestamp prints ISO-8601 UTC with microseconds") {
  CHECK(format_utc_timestamp(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(format_utc_timestamp(1795447812123456) == "2026-11-23T15:30:12.123456Z");
  CHECK(format_utc_timestamp(1795447812000001) == "2026-11-23T15:30:12.000001Z");
  CHECK(format_utc_timestamp(-1) == "1969-12-31T23:59:59.999999Z");
}

TEST_CASE("a record's JSON has every documented field") {
  std::string line = record_to_jsonl(sample_record());
  CHECK(line.find('\n') == std::string::npos);
  const char* expected[] = {
      R"({"trace_id":"00abcdef01234567",)",
      R"("step":"commit",)",
      R"("status":"breach",)",
      R"("started_at":"2026-11-23T15:30:12.123456Z",)",
      R"("started_us":1795447812123456,)",
      R"("duration_us":1234567,)",
      R"("threshold_us":1000000,)",
      R"("exit_code":3,)",
      R"("repo":"/srv/repo","branch":"main",)",
      R"("head_before":"0123456789abcdef0123456789abcdef01234567","head_after":"",)",
      R"("host":"build-1","user":"alice","ci_provider":"github","ci_job":"42",)",
      R"("tool":"perf-commit","tool_version":"0.1.0","git_version":"2.39.5",)",
      R"("cpu_user_us":1500,"cpu_sys_us":700,"max_rss_kb":10240,)",
      R"("spans":[{"name":"add","offset_us":10,"duration_us":200000,"exit_code":0,)"
      R"("cpu_user_us":100,"cpu_sys_us":50,"max_rss_kb":9000,"spans":[]},)",
      R"({"name":"commit","offset_us":200020,"duration_us":1000000,"exit_code":0,)",
      R"("spans":[{"name":"hook:pre-commit","offset_us":200030,"duration_us":900000,)"
      R"("exit_code":1,)",
      R"("labels":{"ticket":"OPS-1","note":"a \"quoted\"\nline"}})",
  };
  for (const char* part : expected) {
    CAPTURE(part);
    CHECK(line.find(part) != std::string::npos);
  }
}

TEST_CASE("a record without a threshold, exit codes or labels writes nulls and empty objects") {
  StepRecord r = sample_record();
  r.threshold.reset();
  r.labels.clear();
  r.root.children = {Span{"status", r.root.start_us, Duration::micros(5), std::nullopt, {}, {}}};
  std::string line = record_to_jsonl(r);
  CHECK(line.find(R"("threshold_us":null,)") != std::string::npos);
  CHECK(line.find(R"("exit_code":null,)") != std::string::npos);
  CHECK(line.find(R"("labels":{}})") != std::string::npos);
}
