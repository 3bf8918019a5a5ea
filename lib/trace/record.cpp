#include "trace/record.h"

#include <algorithm>
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

std::optional<ResourceUsage> children_usage(const Span& span) {
  if (span.children.empty()) return std::nullopt;
  ResourceUsage total;
  for (const Span& child : span.children) {
    total.cpu_user_us += child.usage.cpu_user_us;
    total.cpu_sys_us += child.usage.cpu_sys_us;
    total.max_rss_kb = std::max(total.max_rss_kb, child.usage.max_rss_kb);
  }
  return total;
}

std::uint64_t new_trace_id() {
  static std::mt19937_64 engine{std::random_device{}()};
  std::uint64_t id = 0;
  while (id == 0) id = engine() >> 1;
  return id;
}

}  // namespace perfguard
