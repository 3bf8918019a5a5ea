#pragma once

#include <functional>
#include <string>
#include <vector>

#include "git/index_file.h"
#include "git/repository.h"

namespace perfguard {

// What lstat() says of the tracked files, against the index.
struct TrackedScan {
  IndexRead index;
  // The paths of the entries not proven unchanged: a changed or racy file whose content
  // differs, a missing file, a changed kind or executable bit, an unresolved conflict, an
  // assume-unchanged, skip-worktree or intent-to-add entry (git would not look at the file,
  // or would not commit it). Gitlinks are never listed: a rollback does not enter them.
  std::vector<std::string> unproven;
  // Every entry is proven unchanged: git status would show no unstaged change to a tracked
  // file, and nothing about the index needs more than its tree to be put back.
  bool unchanged = false;
  // The index's own tree (its cache-tree root), empty when the cache-tree is invalid. Equal
  // to HEAD's tree: nothing is staged.
  std::string index_tree;
};

// A fast, conservative scan made in-process from the index file and one lstat() per entry
// (on two threads), so that the snapshot before a rollback needs no `git status`. Racily
// clean entries are proven by hashing the file, as git does. Untracked files are not
// looked at. When the index cannot be read, `index.problem` says why and nothing is proven.
// `alongside`, when given, is work of the caller's that needs the index: it runs on this
// thread while the other starts on the lstat()s, and this thread takes its share of them
// once it returns, so that neither core waits for the other.
TrackedScan scan_tracked_files(const Repository& repo,
                               const std::function<void(const IndexFile&)>& alongside = {});

// The same scan of an index read before (`scan.index`), filling in the rest of `scan`. The
// entries at `left_out` (sorted) are not looked at, nor listed: they are another's to prove
// (git's own check, before a two-way reset writes them), and may be changing meanwhile.
void scan_index_entries(const Repository& repo, TrackedScan& scan,
                        const std::vector<std::string>& left_out);

}  // namespace perfguard
