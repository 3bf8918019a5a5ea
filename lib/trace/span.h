#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"

namespace perfguard {

// CPU time and peak memory of a child process, from rusage.
struct ResourceUsage {
  std::int64_t cpu_user_us = 0;
  std::int64_t cpu_sys_us = 0;
  std::int64_t max_rss_kb = 0;
};

// One timed part of a step. Times are microseconds: `start_us` is wall-clock (Unix epoch),
// `duration` comes from the monotonic clock.
struct Span {
  std::string name;
  std::int64_t start_us = 0;
  Duration duration;
  std::optional<int> exit_code;  // of the child process timed, if any
  ResourceUsage usage;
  std::vector<Span> children;
};

}  // namespace perfguard
