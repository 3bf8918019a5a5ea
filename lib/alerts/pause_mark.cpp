#include "alerts/pause_mark.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace perfguard {

namespace fs = std::filesystem;

fs::path pause_mark_path(const fs::path& perfguard_dir) {
  return perfguard_dir / "paused";
}

std::optional<PauseMark> read_pause_mark(const fs::path& perfguard_dir) {
  std::ifstream in(pause_mark_path(perfguard_dir));
  if (!in) return std::nullopt;
  PauseMark mark;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "since") {
      std::from_chars(value.data(), value.data() + value.size(), mark.since_us);
    } else if (key == "by") {
      mark.by = value;
    } else if (key == "reason") {
      mark.reason = value;
    }
  }
  return mark;
}

namespace {

// One line each: a newline in a reason would start a key of its own.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

Status write_pause_mark(const fs::path& perfguard_dir, const PauseMark& mark) {
  std::error_code ec;
  fs::create_directories(perfguard_dir, ec);
  const fs::path target = pause_mark_path(perfguard_dir);
  const fs::path tmp = target.string() + ".tmp";
  std::ostringstream text;
  text << "since=" << mark.since_us << "\nby=" << one_line(mark.by)
       << "\nreason=" << one_line(mark.reason) << "\n";
  const std::string body = text.str();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  auto failed = [&](const char* what) {
    return make_error(ExitCode::store, "cannot " + std::string(what) + " the pause mark " +
                                           target.string() + ": " + std::strerror(errno));
  };
  if (fd < 0) return failed("write");
  bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), target.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return failed("write");
  }
  return {};
}

Result<std::optional<PauseMark>> lift_pause_mark(const fs::path& perfguard_dir) {
  auto mark = read_pause_mark(perfguard_dir);
  if (!mark) return mark;
  if (::unlink(pause_mark_path(perfguard_dir).c_str()) != 0 && errno != ENOENT) {
    return make_error(ExitCode::store, "cannot lift the pause mark " +
                                           pause_mark_path(perfguard_dir).string() + ": " +
                                           std::strerror(errno));
  }
  return mark;
}

}  // namespace perfguard
