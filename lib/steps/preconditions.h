#pragma once

#include <string>

#include "core/result.h"
#include "git/repository.h"

namespace perfguard {

// The checks a step makes before it changes anything; each failure is ExitCode::refused
// with one line that says what to do.
Status require_work_tree(const Repository& repo);
Status require_index_unlocked(const Repository& repo);
Status require_no_operation_in_progress(const Repository& repo);
Result<Head> require_born_head(const Repository& repo);

}  // namespace perfguard
