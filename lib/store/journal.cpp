#include "store/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "output/record_json.h"

namespace perfguard {

namespace fs = std::filesystem;

namespace {

// Creates the missing directories of `dir`, each 0700 (a journal holds paths, hosts and
// user names). Returns 0 or the errno of the failure.
int create_private_directories(const fs::path& dir) {
  if (dir.empty()) return 0;
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  if (errno != ENOENT) return errno;
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    if (int err = create_private_directories(dir.parent_path())) return err;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return errno;
  return 0;
}

// Appends `lines` to `path` with a single write(): O_APPEND makes each write atomic with
// respect to other appenders, so lines from parallel processes never interleave.
// Returns 0 or an errno.
int append_lines(const fs::path& path, const std::string& lines) {
  if (int err = create_private_directories(path.parent_path())) return err;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return errno;
  int err = 0;
  std::size_t done = 0;
  while (done < lines.size()) {
    ssize_t n = ::write(fd, lines.data() + done, lines.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) {
      err = EIO;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

// `$XDG_STATE_HOME/perfguard/journal.jsonl`, else `$HOME/.local/state/perfguard/…`; empty
// when neither is set (XDG paths must be absolute; a relative one is ignored).
fs::path state_journal_path() {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg && xdg[0] == '/') return fs::path(xdg) / "perfguard" / "journal.jsonl";
  const char* home = std::getenv("HOME");
  if (home && home[0] != '\0') {
    return fs::path(home) / ".local" / "state" / "perfguard" / "journal.jsonl";
  }
  return {};
}

}  // namespace

fs::path journal_path_for(const fs::path& store_path) {
  fs::path journal = store_path;
  journal += ".journal.jsonl";
  return journal;
}

Result<fs::path> append_to_journal(const fs::path& store_path,
                                   const std::vector<StepRecord>& records) {
  fs::path beside = journal_path_for(store_path);
  if (records.empty()) return beside;
  std::string lines;
  for (const StepRecord& r : records) {
    lines += record_to_jsonl(r);
    lines += '\n';
  }

  int err = append_lines(beside, lines);
  if (err == 0) return beside;
  std::string message = "cannot write the journal: " + beside.string() + ": " + std::strerror(err);

  fs::path fallback = state_journal_path();
  if (fallback.empty()) {
    message += "; no state directory: neither XDG_STATE_HOME nor HOME is set";
    return Error{ExitCode::store, std::move(message)};
  }
  err = append_lines(fallback, lines);
  if (err == 0) return fallback;
  message += "; " + fallback.string() + ": " + std::strerror(err);
  return Error{ExitCode::store, std::move(message)};
}

}  // namespace perfguard
