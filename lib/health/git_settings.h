#pragma once
// The git settings the figures are judged by: when git's automatic gc acts, and what makes
// history walks and git status fast.

#include <git2.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/result.h"

namespace perfguard::health {

// The settings that decide how fast git status, add, commit and history walks are, shown by
// `perf-recover diagnose` as they are written.
inline constexpr const char* kSpeedSettings[] = {
    "core.untrackedCache", "core.fsmonitor",    "index.threads",    "core.preloadIndex",
    "feature.manyFiles",   "index.version",     "core.commitGraph", "gc.auto",
    "gc.autoPackLimit",    "pack.packSizeLimit"};

struct GitSettings {
  std::optional<std::int64_t> gc_auto;             // unset: git's default, 6700
  std::optional<std::int64_t> gc_auto_pack_limit;  // unset: git's default, 50
  bool commit_graph = true;                        // core.commitGraph
  bool untracked_cache = false;                    // core.untrackedCache is true
  // Each of kSpeedSettings that is set, with the value git uses (the last one written).
  std::map<std::string, std::string> written;
};

// As `git config` reads them: system, global and repository files, with their includes. A
// value that is not a number (gc.*) or a boolean (core.commitGraph) is a usage error naming
// the key, as git's own gc would stop on it.
Result<GitSettings> read_git_settings(git_repository* repo);

}  // namespace perfguard::health
