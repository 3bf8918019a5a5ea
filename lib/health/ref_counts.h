#pragma once
// How many refs a repository has, and how many of them are loose files.

#include <git2.h>

#include <cstdint>
#include <filesystem>

#include "core/result.h"

namespace perfguard::health {

struct RefCounts {
  // Every readable ref under refs/, loose or packed, each once: `git for-each-ref | wc -l`.
  std::uint64_t refs = 0;
  // Files under refs/ in the common directory and, for a linked worktree, in its own git
  // directory (its bisect and worktree refs); `*.lock` files are not refs.
  std::uint64_t loose = 0;
};

Result<RefCounts> count_refs(git_repository* repo, const std::filesystem::path& common_dir,
                             const std::filesystem::path& git_dir);

}  // namespace perfguard::health
