#pragma once
// `perf-recover verify`: every safety snapshot is whole (its commit, trees and blobs present
// and readable, read in full so that a damaged object is found too) and the store's records
// of snapshots agree with the refs. Read only: nothing here writes to the repository.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace perfguard {

// One thing wrong, on one line. `kind` is a stable contract:
//   missing_object     an object the snapshot needs is not in the object database
//   unreadable_object  it is there but cannot be read (damaged, or not what its id says)
//   no_ref             the store records the snapshot, but its ref does not exist
//   no_store_record    the ref exists, but the store has no record of the snapshot
//   commit_differs     the store's row names another commit than the ref
//   bad_ref            the ref is not a direct ref to a commit
struct SnapshotProblem {
  std::string kind;
  std::string snapshot;  // its id
  std::string object;    // 40 hex digits, or "" when no object is concerned
  std::string path;      // where the snapshot holds it: "commit", "tree", "parent",
                         // "files/1a2b…" (a path in the snapshot's tree); "" for the store's
  std::string message;   // for a person, naming the snapshot, object and what to do
};

struct SnapshotCheck {
  std::size_t snapshots = 0;              // refs under refs/perfguard/snapshots/
  std::uint64_t objects = 0;              // distinct objects read
  bool store = false;                     // the store's records were compared
  std::size_t stored = 0;                 // snapshots the store records
  std::vector<SnapshotProblem> problems;  // by snapshot id, then as found
};

// Checks the snapshots of the repository at or above `repo_dir` (every work tree's). With
// `stored` (the store's records, Store::stored_snapshots), also that they agree with the
// refs. Errors: not a repository (usage); the refs cannot be listed.
Result<SnapshotCheck> check_snapshots(const std::filesystem::path& repo_dir,
                                      const std::optional<std::vector<StoredSnapshot>>& stored);

}  // namespace perfguard
