#include "store/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "output/json.h"
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

int lock_exclusive(int fd) {
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

// Opens `path` (creating it with `flags & O_CREAT`) and locks it, making sure that what is
// locked is still the file at `path`: an import moves the journal aside under this lock,
// and a writer that opened it just before must write to the new journal instead.
// Returns the descriptor, or -errno (-ENOENT when there is no such file).
int open_locked(const fs::path& path, int flags) {
  for (;;) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
    if (fd < 0) return -errno;
    if (int err = lock_exclusive(fd)) {
      ::close(fd);
      return -err;
    }
    struct stat held, named;
    if (::fstat(fd, &held) != 0) {
      int err = errno;
      ::close(fd);
      return -err;
    }
    if (::stat(path.c_str(), &named) == 0 && named.st_ino == held.st_ino &&
        named.st_dev == held.st_dev) {
      return fd;
    }
    ::close(fd);  // moved aside meanwhile: try the file at the name now
  }
}

// Writes all of `data` at the end of `fd` (opened O_APPEND, locked), which is `size` bytes
// long, and makes it durable. On any failure the file is cut back to `size`, so no half
// record is ever left behind by a write that failed (a full disk, a quota). Returns 0 or an
// errno.
int write_whole(int fd, off_t size, const std::string& data) {
  int err = 0;
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
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
  if (err == 0 && ::fdatasync(fd) != 0) err = errno;
  if (err != 0 && done > 0) {
    while (::ftruncate(fd, size) != 0 && errno == EINTR) {
    }
  }
  return err;
}

// Appends `lines` to the journal at `path`. Returns 0 or an errno.
int append_lines(const fs::path& path, const std::string& lines) {
  if (int err = create_private_directories(path.parent_path())) return err;
  int fd = open_locked(path, O_RDWR | O_CREAT | O_APPEND);
  if (fd < 0) return -fd;
  struct stat st;
  int err = ::fstat(fd, &st) == 0 ? 0 : errno;
  std::string data;
  if (err == 0 && st.st_size > 0) {
    // A journal that ends in half a line lost its writer mid-write (killed, or a writer that
    // does not cut back). The half line stays as it is, for import to report and keep; the
    // records start on a fresh line. Nothing here truncates what another writer wrote.
    char last = '\n';
    if (::pread(fd, &last, 1, st.st_size - 1) != 1) err = errno ? errno : EIO;
    if (last != '\n') data += '\n';
  }
  if (err == 0) {
    data += lines;
    err = write_whole(fd, st.st_size, data);
  }
  ::close(fd);  // releases the lock
  return err;
}

std::string journal_lines(const std::vector<StepRecord>& records,
                          const std::optional<SnapshotRow>& snapshot, const std::string& store) {
  std::string lines;
  for (std::size_t i = 0; i < records.size(); ++i) {
    std::string line = record_to_jsonl(records[i]);
    if ((i == 0 && snapshot) || !store.empty()) {
      line.pop_back();  // the record's closing brace: the journal's members follow
      if (i == 0 && snapshot) {
        JsonWriter w;
        w.begin_object();
        w.key("id").value(snapshot->id);
        w.key("commit").value(snapshot->commit);
        w.key("head").value(snapshot->head);
        w.key("branch").value(snapshot->branch);
        w.key("created_us").value(snapshot->created_us);
        w.key("tool").value(snapshot->tool);
        w.key("reason").value(snapshot->reason);
        w.end_object();
        line += ",\"snapshot\":";
        line += w.str();
      }
      if (!store.empty()) {
        line += ",\"store\":";
        append_json_string(line, store);
      }
      line += '}';
    }
    lines += line;
    lines += '\n';
  }
  return lines;
}

}  // namespace

fs::path journal_path_for(const fs::path& store_path) {
  fs::path journal = store_path;
  journal += ".journal.jsonl";
  return journal;
}

// XDG paths must be absolute; a relative one is ignored.
fs::path fallback_journal_path() {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg && xdg[0] == '/') return fs::path(xdg) / "perfguard" / "journal.jsonl";
  const char* home = std::getenv("HOME");
  if (home && home[0] != '\0') {
    return fs::path(home) / ".local" / "state" / "perfguard" / "journal.jsonl";
  }
  return {};
}

std::string journal_store_key(const fs::path& store_path) {
  std::error_code ec;
  fs::path key = fs::weakly_canonical(fs::absolute(store_path, ec), ec);
  if (ec) key = fs::absolute(store_path, ec).lexically_normal();
  return key.string();
}

Result<fs::path> append_to_journal(const fs::path& store_path,
                                   const std::vector<StepRecord>& records,
                                   const std::optional<SnapshotRow>& snapshot) {
  fs::path beside = journal_path_for(store_path);
  if (records.empty()) return beside;

  int err = append_lines(beside, journal_lines(records, snapshot, {}));
  if (err == 0) return beside;
  std::string message = "cannot write the journal: " + beside.string() + ": " + std::strerror(err);

  fs::path fallback = fallback_journal_path();
  if (fallback.empty()) {
    message += "; no state directory: neither XDG_STATE_HOME nor HOME is set";
    return Error{ExitCode::store, std::move(message)};
  }
  err = append_lines(fallback, journal_lines(records, snapshot, journal_store_key(store_path)));
  if (err == 0) return fallback;
  message += "; " + fallback.string() + ": " + std::strerror(err);
  return Error{ExitCode::store, std::move(message)};
}

Status append_journal_lines(const fs::path& path, const std::string& lines) {
  if (lines.empty()) return {};
  if (int err = append_lines(path, lines)) {
    return make_error(ExitCode::store, "cannot write " + path.string() + ": " + std::strerror(err));
  }
  return {};
}

std::string journal_in_flight_prefix(const fs::path& journal) {
  return journal.filename().string() + ".importing-";
}

Result<fs::path> move_journal_aside(const fs::path& journal) {
  int fd = open_locked(journal, O_RDONLY);
  if (fd == -ENOENT) return fs::path{};
  if (fd < 0) {
    return make_error(ExitCode::store,
                      "cannot open the journal " + journal.string() + ": " + std::strerror(-fd));
  }
  // The PID alone is not enough: in a container every run has the same few PIDs, and a
  // killed import's file must never be overwritten by the next one's.
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  int err = 0;
  fs::path aside;
  for (int attempt = 0; attempt < 16; ++attempt) {
    unsigned long long random = 0;
    if (::getrandom(&random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) {
      random = static_cast<unsigned long long>(now) ^ static_cast<unsigned>(attempt);
    }
    char tail[80];
    std::snprintf(tail, sizeof tail, "%ld-%lld-%016llx", static_cast<long>(::getpid()),
                  static_cast<long long>(now), random);
    aside = journal.parent_path() / (journal_in_flight_prefix(journal) + tail);
    err = ::renameat2(AT_FDCWD, journal.c_str(), AT_FDCWD, aside.c_str(), RENAME_NOREPLACE) == 0
              ? 0
              : errno;
    if (err != EEXIST) break;
  }
  ::close(fd);
  if (err != 0) {
    return make_error(ExitCode::store, "cannot move the journal " + journal.string() +
                                           " aside to import it: " + std::strerror(err));
  }
  return aside;
}

Result<JournalDirectoryLock> JournalDirectoryLock::acquire(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return JournalDirectoryLock(-1);
    return make_error(ExitCode::store, "cannot open " + dir.string() +
                                           " to take its journal: " + std::strerror(errno));
  }
  if (int err = lock_exclusive(fd)) {
    ::close(fd);
    return make_error(ExitCode::store, "cannot lock " + dir.string() +
                                           " to take its journal: " + std::strerror(err));
  }
  return JournalDirectoryLock(fd);
}

JournalDirectoryLock::~JournalDirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace perfguard
