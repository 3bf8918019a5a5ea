#pragma once

#include <optional>
#include <string>
#include <vector>

#include "git/index_file.h"
#include "git/object_reader.h"
#include "git/repository.h"

namespace perfguard {

// The commit a revision names, resolved in-process for the forms a rollback takes most:
// HEAD or @ with any ~N and ^N after it, and a full object id of a commit. Nothing for any
// other form, and whenever git could answer differently (replace refs, grafts, a shallow
// boundary on the way, a tag): the caller asks `git rev-parse` then.
std::optional<std::string> resolve_commit(const Repository& repo, const Head& head,
                                          const std::string& revision, const ObjectReader& objects);

// The tree of a commit, read in-process.
std::optional<std::string> commit_tree(const ObjectReader& objects, const std::string& commit);

// The paths where the index and `tree` differ, as `git diff-index --cached --name-only
// --no-renames TREE` lists them (unordered): trees whose id the index's cache-tree already
// holds are not read. Nothing when an object cannot be read, or the index has unmerged or
// intent-to-add entries: the caller asks git then.
std::optional<std::vector<std::string>> diff_index_to_tree(const IndexFile& index,
                                                           const std::string& tree,
                                                           const ObjectReader& objects);

}  // namespace perfguard
