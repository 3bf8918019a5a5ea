#include "safety/capture.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>

#include "core/file_kind.h"
#include "git/git.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

using Kind = CapturedPath::Kind;

// The state files a reset removes (git's remove_branch_state), kept so an undo can put an
// interrupted merge, cherry-pick or revert back as it was.
const char* const kGitStateFiles[] = {"MERGE_HEAD",       "MERGE_MSG",   "MERGE_MODE",
                                      "MERGE_RR",         "AUTO_MERGE",  "SQUASH_MSG",
                                      "CHERRY_PICK_HEAD", "REVERT_HEAD", "MERGE_AUTOSTASH"};

// The mode of an index entry as a manifest writes it: git's file, symlink or gitlink mode,
// or 0 for no entry.
std::optional<std::uint32_t> parse_entry_mode(const std::string& text) {
  for (std::uint32_t mode : {0u, 0100644u, 0100755u, 0120000u, 0160000u}) {
    char written[16];
    std::snprintf(written, sizeof written, "%o", mode);
    if (text == written) return mode;
  }
  return {};
}

// A path a manifest may name: relative, below the top, never into the repository itself.
bool is_work_tree_path(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  std::istringstream parts(path);
  std::string part;
  bool first = true;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == "." || part == ".." || (first && part == ".git")) return false;
    first = false;
  }
  return true;
}

bool is_git_file_name(const std::string& name) {
  if (name == "index") return true;
  for (const char* known : kGitStateFiles) {
    if (name == known) return true;
  }
  return false;
}

// Permission bits as encode_manifest writes them: 1 to 4 octal digits, no leading zero. Only
// that form is read, so a manifest that decodes is one that was encoded.
std::optional<std::uint32_t> parse_mode(const std::string& text) {
  if (text.empty() || text.size() > 4 || (text.size() > 1 && text[0] == '0')) return {};
  std::uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return {};
    mode = mode * 8 + static_cast<std::uint32_t>(c - '0');
  }
  return mode;
}

Error refused(const std::string& path, const std::string& why) {
  return make_error(ExitCode::refused, "cannot take an exact snapshot: " + path + " " + why +
                                           "; move it out of the way first");
}

class Capturer {
 public:
  Capturer(const Repository& repo, const ObjectWriter& objects, const KnownBlobs& known)
      : root_(repo.work_tree()->string() + "/"), objects_(objects), known_(known) {}

  // The path itself (whatever it is) and the non-directories on the way to it.
  Status capture(const std::string& path) {
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      const std::string prefix = path.substr(0, slash);
      struct stat st {};
      if (::lstat((root_ + prefix).c_str(), &st) != 0) break;  // nothing deeper exists
      if (!S_ISDIR(st.st_mode)) return capture_entry(prefix, st);
    }
    struct stat st {};
    if (::lstat((root_ + path).c_str(), &st) != 0) {
      if (errno != ENOENT && errno != ENOTDIR) return refused(path, std::strerror(errno));
      if (seen_.insert(path).second) captured_.push_back({Kind::absent, 0, "", path});
      return {};
    }
    return capture_entry(path, st);
  }

  std::vector<CapturedPath> take() {
    std::sort(captured_.begin(), captured_.end(),
              [](const CapturedPath& a, const CapturedPath& b) { return a.path < b.path; });
    return std::move(captured_);
  }

 private:
  Status capture_entry(const std::string& path, const struct stat& st) {
    if (!seen_.insert(path).second) return {};
    const std::string full = root_ + path;
    const std::uint32_t mode = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      captured_.push_back({Kind::directory, mode, "", path});
      return capture_directory(path);
    }
    std::string bytes;
    Kind kind = Kind::file;
    if (S_ISLNK(st.st_mode)) {
      kind = Kind::symlink;
      bytes.resize(static_cast<size_t>(st.st_size) + 256);
      ssize_t n = ::readlink(full.c_str(), bytes.data(), bytes.size());
      if (n < 0 || static_cast<size_t>(n) >= bytes.size()) {
        return refused(path, n < 0 ? std::strerror(errno) : "changed while it was read");
      }
      bytes.resize(static_cast<size_t>(n));
    } else if (S_ISREG(st.st_mode)) {
      struct stat again {};
      if (!read_whole_file(full, bytes, again)) {
        return refused(path, std::string("cannot be read: ") + std::strerror(errno));
      }
    } else {
      return refused(path, std::string("is ") + file_kind(st.st_mode));
    }
    std::string oid = ObjectWriter::object_id("blob", bytes);
    if (known_.find(path) != oid) {
      auto written = objects_.write_blob(bytes);
      if (!written) return written.error();
    }
    captured_.push_back({kind, mode, std::move(oid), path});
    return {};
  }

  Status capture_directory(const std::string& path) {
    DIR* dir = ::opendir((root_ + path).c_str());
    if (!dir) return refused(path + "/", std::string("cannot be read: ") + std::strerror(errno));
    std::vector<std::string> names;
    while (struct dirent* d = ::readdir(dir)) {
      if (std::strcmp(d->d_name, ".") != 0 && std::strcmp(d->d_name, "..") != 0) {
        names.emplace_back(d->d_name);
      }
    }
    ::closedir(dir);
    for (const auto& name : names) {
      const std::string child = path + "/" + name;
      struct stat st {};
      if (::lstat((root_ + child).c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // removed meanwhile: nothing to lose
        return refused(child, std::strerror(errno));
      }
      if (auto ok = capture_entry(child, st); !ok) return ok;
    }
    return {};
  }

  std::string root_;
  const ObjectWriter& objects_;
  const KnownBlobs& known_;
  std::set<std::string> seen_;
  std::vector<CapturedPath> captured_;
};

// Removes whatever is at `full` (a directory with everything in it).
Status remove_path(const std::string& full) {
  struct stat st {};
  if (::lstat(full.c_str(), &st) != 0) return {};
  std::error_code ec;
  if (S_ISDIR(st.st_mode)) {
    // A directory left without write permission cannot be emptied; give it back first.
    for (auto it = fs::recursive_directory_iterator(full, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
    }
    ::chmod(full.c_str(), 0700);
    fs::remove_all(full, ec);
  } else {
    fs::remove(full, ec);
  }
  if (ec) return make_error(ExitCode::step_failed, "cannot remove " + full + ": " + ec.message());
  return {};
}

// Makes every directory on the way to `path`, replacing a non-directory that stands there.
Status make_parents(const std::string& root, const std::string& path) {
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string full = root + path.substr(0, slash);
    struct stat st {};
    if (::lstat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    if (auto removed = remove_path(full); !removed) return removed;
    if (::mkdir(full.c_str(), 0777) != 0) {
      return make_error(ExitCode::step_failed,
                        "cannot create " + full + ": " + std::strerror(errno));
    }
  }
  return {};
}

// Writes `bytes` into `temp` (which must not exist: for the index it is git's lock), gives
// it `mode`, and renames it over `target`: a reader sees the old file or the new one.
Status write_then_rename(const std::string& temp, const std::string& target,
                         const std::string& bytes, std::uint32_t mode) {
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return make_error(ExitCode::refused, temp + " exists: another process is writing " + target);
    }
    return make_error(ExitCode::step_failed, "cannot write " + temp + ": " + std::strerror(errno));
  }
  size_t done = 0;
  int err = 0;
  while (err == 0 && done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) err = n < 0 ? errno : EIO;
    if (n > 0) done += static_cast<size_t>(n);
  }
  if (err == 0 && ::fchmod(fd, mode) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(temp.c_str(), target.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(temp.c_str());
    return make_error(ExitCode::step_failed, "cannot write " + target + ": " + std::strerror(err));
  }
  return {};
}

Status write_file(const std::string& full, const std::string& bytes, std::uint32_t mode) {
  const std::string temp = full + ".perfguard-restore";
  ::unlink(temp.c_str());  // left by a restore that was killed
  return write_then_rename(temp, full, bytes, mode);
}

// The blobs, read with one `git cat-file --batch`.
Result<std::map<std::string, std::string>> read_blobs(const Repository& repo,
                                                      const std::set<std::string>& oids) {
  std::map<std::string, std::string> blobs;
  if (oids.empty()) return blobs;
  std::string request;
  for (const auto& oid : oids) request += oid + "\n";
  ChildCommand cmd = git_command(repo, {"cat-file", "--batch"});
  cmd.stdin_data = request;
  cmd.out = StreamMode::capture;
  cmd.err = StreamMode::capture;
  auto outcome = run_child(cmd);
  if (!outcome) return outcome.error();
  if (!outcome->success()) {
    return make_error(ExitCode::step_failed,
                      "cannot read the snapshot's files: " + git_message(outcome->err));
  }
  const std::string& out = outcome->out;
  size_t pos = 0;
  while (pos < out.size()) {
    const size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) break;
    std::istringstream line(out.substr(pos, nl - pos));
    std::string oid, type;
    size_t size = 0;
    if (!(line >> oid >> type >> size) || type != "blob" || nl + 1 + size > out.size()) {
      return make_error(ExitCode::step_failed,
                        "the snapshot is damaged: object " + oid + " is missing (" + type + ")");
    }
    blobs[oid] = out.substr(nl + 1, size);
    pos = nl + 1 + size + 1;
  }
  for (const auto& oid : oids) {
    if (!blobs.count(oid)) {
      return make_error(ExitCode::step_failed,
                        "the snapshot is damaged: blob " + oid + " is missing");
    }
  }
  return blobs;
}

}  // namespace

std::string KnownBlobs::find(const std::string& path) const {
  if (!index_) return "";
  auto [at, end] = index_->entries_at(path);
  for (; at != end; ++at) {
    if (at->stage == 0 && !at->intent_to_add && !at->gitlink()) return to_hex(at->oid);
  }
  return "";
}

Result<std::vector<CapturedPath>> capture_work_tree(const Repository& repo,
                                                    const ObjectWriter& objects,
                                                    std::vector<std::string> paths,
                                                    const KnownBlobs& known) {
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  Capturer capturer(repo, objects, known);
  for (const auto& path : paths) {
    if (auto ok = capturer.capture(path); !ok) return ok.error();
  }
  return capturer.take();
}

Result<std::vector<CapturedPath>> capture_git_files(const Repository& repo,
                                                    const ObjectWriter& objects) {
  std::vector<CapturedPath> captured;
  for (const char* name : kGitStateFiles) {
    std::string bytes;
    struct stat st {};
    if (!read_whole_file(repo.git_dir() / name, bytes, st)) continue;
    auto oid = objects.write_blob(bytes);
    if (!oid) return oid.error();
    captured.push_back({Kind::git_file, std::uint32_t(st.st_mode & 07777), *oid, name});
  }
  return captured;
}

Status restore_captured(const Repository& repo, const std::vector<CapturedPath>& captured) {
  std::set<std::string> oids;
  for (const auto& c : captured) {
    if (!c.oid.empty() && c.kind != Kind::index_entry) oids.insert(c.oid);
  }
  auto blobs = read_blobs(repo, oids);
  if (!blobs) return blobs.error();
  const std::string root = repo.work_tree()->string() + "/";
  std::vector<const CapturedPath*> directories;
  for (const auto& c : captured) {  // sorted by path: a directory comes before what it holds
    if (c.kind == Kind::git_file) {
      if (auto ok = write_file((repo.git_dir() / c.path).string(), blobs->at(c.oid), c.mode); !ok) {
        return ok;
      }
      continue;
    }
    if (c.kind == Kind::index) {  // under git's lock, as git writes it
      const auto ok = write_then_rename(repo.index_lock().string(), repo.index_file().string(),
                                        blobs->at(c.oid), c.mode);
      if (!ok) return ok;
      continue;
    }
    if (c.kind == Kind::no_index) {
      ::unlink(repo.index_file().c_str());
      continue;
    }
    if (c.kind == Kind::index_entry) continue;
    const std::string full = root + c.path;
    struct stat st {};
    const bool is_dir = ::lstat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (c.kind == Kind::directory && is_dir) {
      directories.push_back(&c);
      continue;
    }
    if (c.kind != Kind::file) {  // a file is replaced by a rename, anything else first removed
      if (auto ok = remove_path(full); !ok) return ok;
    } else if (is_dir) {
      if (auto ok = remove_path(full); !ok) return ok;
    }
    if (c.kind == Kind::absent) continue;
    if (auto ok = make_parents(root, c.path); !ok) return ok;
    Status made;
    if (c.kind == Kind::directory) {
      if (::mkdir(full.c_str(), 0700) != 0) {
        made = make_error(ExitCode::step_failed,
                          "cannot create " + full + ": " + std::strerror(errno));
      }
      directories.push_back(&c);
    } else if (c.kind == Kind::symlink) {
      if (::symlink(blobs->at(c.oid).c_str(), full.c_str()) != 0) {
        made = make_error(ExitCode::step_failed,
                          "cannot create " + full + ": " + std::strerror(errno));
      }
    } else {
      made = write_file(full, blobs->at(c.oid), c.mode);
    }
    if (!made) return made;
  }
  // Modes of directories last, deepest first: a read-only directory is filled before it is
  // made read-only.
  for (auto it = directories.rbegin(); it != directories.rend(); ++it) {
    ::chmod((root + (*it)->path).c_str(), (*it)->mode);
  }
  return {};
}

Status restore_index_entries(const Repository& repo, const std::vector<CapturedPath>& captured) {
  // Each path first loses every entry it has now (mode 0, any stage), then gets its own.
  std::string info;
  const std::string none = "0 " + std::string(40, '0') + "\t";
  for (const auto& c : captured) {
    if (c.kind != Kind::index_entry) continue;
    info += none + c.path + '\0';
    if (c.mode == 0) continue;
    char mode[16];
    std::snprintf(mode, sizeof mode, "%o", static_cast<unsigned>(c.mode));
    info += std::string(mode) + " " + c.oid + "\t" + c.path + '\0';
  }
  if (info.empty()) return {};
  auto updated = git_output_of(repo, {"update-index", "-z", "--index-info"}, std::move(info));
  if (!updated) {
    return make_error(ExitCode::step_failed,
                      "cannot put the index entries back: " + updated.error().message);
  }
  return {};
}

std::string encode_manifest(const std::vector<CapturedPath>& captured) {
  std::string out = "perfguard-manifest 1";
  out.push_back('\0');
  char mode[16];
  for (const auto& c : captured) {
    std::snprintf(mode, sizeof mode, "%o", static_cast<unsigned>(c.mode));
    out += std::string(1, static_cast<char>(c.kind)) + " " + mode + " " +
           (c.oid.empty() ? "-" : c.oid) + " " + c.path;
    out.push_back('\0');
  }
  return out;
}

Result<std::vector<CapturedPath>> decode_manifest(const std::string& text) {
  auto damaged = [](const std::string& why) {
    return make_error(ExitCode::step_failed, "the snapshot's manifest is damaged: " + why);
  };
  std::vector<CapturedPath> captured;
  size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    size_t end = text.find('\0', pos);
    if (end == std::string::npos) return damaged("a record is cut short");
    const std::string record = text.substr(pos, end - pos);
    pos = end + 1;
    if (first) {
      if (record != "perfguard-manifest 1") return damaged("unknown version '" + record + "'");
      first = false;
      continue;
    }
    const size_t s1 = record.find(' '), s2 = record.find(' ', s1 + 1),
                 s3 = record.find(' ', s2 + 1);
    if (s1 != 1 || s2 == std::string::npos || s3 == std::string::npos) {
      return damaged("bad record '" + record + "'");
    }
    const char kind = record[0];
    if (std::string("fldagine").find(kind) == std::string::npos) {
      return damaged("unknown kind '" + std::string(1, kind) + "'");
    }
    CapturedPath c;
    c.kind = static_cast<Kind>(kind);
    const std::string mode_text = record.substr(2, s2 - 2);
    const auto mode = kind == 'e' ? parse_entry_mode(mode_text) : parse_mode(mode_text);
    c.oid = record.substr(s2 + 1, s3 - s2 - 1);
    c.path = record.substr(s3 + 1);
    const bool needs_oid =
        kind == 'f' || kind == 'l' || kind == 'g' || kind == 'i' || (kind == 'e' && mode != 0u);
    const bool in_git_dir = kind == 'g' || kind == 'i' || kind == 'n';
    if (!mode || (needs_oid ? !is_hex_oid(c.oid) : c.oid != "-") ||
        !(in_git_dir ? is_git_file_name(c.path) : is_work_tree_path(c.path))) {
      return damaged("bad record '" + record + "'");
    }
    c.mode = *mode;
    if (!needs_oid) c.oid.clear();
    captured.push_back(std::move(c));
  }
  if (first) return damaged("it is empty");
  return captured;
}

}  // namespace perfguard
