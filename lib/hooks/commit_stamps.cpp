#include "hooks/commit_stamps.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/clock.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

constexpr const char* kPrefix = "commit.";

fs::path stamps_dir(const fs::path& perfguard_dir) {
  return perfguard_dir / "hook-stamps";
}

std::string git_line(const GitProcess& git) {
  return "git=" + std::to_string(git.pid) + " " + std::to_string(git.start_ticks) + "\n";
}

Status write_all(int fd, const std::string& text, const fs::path& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return make_error(ExitCode::store,
                        "cannot write " + path.string() + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

std::string stamp_text(const std::string& name, const Stamp& s) {
  return name + "=" + std::to_string(s.monotonic_us) + " " + std::to_string(s.wall_us) + "\n";
}

std::optional<Stamp> parse_stamp(const std::string& value) {
  Stamp s;
  const auto space = value.find(' ');
  if (space == std::string::npos) return {};
  auto a = std::from_chars(value.data(), value.data() + space, s.monotonic_us);
  auto b = std::from_chars(value.data() + space + 1, value.data() + value.size(), s.wall_us);
  if (a.ec != std::errc{} || b.ec != std::errc{}) return {};
  return s;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The file belongs to `git` when its first line names that process (pid and start).
bool belongs_to(const std::string& text, const GitProcess& git) {
  return text.starts_with(git_line(git));
}

// Files of gits that have ended (a commit that stopped after pre-commit: a failed hook, an
// empty message).
void remove_stale_stamps(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(kPrefix)) continue;
    const std::string text = read_file(it->path());
    GitProcess owner;
    std::istringstream first(text.substr(0, text.find('\n')));
    std::string key;
    if (std::getline(first, key, '=') && key == "git" && first >> owner.pid >> owner.start_ticks &&
        is_running(owner)) {
      continue;
    }
    std::error_code ignored;
    fs::remove(it->path(), ignored);
  }
}

}  // namespace

Stamp stamp_now() {
  return Stamp{monotonic_now_us(), now_unix_us()};
}

fs::path commit_stamps_path(const fs::path& perfguard_dir, const GitProcess& git) {
  return stamps_dir(perfguard_dir) / (kPrefix + std::to_string(git.pid));
}

Status start_commit_stamps(const fs::path& perfguard_dir, const GitProcess& git,
                           const std::string& head, const Stamp& now) {
  const fs::path dir = stamps_dir(perfguard_dir);
  if (::mkdir(perfguard_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(ExitCode::store,
                      "cannot create " + perfguard_dir.string() + ": " + std::strerror(errno));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(ExitCode::store,
                      "cannot create " + dir.string() + ": " + std::strerror(errno));
  }
  remove_stale_stamps(dir);
  const fs::path path = commit_stamps_path(perfguard_dir, git);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(ExitCode::store,
                      "cannot write " + path.string() + ": " + std::strerror(errno));
  }
  Status written =
      write_all(fd, git_line(git) + "head=" + head + "\n" + stamp_text("pre-commit", now), path);
  ::close(fd);
  return written;
}

Status add_commit_stamp(const fs::path& perfguard_dir, const GitProcess& git,
                        const std::string& name, const Stamp& now) {
  const fs::path path = commit_stamps_path(perfguard_dir, git);
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) return {};  // no pre-commit for this git: nothing to add to
  char first[64] = {};
  const ssize_t n = ::pread(fd, first, sizeof first - 1, 0);
  Status written;
  if (n > 0 && belongs_to(std::string(first, static_cast<std::size_t>(n)), git)) {
    written = write_all(fd, stamp_text(name, now), path);
  }
  ::close(fd);
  return written;
}

std::optional<CommitStamps> take_commit_stamps(const fs::path& perfguard_dir,
                                               const GitProcess& git) {
  const fs::path path = commit_stamps_path(perfguard_dir, git);
  const std::string text = read_file(path);
  if (text.empty()) return {};
  std::error_code ignored;
  fs::remove(path, ignored);
  if (!belongs_to(text, git)) return {};
  CommitStamps stamps;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "head") stamps.head_before = value;
    if (key == "pre-commit") stamps.pre_commit = parse_stamp(value);
    if (key == "before-editor") stamps.before_editor = parse_stamp(value);
    if (key == "after-editor") stamps.after_editor = parse_stamp(value);
  }
  return stamps;
}

}  // namespace perfguard
