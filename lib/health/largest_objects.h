#pragma once
// The largest blobs and the trees with the most entries, found by reading the header of every
// object in the object database (the --deep measurement).

#include <git2.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "health/health.h"

namespace perfguard::health {

struct LargestObjects {
  std::vector<LargeObject> blobs;  // the largest first
  std::vector<LargeObject> trees;  // the most entries first
};

// Every object the repository reads (its alternates' too), each counted once: the `count`
// largest blobs by size and the `count` trees with the most entries; ties in id order.
// `progress` (when set) hears (done, total) over two passes, each from 0 to its end: every
// object's header, then the trees that might rank (total: every tree; the pass may end early).
Result<LargestObjects> find_largest_objects(
    git_repository* repo, std::size_t count,
    const std::function<void(std::uint64_t done, std::uint64_t total)>& progress);

}  // namespace perfguard::health
