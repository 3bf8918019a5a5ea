#pragma once
// The git settings the figures are judged by: when git's automatic gc acts, and what makes
// history walks and git status fast.

#include <git2.h>

#include <cstdint>
#include <optional>

#include "core/result.h"

namespace perfguard::health {

struct GitSettings {
  std::optional<std::int64_t> gc_auto;             // unset: git's default, 6700
  std::optional<std::int64_t> gc_auto_pack_limit;  // unset: git's default, 50
  bool commit_graph = true;                        // core.commitGraph
  bool untracked_cache = false;                    // core.untrackedCache is true
};

// As `git config` reads them: system, global and repository files, with their includes. A
// value that is not a number (gc.*) or a boolean (core.commitGraph) is a usage error naming
// the key, as git's own gc would stop on it.
Result<GitSettings> read_git_settings(git_repository* repo);

}  // namespace perfguard::health
