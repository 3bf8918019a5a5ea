#pragma once
// The times a person's `git commit` passes through its hooks, kept between the hooks in a
// small file per git process: <perfguard dir>/hook-stamps/commit.<git pid>. pre-commit
// starts the file, prepare-commit-msg and commit-msg add to it, post-commit takes it (and
// removes it) to make the commit's record. The file names the git process's start time too,
// so a file left by a commit that stopped part-way never counts for a later git that got
// the same pid; pre-commit removes such files.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"
#include "hooks/git_process.h"

namespace perfguard {

// One hook's moment: the monotonic clock (for durations between processes) and the wall
// clock (for the record's timestamps).
struct Stamp {
  std::int64_t monotonic_us = 0;
  std::int64_t wall_us = 0;
};

Stamp stamp_now();

struct CommitStamps {
  std::string head_before;  // HEAD when pre-commit ran; empty when unborn
  std::optional<Stamp> pre_commit, before_editor, after_editor;
};

std::filesystem::path commit_stamps_path(const std::filesystem::path& perfguard_dir,
                                         const GitProcess& git);

// pre-commit: a new file for this git (replacing any), and stale files of ended gits gone.
Status start_commit_stamps(const std::filesystem::path& perfguard_dir, const GitProcess& git,
                           const std::string& head, const Stamp& now);

// prepare-commit-msg ("before-editor") and commit-msg ("after-editor"): added only when
// pre-commit started a file for this git (not with --no-verify, not for a rebase's picks).
Status add_commit_stamp(const std::filesystem::path& perfguard_dir, const GitProcess& git,
                        const std::string& name, const Stamp& now);

// post-commit: what the commit's hooks stamped, the file removed; nothing when there is no
// file for this git.
std::optional<CommitStamps> take_commit_stamps(const std::filesystem::path& perfguard_dir,
                                               const GitProcess& git);

}  // namespace perfguard
