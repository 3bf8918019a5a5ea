#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"

namespace perfguard {

// An operation git is in the middle of; a step that moves HEAD must not run over it.
enum class RepoState { none, merge, rebase, am, cherry_pick, revert, bisect };

const char* to_string(RepoState state);

struct Head {
  std::string ref;  // "refs/heads/main"; empty when detached
  std::string oid;  // 40 hex; empty when unborn
  bool detached() const { return ref.empty(); }
  bool unborn() const { return oid.empty(); }
  std::string branch() const;  // "main"; empty when detached
};

// A repository found from a directory, read straight from git's on-disk files (HEAD, refs,
// packed-refs, state files). This is the hot path's view of git: it costs microseconds,
// where loading and initialising libgit2 alone costs several milliseconds. The few commits
// and trees a rollback reads come from ObjectReader (object_reader.h); any other question
// about objects goes to the real git executable.
class Repository {
 public:
  // Finds the repository the way git does: $GIT_DIR (with $GIT_WORK_TREE or the current
  // directory as the work tree), else the nearest `.git` directory or gitfile (linked
  // worktrees, submodules) at or above `start`, stopping at $GIT_CEILING_DIRECTORIES.
  // Not in a repository: ExitCode::usage.
  static Result<Repository> discover(const std::filesystem::path& start);

  const std::filesystem::path& git_dir() const { return git_dir_; }
  const std::filesystem::path& common_dir() const { return common_dir_; }
  const std::optional<std::filesystem::path>& work_tree() const { return work_tree_; }
  bool bare() const { return !work_tree_.has_value(); }
  // The directory the repository was found from (-C or the current directory): git runs
  // there, so pathspecs and relative file names mean what the user meant.
  const std::filesystem::path& start_dir() const { return start_dir_; }

  Result<Head> head() const;
  // The object id a ref points to (following symbolic refs), from the loose file or
  // packed-refs; nothing when the ref does not exist.
  std::optional<std::string> resolve_ref(const std::string& refname) const;
  RepoState state() const;

  std::filesystem::path index_file() const;  // $GIT_INDEX_FILE or <git dir>/index
  std::filesystem::path index_lock() const { return index_file().string() + ".lock"; }
  bool index_locked() const;

  // Creates a new ref (it must not exist yet) with a reflog entry, as `git update-ref
  // --create-reflog -m MESSAGE REF OID ""` does: written as a loose ref with git's own
  // lock-then-rename protocol, the entry appended to logs/REF before the rename; the entry
  // names `identity` ("Name <email>") at `time_s` (UTC). Repositories with another ref storage
  // go through `git update-ref`.
  Status create_ref(const std::string& refname, const std::string& oid, const std::string& identity,
                    std::int64_t time_s, const std::string& message) const;
  // Moves a loose ref from `old_oid` to `oid` the same way (`git update-ref -m MESSAGE REF
  // OID OLD_OID`): refused, changing nothing, when the ref no longer points at `old_oid`.
  Status update_ref(const std::string& refname, const std::string& oid, const std::string& old_oid,
                    const std::string& identity, std::int64_t time_s,
                    const std::string& message) const;

  // The directory a repository's own perfguard files live in: <common dir>/perfguard.
  std::filesystem::path perfguard_dir() const { return common_dir_ / "perfguard"; }

 private:
  std::filesystem::path ref_path(const std::string& refname) const;
  bool uses_files_ref_storage() const;
  // create_ref (old_oid empty) and update_ref.
  Status write_ref(const std::string& refname, const std::string& oid, const std::string& old_oid,
                   const std::string& identity, std::int64_t time_s,
                   const std::string& message) const;

  std::filesystem::path git_dir_;
  std::filesystem::path common_dir_;
  std::optional<std::filesystem::path> work_tree_;
  std::filesystem::path start_dir_;
};

bool is_hex_oid(std::string_view s);

}  // namespace perfguard
