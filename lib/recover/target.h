#pragma once
// Where a recovery goes: the commit the user named, or the last known good commit.

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "git/repository.h"
#include "store/step_reads.h"

namespace perfguard {

struct RecoveryTarget {
  std::string ref;  // as the user wrote it, or the commit chosen
  std::string oid;  // the commit
  std::string why;  // one line for the plan: why this commit
};

// How far back on HEAD's first-parent history the last known good commit is looked for.
inline constexpr int kKnownGoodSearched = 1000;

// The commit `to` names (usage error when it names none), or, when `to` is empty, the last
// known good commit: the newest commit before HEAD on its first-parent history that the
// store's verdicts (`verdicts`; an error when the store could not be read) show steps at, none
// breached or failed and none an unresolved critical alert fired on; HEAD~1 when there is
// none or the store cannot say. HEAD must be born; a root commit has no HEAD~1 (refused).
Result<RecoveryTarget> choose_target(const Repository& repo, const Head& head,
                                     const std::string& to,
                                     const Result<std::vector<HeadVerdict>>& verdicts);

}  // namespace perfguard
