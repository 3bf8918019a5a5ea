#pragma once
// The measurements turned into figures: each judged against its limit, with the command that
// helps and a sentence for a person when it is at warning.

#include <optional>
#include <vector>

#include "health/commit_count.h"
#include "health/git_settings.h"
#include "health/health.h"
#include "health/index_counts.h"
#include "health/largest_objects.h"
#include "health/object_counts.h"
#include "health/ref_counts.h"

namespace perfguard::health {

struct Measurements {
  ObjectCounts objects;
  CommitCount commits;
  RefCounts refs;
  std::optional<IndexCounts> index;       // none for a bare repository
  std::optional<LargestObjects> largest;  // deep mode only
  GitSettings settings;
};

// The figures in HealthReport's order.
std::vector<HealthFigure> judge_figures(const Measurements& m, const HealthLimits& limits);

}  // namespace perfguard::health
