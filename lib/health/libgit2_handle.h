#pragma once
// libgit2 for the health measurement: initialised once, its objects owned by RAII handles.
// Only perfguard_health links libgit2: the hot-path tools never pay its start-up.

#include <git2.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/result.h"

namespace perfguard::health {

// Initialises libgit2 on the first call; it is shut down when the program exits. An error
// when libgit2 cannot start (it then says why).
Status ensure_libgit2();

// What libgit2 said about its last failure, or `fallback` when it said nothing.
std::string libgit2_message(const char* fallback = "unknown libgit2 error");

template <auto Free>
struct FreeWith {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};

using RepositoryHandle = std::unique_ptr<git_repository, FreeWith<git_repository_free>>;
using ConfigHandle = std::unique_ptr<git_config, FreeWith<git_config_free>>;
using OdbHandle = std::unique_ptr<git_odb, FreeWith<git_odb_free>>;
using OdbObjectHandle = std::unique_ptr<git_odb_object, FreeWith<git_odb_object_free>>;
using TreeHandle = std::unique_ptr<git_tree, FreeWith<git_tree_free>>;
using CommitHandle = std::unique_ptr<git_commit, FreeWith<git_commit_free>>;
using ReferenceIteratorHandle =
    std::unique_ptr<git_reference_iterator, FreeWith<git_reference_iterator_free>>;

using ReferenceHandle = std::unique_ptr<git_reference, FreeWith<git_reference_free>>;

// Opens the repository at or above `repo_dir` (a work tree, a subdirectory of one, or a git
// directory; bare repositories too), found as git finds it: GIT_CEILING_DIRECTORIES,
// GIT_INDEX_FILE and GIT_OBJECT_DIRECTORY are honoured (GIT_DIR is not: the path says
// where). Not a directory, not in a repository, or not openable: a usage error naming it.
Result<RepositoryHandle> open_repository(const std::filesystem::path& repo_dir);

// libgit2 names directories with a trailing slash: this is the path without it.
std::filesystem::path directory_path(const char* path);

}  // namespace perfguard::health
