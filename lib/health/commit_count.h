#pragma once
// How many commits HEAD's history holds, counted from the commit-graph where it has them and
// from the commit objects where it does not.

#include <git2.h>

#include <cstdint>
#include <filesystem>

#include "core/result.h"

namespace perfguard::health {

struct CommitCount {
  std::uint64_t commits = 0;
  // False when the walk stopped at its budget: `commits` is then a lower bound (the commits
  // counted and the ones already known to be reachable).
  bool complete = true;
  bool graph = false;        // a commit-graph was read
  std::uint64_t parsed = 0;  // commits read from the object database: not in the graph
};

struct CommitWalk {
  std::filesystem::path objects_dir;  // where objects/info/commit-graph lives
  std::filesystem::path common_dir;   // where `shallow` lives
  bool use_graph = true;              // core.commitGraph
  // How many commit objects the walk may parse before it stops; 0 for no limit.
  std::uint64_t parse_budget = 0;
};

// The commits reachable from HEAD, HEAD included: what `git --no-replace-objects rev-list
// --count HEAD` says (replace refs and grafts are not applied). A shallow repository's
// boundary commits count without their parents, and its commit-graph is not used, as in
// git. An unborn HEAD has none. A commit that cannot be read is an error.
Result<CommitCount> count_commits(git_repository* repo, const CommitWalk& walk);

}  // namespace perfguard::health
