#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/duration.h"

namespace perfguard {

// Wall-clock time as Unix epoch microseconds (what records store as start times).
inline std::int64_t now_unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `start + d` on the monotonic clock, saturating: a duration longer than the clock can
// represent (`--timeout 200000d` is past the end of steady_clock's nanoseconds) is a
// deadline that never comes, not one that wrapped into the past and fires at once.
inline std::chrono::steady_clock::time_point deadline_after(
    std::chrono::steady_clock::time_point start, Duration d) {
  using Clock = std::chrono::steady_clock;
  if (d.us <= 0) return start;
  const auto room =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::time_point::max() - start);
  if (d.us >= room.count()) return Clock::time_point::max();
  return start + std::chrono::microseconds(d.us);
}

// The time since `start` on the monotonic clock.
inline Duration elapsed_since(std::chrono::steady_clock::time_point start) {
  return Duration::micros(std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count());
}

// ISO-8601 UTC with microseconds: 2026-11-23T15:30:12.123456Z.
std::string format_timestamp(std::int64_t unix_us);

}  // namespace perfguard
