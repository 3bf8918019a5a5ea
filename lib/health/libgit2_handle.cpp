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

}  // namespace perfguard::health
