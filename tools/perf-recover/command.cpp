// What perf-recover's commands share: this work tree's snapshots.
#include "commands.h"

namespace perfguard::recover_tool {

Result<std::vector<Snapshot>> find_snapshots(const ToolSession& session) {
  auto all = list_snapshots(session.repository);
  if (!all) return all.error();
  const std::string here = worktree_name(session.repository);
  std::vector<Snapshot> out;
  for (Snapshot& s : *all) {
    if (s.worktree == here) out.push_back(std::move(s));
  }
  return out;
}

RollbackOptions rollback_options(const ToolSession& session) {
  const Config& config = session.config;
  RollbackOptions options;
  options.rollback_threshold = config.thresholds.rollback;
  options.validate_threshold = config.thresholds.validate;
  options.rollback_timeout = config.timeouts.rollback;
  options.validate_timeout = config.timeouts.validate;
  options.kill_grace = config.timeouts.kill_grace;
  options.warn_only = session.paused;  // an emergency: nothing blocks
  options.git_output = session.child_output();
  options.tool = session.tool;
  return options;
}

}  // namespace perfguard::recover_tool
