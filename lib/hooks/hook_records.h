#pragma once
// The records the hooks make: a person's commit from its hooks' stamps, and the merges,
// checkouts and rebases git ran, timed from the git process's start.

#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "hooks/commit_stamps.h"
#include "hooks/git_process.h"
#include "trace/record.h"

namespace perfguard {

// The commit as a person waits for it, without their time in the editor:
// (prepare-commit-msg − pre-commit) + (post-commit − commit-msg), as the step "commit" with
// the child spans "before-editor" and "after-editor". Nothing when a stamp is missing.
// A breach of `threshold` is recorded as such; the record's exit code stays 0 (a hook never
// fails the commit).
std::optional<StepRecord> commit_record(const CommitStamps& stamps, const Stamp& post_commit,
                                        Duration threshold);

// The step a post-merge, post-checkout or post-rewrite hook closes: "merge", "checkout",
// "rebase"; nothing when it is not one to time (a file checkout, a clone's first checkout, a
// checkout inside another command, an amend, which post-commit has recorded).
std::optional<std::string> step_closed_by(const std::string& hook,
                                          const std::vector<std::string>& args,
                                          const GitProcess& git);

// That step, timed from the git process's start to `now` (10 ms resolution), not enforced.
StepRecord git_process_record(const std::string& step, const GitProcess& git, const Stamp& now);

}  // namespace perfguard
