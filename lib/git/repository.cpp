#include "git/repository.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "process/runner.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

std::optional<std::string> read_small_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

bool path_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

bool looks_like_git_dir(const fs::path& d) {
  return path_exists(d / "HEAD") && (path_exists(d / "objects") || path_exists(d / "commondir")) &&
         path_exists(d / "refs");
}

fs::path absolute_normal(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  fs::path canon = fs::weakly_canonical(abs, ec);
  return ec ? abs.lexically_normal() : canon;
}

// The git dir a `.git` entry names: the directory itself, or the target of a gitfile.
std::optional<fs::path> git_dir_from_dot_git(const fs::path& dot_git) {
  std::error_code ec;
  if (fs::is_directory(dot_git, ec)) {
    if (looks_like_git_dir(dot_git)) return dot_git;
    return std::nullopt;
  }
  if (!fs::is_regular_file(dot_git, ec)) return std::nullopt;
  auto content = read_small_file(dot_git);
  if (!content || content->rfind("gitdir: ", 0) != 0) return std::nullopt;
  fs::path target = trim(content->substr(8));
  if (target.is_relative()) target = dot_git.parent_path() / target;
  return absolute_normal(target);
}

std::vector<fs::path> ceiling_directories() {
  std::vector<fs::path> out;
  const char* env = std::getenv("GIT_CEILING_DIRECTORIES");
  if (!env) return out;
  std::stringstream ss(env);
  std::string item;
  while (std::getline(ss, item, ':')) {
    if (!item.empty()) out.push_back(absolute_normal(item));
  }
  return out;
}

bool is_per_worktree_ref(const std::string& refname) {
  if (refname.find('/') == std::string::npos) return true;  // HEAD, ORIG_HEAD, MERGE_HEAD, …
  for (const char* prefix : {"refs/bisect/", "refs/worktree/", "refs/rewritten/"}) {
    if (refname.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// A reflog message as git writes one (copy_reflog_msg): every run of white space one space,
// none at either end, so that the entry stays one line.
std::string reflog_message(const std::string& message) {
  std::string out;
  bool space = false;
  for (char c : message) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {  // git's isspace()
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

bool is_hex_oid(std::string_view s) {
  if (s.size() != 40 && s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

const char* to_string(RepoState state) {
  switch (state) {
    case RepoState::none:
      return "none";
    case RepoState::merge:
      return "merge";
    case RepoState::rebase:
      return "rebase";
    case RepoState::am:
      return "am";
    case RepoState::cherry_pick:
      return "cherry-pick";
    case RepoState::revert:
      return "revert";
    case RepoState::bisect:
      return "bisect";
  }
  return "none";
}

std::string Head::branch() const {
  const std::string prefix = "refs/heads/";
  if (ref.rfind(prefix, 0) == 0) return ref.substr(prefix.size());
  return ref;
}

Result<Repository> Repository::discover(const fs::path& start) {
  Repository repo;
  const fs::path from = absolute_normal(start);
  repo.start_dir_ = from;
  std::error_code ec;
  if (!fs::is_directory(from, ec)) {
    return make_error(ExitCode::usage, from.string() + ": no such directory");
  }

  if (const char* env_git_dir = std::getenv("GIT_DIR"); env_git_dir && *env_git_dir) {
    fs::path gd = fs::path(env_git_dir).is_relative() ? from / env_git_dir : fs::path(env_git_dir);
    repo.git_dir_ = absolute_normal(gd);
    if (!looks_like_git_dir(repo.git_dir_)) {
      return make_error(ExitCode::usage,
                        "GIT_DIR=" + std::string(env_git_dir) + " is not a git repository");
    }
    const char* env_work_tree = std::getenv("GIT_WORK_TREE");
    repo.work_tree_ = env_work_tree && *env_work_tree ? absolute_normal(env_work_tree) : from;
  } else {
    const auto ceilings = ceiling_directories();
    for (fs::path dir = from;; dir = dir.parent_path()) {
      if (auto gd = git_dir_from_dot_git(dir / ".git")) {
        repo.git_dir_ = absolute_normal(*gd);
        repo.work_tree_ = dir;
        break;
      }
      if (looks_like_git_dir(dir)) {  // a bare repository, or inside a git dir
        repo.git_dir_ = dir;
        break;
      }
      bool at_ceiling = false;
      for (const auto& c : ceilings) at_ceiling = at_ceiling || c == dir.parent_path();
      if (dir == dir.root_path() || dir.parent_path() == dir || at_ceiling) {
        return make_error(ExitCode::usage, "not a git repository (or any parent up to " +
                                               dir.string() + "): " + from.string() +
                                               ": run inside a repository or pass -C DIR");
      }
    }
  }

  repo.common_dir_ = repo.git_dir_;
  if (auto commondir = read_small_file(repo.git_dir_ / "commondir")) {
    fs::path c = trim(*commondir);
    repo.common_dir_ = absolute_normal(c.is_relative() ? repo.git_dir_ / c : c);
  }
  return repo;
}

fs::path Repository::ref_path(const std::string& refname) const {
  return (is_per_worktree_ref(refname) ? git_dir_ : common_dir_) / refname;
}

std::optional<std::string> Repository::resolve_ref(const std::string& refname) const {
  std::string name = refname;
  for (int depth = 0; depth < 5; ++depth) {
    if (auto content = read_small_file(ref_path(name))) {
      std::string value = trim(*content);
      if (value.rfind("ref: ", 0) == 0) {
        name = value.substr(5);
        continue;
      }
      if (is_hex_oid(value)) return value;
      return std::nullopt;
    }
    // Not loose: look in packed-refs ("<oid> <refname>" lines; '^' lines peel tags).
    std::ifstream packed(common_dir_ / "packed-refs");
    std::string line;
    while (std::getline(packed, line)) {
      if (line.empty() || line[0] == '#' || line[0] == '^') continue;
      auto space = line.find(' ');
      if (space != std::string::npos && line.compare(space + 1, std::string::npos, name) == 0) {
        return line.substr(0, space);
      }
    }
    return std::nullopt;
  }
  return std::nullopt;
}

Result<Head> Repository::head() const {
  auto content = read_small_file(git_dir_ / "HEAD");
  if (!content) {
    return make_error(ExitCode::usage, (git_dir_ / "HEAD").string() + ": cannot read HEAD");
  }
  std::string value = trim(*content);
  Head head;
  if (value.rfind("ref: ", 0) == 0) {
    head.ref = value.substr(5);
    head.oid = resolve_ref(head.ref).value_or("");
  } else if (is_hex_oid(value)) {
    head.oid = value;
  } else {
    return make_error(ExitCode::usage, (git_dir_ / "HEAD").string() + ": HEAD is not valid");
  }
  return head;
}

RepoState Repository::state() const {
  // The same files, in the same order, as git's own wt-status and libgit2's
  // git_repository_state.
  if (path_exists(git_dir_ / "rebase-merge")) return RepoState::rebase;
  if (path_exists(git_dir_ / "rebase-apply")) {
    return path_exists(git_dir_ / "rebase-apply" / "applying") ? RepoState::am : RepoState::rebase;
  }
  if (path_exists(git_dir_ / "MERGE_HEAD")) return RepoState::merge;
  if (path_exists(git_dir_ / "REVERT_HEAD")) return RepoState::revert;
  if (path_exists(git_dir_ / "CHERRY_PICK_HEAD")) return RepoState::cherry_pick;
  if (path_exists(git_dir_ / "BISECT_LOG")) return RepoState::bisect;
  return RepoState::none;
}

fs::path Repository::index_file() const {
  if (const char* env = std::getenv("GIT_INDEX_FILE"); env && *env) {
    fs::path p = env;
    return p.is_relative() && work_tree_ ? *work_tree_ / p : p;
  }
  return git_dir_ / "index";
}

bool Repository::index_locked() const {
  return path_exists(index_lock());
}

bool Repository::uses_files_ref_storage() const {
  auto config = read_small_file(common_dir_ / "config");
  if (!config) return true;
  std::string lower = *config;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("refstorage") == std::string::npos;
}

Status Repository::create_ref(const std::string& refname, const std::string& oid,
                              const std::string& identity, std::int64_t time_s,
                              const std::string& message) const {
  return write_ref(refname, oid, "", identity, time_s, message);
}

Status Repository::update_ref(const std::string& refname, const std::string& oid,
                              const std::string& old_oid, const std::string& identity,
                              std::int64_t time_s, const std::string& message) const {
  return write_ref(refname, oid, old_oid, identity, time_s, message);
}

Status Repository::write_ref(const std::string& refname, const std::string& oid,
                             const std::string& old_oid, const std::string& identity,
                             std::int64_t time_s, const std::string& message) const {
  const bool create = old_oid.empty();
  const std::string verb = create ? "cannot create " : "cannot update ";
  const std::string log_message = reflog_message(message);
  if (!uses_files_ref_storage()) {
    ChildCommand cmd;
    cmd.argv = {"git", "update-ref", "--create-reflog", "-m", log_message, refname, oid, old_oid};
    cmd.cwd = git_dir_;
    cmd.out = StreamMode::capture;
    cmd.err = StreamMode::capture;
    auto run = run_child(cmd);
    if (!run) return run.error();
    if (!run->success()) {
      return make_error(ExitCode::step_failed, verb + refname + ": " + trim(run->err));
    }
    return {};
  }
  const fs::path path = ref_path(refname);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const std::string lock = path.string() + ".lock";
  int fd = ::open(lock.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    return make_error(ExitCode::step_failed,
                      verb + refname + ": " + lock + ": " + std::strerror(errno));
  }
  // Under the lock, the ref is what the caller says it is (or, created, absent).
  const bool as_expected =
      create ? !path_exists(path) : resolve_ref(refname).value_or("") == old_oid;
  const std::string line = oid + "\n";
  bool written = as_expected && write_all(fd, line);
  written = ::close(fd) == 0 && written;
  // git appends to the reflog while it holds the ref's lock, then renames the lock.
  int err = written ? 0 : errno;
  if (written) {
    const fs::path log = (is_per_worktree_ref(refname) ? git_dir_ : common_dir_) / "logs" / refname;
    fs::create_directories(log.parent_path(), ec);
    const std::string entry = (create ? std::string(40, '0') : old_oid) + " " + oid + " " +
                              identity + " " + std::to_string(time_s) + " +0000\t" + log_message +
                              "\n";
    int log_fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    written = log_fd >= 0 && write_all(log_fd, entry);
    if (!written) err = errno;
    if (log_fd >= 0 && ::close(log_fd) != 0 && written) {
      written = false;
      err = errno;
    }
  }
  if (!written || ::rename(lock.c_str(), path.c_str()) != 0) {
    if (written) err = errno;
    ::unlink(lock.c_str());
    if (!as_expected) {
      return make_error(ExitCode::step_failed,
                        verb + refname + ": " + (create ? "it exists" : "it has moved"));
    }
    return make_error(ExitCode::step_failed, verb + refname + ": " + std::strerror(err));
  }
  return {};
}

}  // namespace perfguard
