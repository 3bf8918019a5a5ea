#include "output/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace perfguard {

namespace fs = std::filesystem;

OutputFile::~OutputFile() {
  if (file_ && file_ != stdout) std::fclose(file_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

namespace {

// The path a symlink chain ends at (the last link's target, existing or not), or the error.
Result<fs::path> follow_symlinks(fs::path path) {
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    std::error_code ec;
    fs::path to = fs::read_symlink(path, ec);
    if (ec) {
      return make_error(ExitCode::step_failed,
                        "cannot write " + path.string() + ": " + ec.message());
    }
    path = to.is_absolute() ? to : path.parent_path() / to;
  }
  return make_error(ExitCode::step_failed,
                    "cannot write " + path.string() + ": " + std::strerror(ELOOP));
}

}  // namespace

Status OutputFile::open(const fs::path& target) {
  if (target.empty() || target == "-") {
    file_ = stdout;
    name_ = "stdout";
    return {};
  }
  name_ = target.string();
  auto resolved = follow_symlinks(target);
  if (!resolved) return resolved.error();
  target_ = *resolved;

  struct stat st;
  if (::stat(target_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
      return make_error(ExitCode::usage, "cannot write " + name_ + ": it is " +
                                             (S_ISDIR(st.st_mode)   ? "a directory"
                                              : S_ISBLK(st.st_mode) ? "a block device"
                                                                    : "a socket") +
                                             "; name a file, a FIFO or - for stdout");
    }
    // In place: no O_CREAT, no O_TRUNC, so the node is never replaced by a regular file.
    int fd = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return failure(errno);
    file_ = ::fdopen(fd, "w");
    if (!file_) {
      int err = errno;
      ::close(fd);
      return failure(err);
    }
    return {};
  }

  tmp_ = target_.string() + ".tmp-XXXXXX";
  int fd = ::mkostemp(tmp_.data(), O_CLOEXEC);
  if (fd < 0) {
    tmp_.clear();
    return failure(errno);
  }
  // The mode a new file would get (0666 less the umask): the file is meant to be read by
  // others, such as node_exporter.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  file_ = ::fdopen(fd, "w");
  if (!file_) {
    ::close(fd);
    return failure(errno);
  }
  return {};
}

Status OutputFile::write(std::string& text) {
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    return failure(errno);
  }
  text.clear();
  return {};
}

Status OutputFile::close() {
  if (std::fflush(file_) != 0) return failure(errno);
  if (file_ == stdout) return {};
  FILE* f = std::exchange(file_, nullptr);
  if (std::fclose(f) != 0) return failure(errno);
  if (tmp_.empty()) return {};  // written in place
  if (::rename(tmp_.c_str(), target_.c_str()) != 0) return failure(errno);
  tmp_.clear();
  return {};
}

Error OutputFile::failure(int err) const {
  return make_error(ExitCode::step_failed, "cannot write " + name_ + ": " + std::strerror(err));
}

Status write_file_atomically(const fs::path& target, std::string text) {
  OutputFile out;
  if (Status s = out.open(target); !s) return s;
  if (Status s = out.write(text); !s) return s;
  return out.close();
}

}  // namespace perfguard
