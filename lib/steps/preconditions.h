#pragma once

#include <string>

#include "core/result.h"
#include "git/repository.h"

namespace perfguard {

// The checks a step makes before it changes anything; each failure is ExitCode::refused
// with one line that says what to do.
Status require_work_tree(const Repository& repo);
// index.lock: every step that writes the index or the work tree takes it.
Status require_index_unlocked(const Repository& repo);
// HEAD.lock and the lock of the branch HEAD is on: every step that moves HEAD takes them.
Status require_refs_unlocked(const Repository& repo, const Head& head);
Status require_no_operation_in_progress(const Repository& repo);
Result<Head> require_born_head(const Repository& repo);

}  // namespace perfguard
