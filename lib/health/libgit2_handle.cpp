#include "health/libgit2_handle.h"

namespace perfguard::health {

namespace {

// One initialisation for the whole program, undone by the static's destructor at exit.
struct Libgit2 {
  int status = git_libgit2_init();
  Libgit2(const Libgit2&) = delete;
  Libgit2& operator=(const Libgit2&) = delete;
  Libgit2() = default;
  ~Libgit2() {
    if (status >= 0) git_libgit2_shutdown();
  }
};

}  // namespace

Status ensure_libgit2() {
  static const Libgit2 library;
  if (library.status < 0) {
    return make_error(ExitCode::step_failed,
                      "libgit2 could not start: " + libgit2_message("no reason given"));
  }
  return {};
}

std::string libgit2_message(const char* fallback) {
  const git_error* e = git_error_last();
  return e && e->message && *e->message ? std::string(e->message) : std::string(fallback);
}

Result<RepositoryHandle> open_repository(const std::filesystem::path& repo_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(repo_dir, ec)) {
    return make_error(ExitCode::usage, repo_dir.string() + ": no such directory");
  }
  if (auto st = ensure_libgit2(); !st) return st.error();
  git_repository* raw = nullptr;
  const int rc =
      git_repository_open_ext(&raw, repo_dir.c_str(), GIT_REPOSITORY_OPEN_FROM_ENV, nullptr);
  if (rc == GIT_ENOTFOUND) {
    return make_error(ExitCode::usage, repo_dir.string() +
                                           ": not a git repository (or any of its parents): "
                                           "run inside a repository or pass -C DIR");
  }
  if (rc != 0) {
    return make_error(ExitCode::usage, repo_dir.string() + ": the repository cannot be opened: " +
                                           libgit2_message());
  }
  return RepositoryHandle(raw);
}

std::filesystem::path directory_path(const char* p) {
  std::filesystem::path path = std::filesystem::path(p).lexically_normal();
  return path.has_filename() ? path : path.parent_path();
}

}  // namespace perfguard::health
