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

}  // namespace perfguard::recover_tool
