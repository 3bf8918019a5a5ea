#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/duration.h"

using perfguard::Duration;
using perfguard::ExitCode;
using perfguard::format_duration;
using perfguard::format_size;
using perfguard::parse_duration;
using perfguard::parse_size;

namespace {

constexpr std::int64_t kSecond = 1000000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

struct DurationText {
  const char* text;
  std::int64_t us;
};

}  // namespace

TEST_CASE("parse_duration reads every unit and compounds") {
  const DurationText cases[] = {
      {"250us", 250},
      {"5\xC2\xB5s", 5},  // µs, MICRO SIGN
      {"5\xCE\xBCs", 5},  // μs, GREEK SMALL LETTER MU
      {"40ms", 40000},
      {"1.5s", 1500000},
      {"0.1s", 100000},
      {"1.23s", 1230000},
      {"2m", 2 * kMinute},
      {"1.5m", 90 * kSecond},
      {"3h", 3 * kHour},
      {"7d", 7 * kDay},
      {"1w", 7 * kDay},
      {"0s", 0},
      {"0us", 0},
      {"1m30s", 90 * kSecond},
      {"1h30m", 90 * kMinute},
      {"1d2h3m4s5ms6us", kDay + 2 * kHour + 3 * kMinute + 4 * kSecond + 5006},
      {"007s", 7 * kSecond},
  };
  for (const auto& c : cases) {
    std::string shown = c.text;
    CAPTURE(shown);
    auto d = parse_duration(c.text);
    REQUIRE(d.ok());
    CHECK(d->us == c.us);
  }
}

TEST_CASE("parse_duration rounds fractions finer than a microsecond to the nearest") {
  const DurationText cases[] = {
      {"0.0005ms", 1},          // half a microsecond rounds up
      {"0.0004ms", 0},          // less than half rounds down
      {"1.0000006s", 1000001},  //
      {"1.0000004s", 1000000}, {"0.333333333333333333333333s", 333333},
  };
  for (const auto& c : cases) {
    std::string shown = c.text;
    CAPTURE(shown);
    auto d = parse_duration(c.text);
    REQUIRE(d.ok());
    CHECK(d->us == c.us);
  }
}

TEST_CASE("parse_duration rejects text that is not a number with a unit") {
  const char* cases[] = {
      "",
      "5",
      "-1s",
      "+1s",
      "1x",
      "s",
      "1.s",
      ".5s",
      " 1s",
      "1s ",
      "1 s",
      "1S",
      "1m30",
      "1.5.5s",
      "1sms",
      "ms",
      "1e3ms",
      "1,5s",
      "\xC2\xB5s",
      "9223372036854775808us",  // one past the largest microsecond count
      "99999999999999999999999s",
      "106752000d",            // just past 2^63 microseconds
      "106751000d106751000d",  // each part fits, the sum does not
  };
  for (const char* text : cases) {
    std::string shown = text;
    CAPTURE(shown);
    auto d = parse_duration(text);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == ExitCode::usage);
    CHECK(d.error().message.find("bad duration '" + std::string(text) + "'") == 0);
  }
}

TEST_CASE("parse_duration error quotes the text and shows the accepted form") {
  auto d = parse_duration("1x");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message ==
        "bad duration '1x': expected a number and a unit (us, ms, s, m, h, d, w), e.g. 250ms or "
        "1.5s");
}

TEST_CASE("parse_duration accepts the largest representable duration") {
  auto d = parse_duration("9223372036854775807us");
  REQUIRE(d.ok());
  CHECK(d->us == INT64_MAX);
}

TEST_CASE("parse_duration says a duration past 2^63 microseconds is too long, not malformed") {
  for (const char* text : {"106752000d", "99999999999999999999999s", "106751000d106751000d"}) {
    std::string shown = text;
    CAPTURE(shown);
    auto d = parse_duration(text);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().message == "bad duration '" + shown + "': too long; the longest is 106751991d");
  }
}

TEST_CASE("format_duration writes the shortest readable form") {
  const DurationText cases[] = {
      {"0s", 0},
      {"1us", 1},
      {"250us", 250},
      {"999us", 999},
      {"1ms", 1000},
      {"40ms", 40000},
      {"12.3ms", 12345},
      {"412ms", 412345},
      {"1s", 999600},  // 999.6ms has three digits only as 1.00s
      {"10ms", 9995},  // 9.995ms rounds up to the next unit's form
      {"1.5s", 1500000},
      {"1.23s", 1234567},
      {"12.3s", 12345678},
      {"59.9s", 59940000},
      {"1m", 59960000},  // rounds to 60.0s
      {"2m", 2 * kMinute},
      {"2m30s", 150 * kSecond},
      {"1h", kHour},
      {"1h30m", 90 * kMinute},
      {"1h5s", kHour + 5 * kSecond},
      {"1h1s", kHour + kSecond / 2},  // whole seconds past a minute, halves up
      {"7d", 7 * kDay},
      {"14d", 14 * kDay},
      {"-1.5s", -1500000},
  };
  for (const auto& c : cases) {
    CAPTURE(c.us);
    CHECK(format_duration(Duration{c.us}) == c.text);
  }
}

TEST_CASE("format_duration output parses back to nearly the same duration") {
  const std::int64_t values[] = {0,
                                 1,
                                 250,
                                 999,
                                 1000,
                                 1234,
                                 40000,
                                 412345,
                                 999999,
                                 1500000,
                                 1234567,
                                 59999999,
                                 kMinute,
                                 61 * kSecond + 123456,
                                 150 * kSecond,
                                 kHour + 1,
                                 7 * kDay,
                                 INT64_MAX / 2};
  for (std::int64_t us : values) {
    std::string text = format_duration(Duration{us});
    CAPTURE(us);
    std::string shown = text;
    CAPTURE(shown);
    auto back = parse_duration(text);
    REQUIRE(back.ok());
    std::int64_t error = std::llabs(back->us - us);
    // Three significant digits below a minute, whole seconds above.
    std::int64_t allowed = us < kMinute ? us / 200 + 1 : kSecond / 2;
    CHECK(error <= allowed);
  }
}

namespace {

struct SizeText {
  const char* text;
  std::int64_t bytes;
};

}  // namespace

TEST_CASE("parse_size reads decimal and binary units and bare bytes") {
  const SizeText cases[] = {
      {"512B", 512},
      {"4096", 4096},
      {"0", 0},
      {"100KB", 100000},
      {"100MB", 100000000},
      {"2GB", 2000000000},
      {"1TB", 1000000000000},
      {"1KiB", 1024},
      {"1MiB", 1048576},
      {"1GiB", 1073741824},
      {"1TiB", 1099511627776},
      {"1.5MB", 1500000},
      {"1.5KiB", 1536},
      {"0.5B", 1},  // rounded to the nearest byte
      {"100mb", 100000000},
      {"1kB", 1000},
  };
  for (const auto& c : cases) {
    std::string shown = c.text;
    CAPTURE(shown);
    auto n = parse_size(c.text);
    REQUIRE(n.ok());
    CHECK(*n == c.bytes);
  }
}

TEST_CASE("parse_size rejects text that is not a size") {
  const char* cases[] = {"",     "MB",   "-1MB", "1XB",  "1.5.5MB",
                         " 1MB", "1MB ", "1 MB", "1.MB", "10000000TB"};  // past 2^63 bytes
  for (const char* text : cases) {
    std::string shown = text;
    CAPTURE(shown);
    auto n = parse_size(text);
    REQUIRE_FALSE(n.ok());
    CHECK(n.error().code == ExitCode::usage);
    CHECK(n.error().message.find("bad size '" + std::string(text) + "'") == 0);
  }
}

TEST_CASE("format_size writes decimal units with at most three digits") {
  const SizeText cases[] = {
      {"0B", 0},
      {"512B", 512},
      {"999B", 999},
      {"1KB", 1000},
      {"1.5MB", 1500000},
      {"100MB", 100000000},
      {"1.23MB", 1234567},
      {"1MB", 999500},
      {"2GB", 2000000000},
      {"1.5TB", 1500000000000},
      {"5000TB", 5000000000000000},
  };
  for (const auto& c : cases) {
    CAPTURE(c.bytes);
    CHECK(format_size(c.bytes) == c.text);
  }
}

TEST_CASE("format_size output parses back") {
  const std::int64_t values[] = {0, 512, 1000, 1500000, 100000000, 2000000000};
  for (std::int64_t bytes : values) {
    CAPTURE(bytes);
    auto back = parse_size(format_size(bytes));
    REQUIRE(back.ok());
    CHECK(*back == bytes);
  }
}

TEST_CASE("the longest duration and the largest size format to text that parses back") {
  // Rounding to whole seconds once overflowed here (found by tests/fuzz/fuzz_duration).
  for (std::int64_t us : {INT64_MAX, INT64_MAX - 499999, INT64_MAX - 500000}) {
    CAPTURE(us);
    const std::string text = format_duration(Duration{us});
    CHECK(text == "106751991d4h54s");
    auto back = parse_duration(text);
    REQUIRE(back.ok());
    CHECK(format_duration(*back) == text);
  }
  CHECK(format_duration(*parse_duration("9223372036854775807us")) == "106751991d4h54s");
  for (std::int64_t bytes : {INT64_MAX, INT64_MAX - 1, std::int64_t{9223000000000000000}}) {
    CAPTURE(bytes);
    const std::string text = format_size(bytes);
    auto back = parse_size(text);
    REQUIRE(back.ok());
    CHECK(format_size(*back) == text);
  }
  CHECK(format_size(INT64_MAX) == "9223372TB");
}
