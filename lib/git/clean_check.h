#pragma once

#include <string>

#include "git/repository.h"

namespace perfguard {

enum class CleanCheck {
  clean,    // proven: index == HEAD's tree, every file matches its index entry, nothing else
  unknown,  // not proven (a change, an untracked or ignored file, a racy entry, a format
            // this reader does not handle): ask `git status`
};

// A fast, conservative answer to "would `git status` print nothing?", made in-process
// from the index file, lstat() of each entry and a walk of the work tree, so that the
// snapshot before a rollback costs no `git status` on a clean tree. It never says clean
// when git would not: anything it cannot prove is `unknown`.
//
// `head_tree` is the object id of HEAD's tree; the index's cache-tree must match it.
CleanCheck check_clean(const Repository& repo, const std::string& head_tree);

}  // namespace perfguard
