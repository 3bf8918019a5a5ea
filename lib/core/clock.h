#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace perfguard {

// Wall-clock time as Unix epoch microseconds (what records store as start times).
inline std::int64_t now_unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ISO-8601 UTC with microseconds: 2026-11-23T15:30:12.123456Z.
std::string format_timestamp(std::int64_t unix_us);

}  // namespace perfguard
