#include "trace/run_filter.h"

namespace perfguard {

const char* to_string(RunnerKind kind) {
  switch (kind) {
    case RunnerKind::ci:
      return "ci";
    case RunnerKind::local:
      return "local";
    case RunnerKind::github:
      return "github";
    case RunnerKind::gitlab:
      return "gitlab";
    case RunnerKind::buildkite:
      return "buildkite";
    case RunnerKind::jenkins:
      return "jenkins";
  }
  return "ci";
}

std::optional<RunnerKind> parse_runner_kind(std::string_view text) {
  for (RunnerKind kind : {RunnerKind::ci, RunnerKind::local, RunnerKind::github, RunnerKind::gitlab,
                          RunnerKind::buildkite, RunnerKind::jenkins}) {
    if (text == to_string(kind)) return kind;
  }
  return std::nullopt;
}

bool RunFilter::matches(const RunContext& context) const {
  if (!host.empty() && context.host != host) return false;
  if (!repo.empty() && context.repo != repo) return false;
  if (!branch.empty() && context.branch != branch) return false;
  if (!runner) return true;
  switch (*runner) {
    case RunnerKind::ci:
      return !context.ci_provider.empty();
    case RunnerKind::local:
      return context.ci_provider.empty();
    default:
      return context.ci_provider == to_string(*runner);
  }
}

}  // namespace perfguard
