#pragma once
// Which runs a read keeps, by where they ran: a host, a repository, a branch, a kind of
// runner. A store engine asks matches() of each context it holds (store/engine.h,
// select_contexts) and reads only the runs of those that match, so every engine answers
// alike and runs from elsewhere are never read.

#include <optional>
#include <string>
#include <string_view>

#include "trace/record.h"

namespace perfguard {

// Where a run ran: in any CI, outside CI, or in one CI provider as process_context()
// records it (trace/context.cpp).
enum class RunnerKind { ci, local, github, gitlab, buildkite, jenkins };

const char* to_string(RunnerKind kind);
std::optional<RunnerKind> parse_runner_kind(std::string_view text);

// Each field set narrows the runs; all of them must match (empty: every run).
struct RunFilter {
  std::string host;
  std::string repo;  // the work tree's absolute path, exactly
  std::string branch;
  std::optional<RunnerKind> runner;

  bool empty() const { return host.empty() && repo.empty() && branch.empty() && !runner; }
  bool matches(const RunContext& context) const;
};

}  // namespace perfguard
