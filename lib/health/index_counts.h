#pragma once
// The size of a work tree's index, from its header alone: every git command reads and
// checks the whole file, and every command that stages writes it whole.

#include <cstdint>
#include <filesystem>

#include "core/result.h"

namespace perfguard::health {

struct IndexCounts {
  // The entries the header declares: `git ls-files --stage | wc -l`, conflict stages and a
  // sparse index's directory entries included. With core.splitIndex, only the entries of
  // this file, not those of its shared index.
  std::uint64_t entries = 0;
  std::uint64_t size = 0;  // bytes of the file
};

// No index file (nothing staged yet) counts as empty. A file that is not an index of
// version 2 to 4 is an error naming it.
Result<IndexCounts> count_index(const std::filesystem::path& index_file);

}  // namespace perfguard::health
