#pragma once
// What `git count-objects -v` reports, read from the object directory's files: loose objects,
// packs (from their .idx headers, not by reading any object) and garbage.

#include <cstdint>
#include <filesystem>

#include "core/result.h"

namespace perfguard::health {

struct ObjectCounts {
  std::uint64_t loose_objects = 0;  // count-objects "count"
  // Disk usage of the loose objects in bytes (st_blocks × 512): count-objects "size" is this
  // divided by 1024, rounded down.
  std::uint64_t loose_size = 0;
  std::uint64_t packed_objects = 0;  // "in-pack": every pack's object count, summed
  std::uint64_t packs = 0;           // "packs"
  // Bytes of every .pack and its .idx (file sizes): "size-pack" is this / 1024, rounded down.
  std::uint64_t pack_size = 0;
  std::uint64_t garbage = 0;       // "garbage": files in the object directory git cannot use
  std::uint64_t garbage_size = 0;  // "size-garbage" × 1024 (file sizes)
};

// Counts the local objects of `objects_dir` (alternates are not counted, as in git). A pack
// index that is damaged is an error naming it: its pack's objects cannot be counted.
Result<ObjectCounts> count_objects(const std::filesystem::path& objects_dir);

}  // namespace perfguard::health
