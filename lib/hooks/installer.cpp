#include "hooks/installer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "git/git.h"
#include "hooks/hook_names.h"
#include "process/runner.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

// The second line of every file perfguard installs; how status and uninstall know it.
constexpr std::string_view kMarker = "# perfguard-hooks: ";

std::string quoted(const std::string& text) {
  std::string word = "'";
  for (char c : text) word += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return word + "'";
}

std::string unquoted(std::string_view word) {
  std::string text;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (word.substr(i, 4) == "'\\''") {
      text += '\'';
      i += 3;
    } else if (word[i] != '\'') {
      text += word[i];
    }
  }
  return text;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Error cannot(const std::string& what, const fs::path& path, int err) {
  return make_error(ExitCode::usage,
                    "cannot " + what + " " + path.string() + ": " + std::strerror(err));
}

// Writes `bytes` with `mode` in place of `path`, through a new file and a rename: a hook is
// never seen half written.
Status replace_file(const fs::path& path, const std::string& bytes, mode_t mode) {
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".perfguard-new");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return cannot("write", tmp, errno);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return cannot("write", tmp, err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return cannot("write", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return cannot("write", path, err);
  }
  return {};
}

// Moves the file (or symbolic link) at `from` to `to` as it is: bytes, mode, link.
Status move_file(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) == 0) return {};
  if (errno != EXDEV) return cannot("move", from, errno);
  struct stat st {};
  if (::lstat(from.c_str(), &st) != 0) return cannot("read", from, errno);
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    fs::copy_symlink(from, to, ec);
    if (ec) return cannot("copy", from, ec.value());
  } else if (Status copied = replace_file(to, read_file(from), st.st_mode & 07777); !copied) {
    return copied;
  }
  if (::unlink(from.c_str()) != 0) return cannot("remove", from, errno);
  return {};
}

struct InstalledFile {
  bool ours = false;
  fs::path chained;
};

InstalledFile read_installed(const fs::path& path) {
  InstalledFile file;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return file;
  std::istringstream lines(read_file(path));
  std::string line;
  std::getline(lines, line);
  if (!std::getline(lines, line) || !line.starts_with(kMarker)) return file;
  file.ours = true;
  while (std::getline(lines, line)) {
    if (line.starts_with("chained=")) {
      file.chained = unquoted(std::string_view(line).substr(8));
      break;
    }
  }
  return file;
}

bool exists_at_all(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status check_writable_dir(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (exists_at_all(dir)) {
      return make_error(ExitCode::usage, what + " " + dir.string() + " is not a directory");
    }
    // Made by install: its nearest existing parent must let us.
    fs::path parent = dir.parent_path();
    while (!parent.empty() && !exists_at_all(parent) && parent != parent.parent_path()) {
      parent = parent.parent_path();
    }
    if (::access(parent.c_str(), W_OK | X_OK) != 0) return cannot("create", dir, errno);
    return {};
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return make_error(ExitCode::usage,
                      what + " " + dir.string() + " is not writable: " + std::strerror(errno));
  }
  return {};
}

Status make_dir(const fs::path& dir, mode_t mode) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  fs::create_directories(dir, ec);
  if (ec) return cannot("create", dir, ec.value());
  ::chmod(dir.c_str(), mode);
  return {};
}

}  // namespace

const char* to_string(HookState state) {
  switch (state) {
    case HookState::installed:
      return "installed";
    case HookState::chained:
      return "chained";
    case HookState::missing:
      return "missing";
    case HookState::foreign:
      return "foreign";
  }
  return "missing";
}

std::string hook_script(const HookPlace& place, const std::string& name, const fs::path& chained) {
  const HookName* hook = find_hook_name(name);
  const bool first = hook == nullptr || hook->perfguard_first;
  std::ostringstream s;
  s << "#!/bin/sh\n"
    << kMarker << name << " hook, installed by `perfguard-hooks install`"
    << (place.global ? " --global" : "") << "; `perfguard-hooks uninstall"
    << (place.global ? " --global" : "") << "` puts back what was here.\n"
    << "# perfguard's part never fails the git step (only pre-push blocks, on an open critical\n"
    << "# alert); a chained hook runs with the same arguments and stdin, and its status counts.\n"
    << "perfguard=" << quoted(place.binary.string()) << "\n"
    << "chained=" << quoted(chained.string()) << "\n"
    << "[ -x \"$perfguard\" ] || perfguard=$(command -v perfguard-hooks 2>/dev/null) || "
       "perfguard=\n"
    << "perfguard_run() {\n"
    << "  [ -z \"${PERFGUARD_TOOL:-}${PERFGUARD_HOOKS_RUNNING:-}\" ] || return 0\n"
    << "  if [ -z \"$perfguard\" ]; then\n"
    << "    echo \"perfguard-hooks: warning: perfguard-hooks is not installed: " << name
    << " runs without it\" >&2\n"
    << "    return 0\n"
    << "  fi\n"
    << "  \"$perfguard\" run " << name << " \"$@\" </dev/null\n"
    << "}\n"
    << "status=0\n";
  if (first) {
    s << (name == "pre-push" ? "perfguard_run \"$@\"\n[ $? -ne 1 ] || exit 1\n"
                             : "perfguard_run \"$@\"\n");
  }
  if (!place.global) {
    s << "if [ -n \"$chained\" ] && [ -x \"$chained\" ]; then\n"
      << "  \"$chained\" \"$@\"\n"
      << "  status=$?\n"
      << "fi\n";
  } else {
    // core.hooksPath hides the repository's own hooks: run them as git would have. When
    // both a chained hook and the repository's read the hook's stdin (pre-push,
    // post-rewrite), each gets its own copy.
    const bool reads_stdin = name == "pre-push" || name == "post-rewrite";
    const bool blocking = name == "pre-commit" || name == "prepare-commit-msg" ||
                          name == "commit-msg" || name == "pre-push";
    s << "own=$(git rev-parse --git-common-dir 2>/dev/null)/hooks/" << name << "\n"
      << "[ -f \"$own\" ] && [ -x \"$own\" ] || own=\n"
      << "[ -n \"$chained\" ] && [ -x \"$chained\" ] || chained=\n"
      << "input=\n";
    if (reads_stdin) {
      s << "if [ -n \"$chained\" ] && [ -n \"$own\" ] && input=$(mktemp); then\n"
        << "  trap 'rm -f \"$input\"' EXIT\n"
        << "  cat >\"$input\"\n"
        << "fi\n";
    }
    s << "with_input() { if [ -n \"$input\" ]; then \"$@\" <\"$input\"; else \"$@\"; fi; }\n"
      << "if [ -n \"$chained\" ]; then\n"
      << "  with_input \"$chained\" \"$@\"\n"
      << "  status=$?\n"
      << "fi\n"
      << "if [ -n \"$own\" ]" << (blocking ? " && [ $status -eq 0 ]" : "") << "; then\n"
      << "  (PERFGUARD_HOOKS_RUNNING=1 && export PERFGUARD_HOOKS_RUNNING && with_input \"$own\" "
         "\"$@\")\n"
      << "  s=$?\n"
      << "  [ $status -ne 0 ] || status=$s\n"
      << "fi\n";
  }
  if (!first) s << "perfguard_run \"$@\"\n";
  s << "exit $status\n";
  return s.str();
}

std::vector<HookStatus> hook_status(const HookPlace& place) {
  std::vector<HookStatus> all;
  for (const HookName& h : kHookNames) {
    HookStatus status;
    status.name = std::string(h.name);
    status.path = place.hooks_dir / h.name;
    const InstalledFile file = read_installed(status.path);
    if (file.ours) {
      status.state = file.chained.empty() ? HookState::installed : HookState::chained;
      status.chained = file.chained;
    } else {
      status.state = exists_at_all(status.path) ? HookState::foreign : HookState::missing;
    }
    all.push_back(std::move(status));
  }
  return all;
}

Status install_hooks(const HookPlace& place) {
  // Everything that could stop it is checked before the first change.
  if (Status ok = check_writable_dir(place.hooks_dir, "the hooks directory"); !ok) return ok;
  if (Status ok = check_writable_dir(place.saved_dir, "perfguard's directory"); !ok) return ok;
  const auto statuses = hook_status(place);
  for (const HookStatus& s : statuses) {
    if (s.state != HookState::foreign) continue;
    struct stat st {};
    ::lstat(s.path.c_str(), &st);
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
      return make_error(ExitCode::usage, s.path.string() + " is not a file: move it away first");
    }
    if (exists_at_all(place.saved_dir / s.name)) {
      return make_error(ExitCode::usage, "perfguard already keeps a saved " + s.name + " hook in " +
                                             place.saved_dir.string() +
                                             ": run `perfguard-hooks uninstall` first");
    }
  }
  if (Status made = make_dir(place.hooks_dir, 0755); !made) return made;
  for (const HookStatus& s : statuses) {
    fs::path chained = s.chained;
    if (s.state == HookState::foreign) {
      if (Status made = make_dir(place.saved_dir, 0700); !made) return made;
      chained = place.saved_dir / s.name;
      if (Status moved = move_file(s.path, chained); !moved) return moved;
    }
    const std::string script = hook_script(place, s.name, chained);
    struct stat st {};
    if (s.state != HookState::foreign && s.state != HookState::missing &&
        ::stat(s.path.c_str(), &st) == 0 && (st.st_mode & 07777) == 0755 &&
        read_file(s.path) == script) {
      continue;  // already as it would be written
    }
    if (Status written = replace_file(s.path, script, 0755); !written) return written;
  }
  return {};
}

Result<std::vector<std::string>> uninstall_hooks(const HookPlace& place) {
  std::vector<std::string> left;
  const auto statuses = hook_status(place);
  bool any = false;
  for (const HookStatus& s : statuses)
    any = any || s.state == HookState::installed || s.state == HookState::chained;
  if (any && ::access(place.hooks_dir.c_str(), W_OK | X_OK) != 0) {
    return make_error(ExitCode::usage, "the hooks directory " + place.hooks_dir.string() +
                                           " is not writable: " + std::strerror(errno));
  }
  for (const HookStatus& s : statuses) {
    if (s.state == HookState::foreign) {
      left.push_back(s.path.string() + " is not perfguard's: left as it is");
      continue;
    }
    if (s.state == HookState::missing) continue;
    if (s.state == HookState::chained && exists_at_all(s.chained)) {
      if (Status moved = move_file(s.chained, s.path); !moved) return moved.error();
      continue;
    }
    if (s.state == HookState::chained) {
      left.push_back("the saved " + s.name + " hook " + s.chained.string() + " is gone");
    }
    if (::unlink(s.path.c_str()) != 0) return cannot("remove", s.path, errno);
  }
  std::error_code ec;
  fs::remove(place.saved_dir, ec);  // only when empty
  return left;
}

Result<fs::path> repository_hooks_dir(const Repository& repo) {
  auto out = git_output(repo, {"rev-parse", "--git-path", "hooks"});
  if (!out) return out.error();
  fs::path dir = trim_right(*out);
  if (dir.is_relative()) {
    dir = repo.work_tree().value_or(repo.git_dir()) / dir;
  }
  return dir.lexically_normal();
}

namespace {

Result<fs::path> user_config_dir() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && *xdg == '/') return fs::path(xdg) / "perfguard";
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home == '/') return fs::path(home) / ".config" / "perfguard";
  return make_error(ExitCode::usage, "neither HOME nor XDG_CONFIG_HOME is set to a full path");
}

Result<ChildOutcome> git_config_global(std::vector<std::string> args) {
  ChildCommand cmd;
  cmd.argv = {"git", "config", "--global"};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.out = StreamMode::capture;
  cmd.err = StreamMode::capture;
  cmd.stdin_data = "";
  return run_child(cmd);
}

// The state file's one line: the core.hooksPath install set (when it set one).
std::optional<std::string> read_set_hooks_path(const fs::path& state_file) {
  std::istringstream lines(read_file(state_file));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("set-hooks-path=")) return line.substr(15);
  }
  return std::nullopt;
}

}  // namespace

Result<GlobalHooks> global_hooks(const fs::path& binary) {
  auto config_dir = user_config_dir();
  if (!config_dir) return config_dir.error();
  GlobalHooks g;
  g.state_file = *config_dir / "global-hooks";
  g.place.global = true;
  g.place.binary = binary;
  g.place.saved_dir = *config_dir / "saved-hooks";
  auto got = git_config_global({"--type=path", "--get", "core.hooksPath"});
  if (!got) return got.error();
  if (got->exit_code == 0) {
    g.hooks_path = trim_right(got->out);
  } else if (got->exit_code != 1) {
    return make_error(ExitCode::usage,
                      "cannot read the global git config: " + git_message(got->err));
  }
  if (g.hooks_path && !g.hooks_path->empty()) {
    g.place.hooks_dir = fs::path(*g.hooks_path).lexically_normal();
    if (g.place.hooks_dir.is_relative()) {
      return make_error(ExitCode::usage, "the global core.hooksPath '" + *g.hooks_path +
                                             "' is relative: perfguard cannot tell which "
                                             "directory it names; make it a full path");
    }
  } else {
    g.place.hooks_dir = *config_dir / "hooks";
    g.set_hooks_path = true;
  }
  return g;
}

Status install_global_hooks(const GlobalHooks& g) {
  if (g.set_hooks_path) {
    // The global config must be writable before any hook is installed.
    auto probe = git_config_global({"--get-all", "core.hooksPath"});
    if (!probe) return probe.error();
  }
  if (Status installed = install_hooks(g.place); !installed) return installed;
  if (!g.set_hooks_path) return {};
  std::error_code ec;
  fs::create_directories(g.state_file.parent_path(), ec);
  std::ofstream state(g.state_file, std::ios::trunc);
  state << "set-hooks-path=" << g.place.hooks_dir.string() << "\n";
  state.close();
  if (!state) return cannot("write", g.state_file, errno);
  auto set = git_config_global({"core.hooksPath", g.place.hooks_dir.string()});
  if (!set) return set.error();
  if (!set->success()) {
    return make_error(ExitCode::usage,
                      "cannot set the global core.hooksPath: " + git_message(set->err));
  }
  return {};
}

Result<std::vector<std::string>> uninstall_global_hooks(const GlobalHooks& g) {
  auto left = uninstall_hooks(g.place);
  if (!left) return left;
  const auto set_by_us = read_set_hooks_path(g.state_file);
  if (set_by_us && g.hooks_path && fs::path(*g.hooks_path).lexically_normal() == *set_by_us) {
    auto unset = git_config_global({"--unset", "core.hooksPath"});
    if (!unset) return unset.error();
    if (!unset->success()) {
      return make_error(ExitCode::usage,
                        "cannot unset the global core.hooksPath: " + git_message(unset->err));
    }
    std::error_code ec;
    fs::remove(g.place.hooks_dir, ec);  // only when empty
  } else if (set_by_us) {
    left->push_back("the global core.hooksPath is no longer perfguard's: left as it is");
  }
  std::error_code ec;
  fs::remove(g.state_file, ec);
  return left;
}

}  // namespace perfguard
