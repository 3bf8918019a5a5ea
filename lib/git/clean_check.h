#pragma once

#include <string>

#include "git/repository.h"

namespace perfguard {

// What lstat() says of the tracked files, against the index.
struct TrackedScan {
  // Every index entry is a plain file or symlink whose stat data matches its entry and
  // is not racily clean: git status would show no unstaged change to a tracked file.
  bool unchanged = false;
  // The index's own tree (its cache-tree root), empty when the cache-tree is invalid. Equal
  // to HEAD's tree: nothing is staged.
  std::string index_tree;
};

// A fast, conservative scan made in-process from the index file and one lstat() per entry
// (on two threads), so that the snapshot before a rollback costs no `git status` on a
// clean tree. Anything it cannot prove (a change, a racy entry, an unmerged or
// skip-worktree entry, a split or sparse index, an index format it does not read) leaves
// `unchanged` false. Untracked files are not looked at.
TrackedScan scan_tracked_files(const Repository& repo);

}  // namespace perfguard
