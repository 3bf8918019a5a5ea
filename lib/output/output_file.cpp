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

Status OutputFile::open(const fs::path& target) {
  if (target.empty() || target == "-") {
    file_ = stdout;
    name_ = "stdout";
    return {};
  }
  target_ = target;
  name_ = target.string();
  tmp_ = target.string() + ".tmp-XXXXXX";
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
