#include "steps/preconditions.h"

namespace perfguard {

Status require_work_tree(const Repository& repo) {
  if (repo.bare()) {
    return make_error(ExitCode::refused,
                      repo.git_dir().string() + " is a bare repository: it has no work tree");
  }
  return {};
}

Status require_index_unlocked(const Repository& repo) {
  if (repo.index_locked()) {
    return make_error(ExitCode::refused,
                      repo.index_lock().string() +
                          " exists: another git process is running; if none is, a crashed one "
                          "left it and you can remove it");
  }
  return {};
}

Status require_no_operation_in_progress(const Repository& repo) {
  RepoState state = repo.state();
  if (state == RepoState::none) return {};
  std::string what = to_string(state);
  std::string advice = state == RepoState::bisect
                           ? "git bisect reset"
                           : "git " + what + " --continue or git " + what + " --abort";
  return make_error(ExitCode::refused,
                    "a " + what + " is in progress: finish it (" + advice + ") or pass --force");
}

Result<Head> require_born_head(const Repository& repo) {
  auto head = repo.head();
  if (!head) return head;
  if (head->unborn()) {
    return make_error(ExitCode::refused, "HEAD has no commit yet (" + head->branch() +
                                             " is unborn): nothing to roll back");
  }
  return head;
}

}  // namespace perfguard
