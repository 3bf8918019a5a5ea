#include "trace/span.h"

#include <random>

namespace perfguard {

const char* to_string(StepStatus status) {
  switch (status) {
    case StepStatus::ok:
      return "ok";
    case StepStatus::breach:
      return "breach";
    case StepStatus::failed:
      return "failed";
    case StepStatus::timeout:
      return "timeout";
    case StepStatus::interrupted:
      return "interrupted";
  }
  return "failed";
}

std::optional<StepStatus> parse_step_status(std::string_view text) {
  for (auto s : {StepStatus::ok, StepStatus::breach, StepStatus::failed, StepStatus::timeout,
                 StepStatus::interrupted}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

std::uint64_t new_trace_id() {
  static std::mt19937_64 engine{std::random_device{}()};
  std::uint64_t id = 0;
  while (id == 0) id = engine() >> 1;
  return id;
}

}  // namespace perfguard
