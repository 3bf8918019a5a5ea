#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "core/json_reader.h"
#include "output/json.h"

using namespace perfguard;

namespace {

// The error of a text that must not parse.
JsonError error_of(std::string_view text) {
  JsonDocument doc;
  auto error = doc.parse(text);
  REQUIRE_MESSAGE(error.has_value(), "parsed: " << text);
  CHECK_FALSE(doc.root().valid());
  return *error;
}

}  // namespace

TEST_CASE("json_reader: scalars, arrays and objects read back with their types") {
  JsonDocument doc;
  REQUIRE_FALSE(doc.parse(R"( {"a": 1, "b": -2.5e1, "c": "x", "d": true, "e": false,
                              "f": null, "g": [1, [2, 3], {}], "h": {"i": []}} )"));
  JsonValue root = doc.root();
  REQUIRE(root.is_object());
  CHECK(root.size() == 8);
  CHECK(root["a"].as_int64() == 1);
  CHECK(root["b"].is_number());
  CHECK_FALSE(root["b"].as_int64());
  CHECK(root["b"].as_double() == -25.0);
  CHECK(root["b"].raw_number() == "-2.5e1");
  CHECK(root["c"].as_string() == "x");
  CHECK(root["d"].as_bool());
  CHECK(root["e"].is_bool());
  CHECK_FALSE(root["e"].as_bool());
  CHECK(root["f"].is_null());
  CHECK(root["g"].size() == 3);
  int sum = 0;
  for (JsonValue v : root["g"].items())
    sum += static_cast<int>(v.size() + v.as_int64().value_or(0));
  CHECK(sum == 1 + 2 + 0);
  CHECK(root["h"]["i"].is_array());
  CHECK(root["h"]["i"].size() == 0);

  std::string keys;
  for (auto [key, value] : root.members()) keys += std::string(key);
  CHECK(keys == "abcdefgh");
}

TEST_CASE("json_reader: a missing member is an invalid value that reads as empty") {
  JsonDocument doc;
  REQUIRE_FALSE(doc.parse(R"({"a": {"b": 1}})"));
  JsonValue missing = doc.root()["x"]["y"];
  CHECK_FALSE(missing.valid());
  CHECK_FALSE(missing.is_null());
  CHECK(missing.as_string().empty());
  CHECK_FALSE(missing.as_int64());
  CHECK(missing.size() == 0);
  CHECK(missing.items().begin() == missing.items().end());
  CHECK(doc.root()["a"]["b"].as_int64() == 1);
  CHECK_FALSE(doc.root()["a"]["b"]["c"].valid());
}

TEST_CASE("json_reader: escapes and UTF-8 are decoded, surrogate pairs combined") {
  JsonDocument doc;
  REQUIRE_FALSE(
      doc.parse(R"(["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u20ac", "\ud83d\ude00", "héllo €", "plain"])"));
  std::vector<std::string> s;
  for (JsonValue v : doc.root().items()) s.emplace_back(v.as_string());
  REQUIRE(s.size() == 5);
  CHECK(s[0] == "a\"b\\c/d\b\f\n\r\t");
  CHECK(s[1] == "\xc3\xa9\xe2\x82\xac");
  CHECK(s[2] == "\xf0\x9f\x98\x80");
  CHECK(s[3] == "h\xc3\xa9llo \xe2\x82\xac");
  CHECK(s[4] == "plain");
}

TEST_CASE("json_reader: integers are exact over the whole 64-bit range") {
  JsonDocument doc;
  REQUIRE_FALSE(doc.parse(
      "[9223372036854775807, -9223372036854775808, 9223372036854775808, -0, 0, 1e3, 1.0]"));
  std::vector<JsonValue> v;
  for (JsonValue x : doc.root().items()) v.push_back(x);
  CHECK(v[0].as_int64() == std::numeric_limits<std::int64_t>::max());
  CHECK(v[1].as_int64() == std::numeric_limits<std::int64_t>::min());
  CHECK_FALSE(v[2].as_int64());  // out of range: only as a double
  CHECK(v[2].as_double() == doctest::Approx(9.223372036854775808e18));
  CHECK(v[3].as_int64() == 0);
  CHECK(v[4].as_int64() == 0);
  CHECK_FALSE(v[5].as_int64());  // an exponent is not an integer literal
  CHECK(v[5].as_double() == 1000.0);
  CHECK_FALSE(v[6].as_int64());
  CHECK(v[6].as_double() == 1.0);
}

TEST_CASE("json_reader: huge exponents read as infinity or zero, like strtod") {
  JsonDocument doc;
  REQUIRE_FALSE(doc.parse("[1e400, -1e400, 1e-400]"));
  std::vector<double> v;
  for (JsonValue x : doc.root().items()) v.push_back(x.as_double());
  CHECK(std::isinf(v[0]));
  CHECK(v[0] > 0);
  CHECK(std::isinf(v[1]));
  CHECK(v[1] < 0);
  CHECK(v[2] == 0.0);
}

TEST_CASE("json_reader: what RFC 8259 does not allow is refused") {
  const char* bad[] = {
      "",                      // nothing
      "   ",                   // nothing but space
      "{\"a\":1,}",            // trailing comma in an object
      "[1,2,]",                // trailing comma in an array
      "[01]",                  // leading zero
      "[1.]",                  // no digit after the point
      "[.5]",                  // no integer part
      "[1e]",                  // no exponent digits
      "[+1]",                  // plus sign
      "[NaN]",                 // not JSON
      "[Infinity]",            //
      "{'a':1}",               // single quotes
      "{a:1}",                 // bare key
      "// c\n{}",              // comment
      "{\"a\" 1}",             // no colon
      "[1 2]",                 // no comma
      "{\"a\":1} x",           // text after the value
      "{} {}",                 // two values
      "[\"a\tb\"]",            // raw control character in a string
      "[\"\\x\"]",             // unknown escape
      "[\"\\u12\"]",           // short \u
      "[\"\\ud800\"]",         // lone high surrogate
      "[\"\\udc00\"]",         // lone low surrogate
      "[\"\\ud800\\u0041\"]",  // high surrogate without its low half
      "[\"abc",                // unterminated string
      "[tru]",                 // truncated literal
      "[true",                 // unterminated array
      "{\"a\":1",              // unterminated object
  };
  for (const char* text : bad) {
    CAPTURE(text);
    JsonDocument doc;
    CHECK(doc.parse(text).has_value());
  }
}

TEST_CASE("json_reader: invalid UTF-8 in a string is refused") {
  const std::string bad[] = {
      "[\"\xff\"]",              // never valid
      "[\"\xc3\"]",              // truncated sequence
      "[\"\xc0\xaf\"]",          // overlong '/'
      "[\"\xe0\x80\xaf\"]",      // overlong
      "[\"\xed\xa0\x80\"]",      // encoded surrogate
      "[\"\xf4\x90\x80\x80\"]",  // past U+10FFFF
  };
  for (const std::string& text : bad) {
    CAPTURE(text);
    JsonError e = error_of(text);
    CHECK(e.message.find("UTF-8") != std::string::npos);
  }
}

TEST_CASE("json_reader: errors say the line and the column, counted in characters") {
  JsonError e = error_of("{\n  \"a\": 1,\n  \"b\": [1, 2,, 3]\n}");
  CHECK(e.line == 3);
  CHECK(e.column == 14);
  CHECK(e.message.find("expected a JSON value") != std::string::npos);
  CHECK(to_string(e) == "line 3, column 14: " + e.message);

  e = error_of("{\"é€\": 1 2}");  // multi-byte characters before the error count once
  CHECK(e.line == 1);
  CHECK(e.column == 10);
  CHECK(e.message.find("expected ',' or '}'") != std::string::npos);

  e = error_of("[1, 2");
  CHECK(e.message.find("end of input") != std::string::npos);
  e = error_of("[\"abc");
  CHECK(e.column == 2);  // an unterminated string is reported where it opens
  CHECK(e.message == "unterminated string");
}

TEST_CASE("json_reader: nesting deeper than the limit is refused, not a stack overflow") {
  std::string ok(JsonDocument::kMaxDepth, '[');
  ok += std::string(JsonDocument::kMaxDepth, ']');
  JsonDocument doc;
  CHECK_FALSE(doc.parse(ok));
  std::string deep(100000, '[');
  JsonError e = error_of(deep);
  CHECK(e.message.find("deeper") != std::string::npos);
}

TEST_CASE("json_reader: a document parsed again forgets the previous one") {
  JsonDocument doc;
  REQUIRE_FALSE(doc.parse(R"({"a": "\u0041"})"));
  CHECK(doc.root()["a"].as_string() == "A");
  REQUIRE_FALSE(doc.parse(R"({"b": "x\ny"})"));
  CHECK_FALSE(doc.root()["a"].valid());
  CHECK(doc.root()["b"].as_string() == "x\ny");
  CHECK(doc.parse("[").has_value());
  CHECK_FALSE(doc.root().valid());
}

TEST_CASE("json_reader: duplicate keys are kept and find() returns the first") {
  JsonDocument doc;
  REQUIRE_FALSE(doc.parse(R"({"a": 1, "a": 2})"));
  CHECK(doc.root().size() == 2);
  CHECK(doc.root()["a"].as_int64() == 1);
}

TEST_CASE("json_reader: what JsonWriter writes reads back the same") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::string s;
    int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      switch (rng() % 4) {
        case 0:
          s += static_cast<char>(rng() % 32);  // control characters
          break;
        case 1:
          s += "\"\\/";
          break;
        case 2:
          s += "\xe2\x82\xac";  // €
          break;
        default:
          s += static_cast<char>('a' + rng() % 26);
      }
    }
    std::int64_t i = static_cast<std::int64_t>(rng());
    double d = static_cast<double>(rng() % 1000000) / 1000.0;
    JsonWriter w;
    w.begin_object().key(s).value(s).key("i").value(i).key("d").value(d);
    w.key("a").begin_array().value(true).null().end_array().end_object();
    JsonDocument doc;
    auto error = doc.parse(w.str());
    REQUIRE_MESSAGE(!error, w.str());
    CHECK(doc.root()[s].as_string() == s);
    CHECK(doc.root()["i"].as_int64() == i);
    CHECK(doc.root()["d"].as_double() == doctest::Approx(d));
    CHECK(doc.root()["a"].size() == 2);
  }
}
