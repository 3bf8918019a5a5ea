#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "git/clean_check.h"
#include "git/repository.h"
#include "process/runner.h"
#include "safety/capture.h"

namespace perfguard {

inline constexpr const char* kSnapshotRefPrefix = "refs/perfguard/snapshots/";

// The safety net taken before any step that can discard work. It is a commit, reachable
// from refs/perfguard/snapshots/<id>, whose parent is HEAD and whose tree holds, exactly,
// everything on disk the step may overwrite or remove: the bytes and modes of those paths
// (ignored files, nested repositories and bytes git's filters would change included), the
// index file itself when it says more than HEAD's tree, and the state files of an
// interrupted merge, cherry-pick or revert. Its message carries the metadata, so a
// snapshot is complete without the store.
//
// Tree layout: `manifest` (NUL-terminated records, see capture.h), `files/` (every blob
// the manifest names, by id), `index` (the raw index file) and `staged/` (every blob the
// index names, so that gc keeps them).
//
// A partial snapshot (format 3) is taken before the tree is scanned, so that a two-way reset
// (`git reset --keep`, which writes only where HEAD and the target differ, and refuses where
// a local change stands) can start at once: it holds the paths where the index and the
// target differ, what stands at each and the index's entry there, and the state files.
// Nothing else can be touched by that reset, so its undo puts exactly those back, with HEAD,
// and leaves every other file and index entry as it is. Once the scan has proven the tree
// clean, or has found what else a `reset --hard` would touch and that is held too, the
// same snapshot is completed: its ref moves to a commit of format 2.
struct Snapshot {
  std::string id;        // 20261123-153012-123456-af: UTC time to the µs, sorts by time
  std::string commit;    // the snapshot commit
  std::string head;      // HEAD when it was taken
  std::string branch;    // refs/heads/main; empty when HEAD was detached
  bool dirty = false;    // the index or the work tree differed from HEAD
  std::string worktree;  // "" for the main work tree, "worktrees/<name>" for a linked one
  std::int64_t created_us = 0;
  std::string tool;
  std::string reason;
  int format = 2;            // 1: the work tree as a commit (older versions); 3: partial
  std::string index_commit;  // format 1 only: the commit of the index, when dirty
  // Found while taking it, not stored: at the paths the step may touch (or on the way to
  // them) stood something the index does not track (an untracked or ignored file, a
  // directory where a file will go), or a merge's or cherry-pick's state files.
  bool untracked_in_the_way = false;
  // Found while taking it, not stored: what it holds (the manifest's records).
  std::vector<CapturedPath> held;

  std::string ref() const { return kSnapshotRefPrefix + id; }
  bool partial() const { return format == 3; }
};

struct SnapshotRequest {
  std::string tool;    // perf-rollback
  std::string reason;  // "before rollback to HEAD~1 (1a2b3c4)"
  // Taken again, whole, when what it held may be out of date: the same id, its ref moved.
  const Snapshot* retakes = nullptr;
};

// What the step after the snapshot may touch, so that the snapshot holds exactly that.
struct SnapshotScope {
  // Work-tree paths the step may write or remove. Whatever stands at each (or on the way to
  // it) is captured: a file, a symlink, a directory tree, or the fact that nothing was.
  std::vector<std::string> paths;
  // The tracked files as the in-process scan found them: which entries are not proven
  // unchanged (they are captured too), and the index itself.
  TrackedScan scan;
  // HEAD's tree: when the index's tree is this and every entry is unchanged, a reset to HEAD
  // rebuilds the index and it need not be stored.
  std::string head_tree;
  // The tree has not been scanned yet (`scan` holds the index only): the snapshot is partial,
  // `paths` are where the index and the target differ, each held with its index entry.
  bool before_scan = false;

  // The scan proved every tracked file unchanged and the index is HEAD's tree: nothing but
  // HEAD's tree need be held to put the index and those files back.
  bool proven_clean() const {
    return scan.index.index && scan.unchanged && scan.index_tree == head_tree;
  }
};

// Makes the snapshot's objects in-process without touching the user's index or work tree,
// then writes its ref. Fails with ExitCode::refused when the state cannot be captured
// exactly, and with ExitCode::interrupted after Ctrl-C; either way nothing has changed.
Result<Snapshot> take_snapshot(const Repository& repo, const Head& head,
                               const SnapshotRequest& request, const SnapshotScope& scope);

// Completes a partial snapshot once `scope.scan` is done: what the scan found changed (and
// `scope.paths`, when given) is captured from disk as it is now, the index file is stored
// when it says more than HEAD's tree, and the ref moves to a snapshot of format 2 with the
// same id. Only what the two-way reset cannot have written may be added: call it once that
// reset has ended, or before it starts.
Status complete_snapshot(const Repository& repo, Snapshot& snapshot, const SnapshotScope& scope);

// Snapshots of every work tree, newest first.
Result<std::vector<Snapshot>> list_snapshots(const Repository& repo);

// The name this work tree's snapshots carry ("" for the main work tree).
std::string worktree_name(const Repository& repo);

// This work tree's snapshot named `id` (an id or its full ref), or its newest when `id` is
// empty.
Result<Snapshot> find_snapshot(const Repository& repo, const std::string& id);

// The work-tree paths a snapshot's restore writes or removes (what the snapshot taken
// before an undo must hold, besides what the reset to its HEAD touches).
Result<std::vector<std::string>> restored_paths(const Repository& repo, const Snapshot& snapshot);

// Puts HEAD, the index, the work tree and the state files back exactly as they were when
// the snapshot was taken. Refuses (ExitCode::refused) when HEAD is on another branch than
// the snapshot's. Files the snapshot does not hold are left as a reset leaves them (as they
// are, for a partial snapshot).
Status restore_snapshot(const Repository& repo, const Snapshot& snapshot);

// git refuses to reset over an assume-unchanged entry. Once a snapshot holds the entry, its
// flag and the file's bytes, the flags can go: this clears every one in the index.
Status release_assume_unchanged(const Repository& repo);

// Deletes snapshots; nothing else ever removes one.
Status delete_snapshot(const Repository& repo, const Snapshot& snapshot);

}  // namespace perfguard
