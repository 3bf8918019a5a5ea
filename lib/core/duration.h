#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace perfguard {

// A length of time, in whole microseconds (the resolution of every span we record).
struct Duration {
  std::int64_t us = 0;

  static constexpr Duration micros(std::int64_t v) { return Duration{v}; }
  static constexpr Duration millis(std::int64_t v) { return Duration{v * 1000}; }
  static constexpr Duration seconds(std::int64_t v) { return Duration{v * 1000000}; }

  double seconds_f() const { return static_cast<double>(us) / 1e6; }
  double millis_f() const { return static_cast<double>(us) / 1e3; }

  friend constexpr auto operator<=>(Duration, Duration) = default;
  friend constexpr Duration operator+(Duration a, Duration b) { return Duration{a.us + b.us}; }
  friend constexpr Duration operator-(Duration a, Duration b) { return Duration{a.us - b.us}; }
};

// Parses `250us`, `40ms`, `1.5s`, `2m`, `3h`, `7d`, `1w` (also `µs`, and compounds such as
// `1m30s`). A bare number is an error: the unit is never guessed. Errors are usage errors
// whose message quotes the text and shows the accepted form.
Result<Duration> parse_duration(std::string_view text);

// Prints the shortest exact-enough form a person reads at a glance: `250us`, `40ms`,
// `1.5s`, `2m`, `7d`; at most three significant digits (`1.23s`, `412ms`).
std::string format_duration(Duration d);

// A size in bytes: `512B`, `100KB`, `100MB`, `2GB` (powers of 1000) and `KiB`, `MiB`, `GiB`
// (powers of 1024). A bare number is bytes.
Result<std::int64_t> parse_size(std::string_view text);
std::string format_size(std::int64_t bytes);

}  // namespace perfguard
