#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "git/repository.h"
#include "process/runner.h"

namespace perfguard {

inline constexpr const char* kSnapshotRefPrefix = "refs/perfguard/snapshots/";

// The safety net taken before any step that can discard work. It is a commit, reachable
// from refs/perfguard/snapshots/<id>, whose tree is the work tree (tracked files as they
// are on disk, plus untracked files that are not ignored) and whose parents are HEAD and,
// when the index or work tree was dirty, a commit of the index. Its message carries the
// metadata, so a snapshot is complete without the store.
struct Snapshot {
  std::string id;            // 20261123-153012-123456-af: UTC time to the µs, sorts by time
  std::string commit;        // the snapshot commit
  std::string head;          // HEAD when it was taken
  std::string branch;        // refs/heads/main; empty when HEAD was detached
  bool dirty = false;        // the index or work tree differed from HEAD
  std::string index_commit;  // the commit of the index, when dirty
  std::int64_t created_us = 0;
  std::string tool;
  std::string reason;

  std::string ref() const { return kSnapshotRefPrefix + id; }
};

struct SnapshotRequest {
  std::string tool;    // perf-rollback
  std::string reason;  // "before rollback to HEAD~1 (1a2b3c4)"
  // The caller has proven that nothing the step will discard differs from HEAD (see
  // scan_tracked_files): no `git status` is needed, the snapshot is HEAD itself.
  bool proven_clean = false;
};

// A snapshot being made. Begun early, so that the commit a clean tree needs is written
// while the caller proves the tree clean (or not); finished once it knows. Nothing the
// user can see changes until save_snapshot writes the ref; a pending snapshot that is
// dropped leaves at most an unreferenced object behind.
class PendingSnapshot {
 public:
  PendingSnapshot(PendingSnapshot&&) noexcept;
  ~PendingSnapshot();

  // Makes the snapshot's commits: with `proven_clean`, HEAD's tree; otherwise `git status`
  // decides, and a dirty tree is captured through a temporary index.
  Result<Snapshot> finish(bool proven_clean);

 private:
  friend Result<PendingSnapshot> begin_snapshot(const Repository&, const Head&,
                                                const SnapshotRequest&);
  PendingSnapshot(const Repository& repo, Snapshot snapshot, Result<RunningChild> clean_commit);
  const Repository* repo_;
  Snapshot snapshot_;
  Result<RunningChild> clean_commit_;
};

Result<PendingSnapshot> begin_snapshot(const Repository& repo, const Head& head,
                                       const SnapshotRequest& request);

// Makes the snapshot's commits without touching the user's index or work tree (a
// temporary index file is used for the trees). Until save_snapshot writes its ref, nothing
// the user can see has changed. Fails with ExitCode::refused when the state cannot be
// captured (unmerged entries).
Result<Snapshot> prepare_snapshot(const Repository& repo, const Head& head,
                                  const SnapshotRequest& request);
Status save_snapshot(const Repository& repo, const Snapshot& snapshot);

// prepare_snapshot, then save_snapshot.
Result<Snapshot> take_snapshot(const Repository& repo, const Head& head,
                               const SnapshotRequest& request);

// All snapshots, newest first.
Result<std::vector<Snapshot>> list_snapshots(const Repository& repo);

// The named snapshot (an id or its full ref), or the newest when `id` is empty.
Result<Snapshot> find_snapshot(const Repository& repo, const std::string& id);

// Puts HEAD, the index and the work tree back exactly as they were when the snapshot was
// taken. Refuses (ExitCode::refused) when HEAD is on another branch than the snapshot's.
// Files created since the snapshot that it does not know are left alone.
Status restore_snapshot(const Repository& repo, const Snapshot& snapshot);

// Deletes snapshots; nothing else ever removes one.
Status delete_snapshot(const Repository& repo, const Snapshot& snapshot);

}  // namespace perfguard
