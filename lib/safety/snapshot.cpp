#include "safety/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <set>
#include <sstream>

#include "core/clock.h"
#include "git/git.h"
#include "git/object_writer.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

// Snapshot commits do not depend on the user's identity or signing set-up: they must be
// possible on a CI machine with no user.name, and never wait for a passphrase.
constexpr const char* kSnapshotIdentity = "perfguard <perfguard@localhost>";

std::string new_snapshot_id(std::int64_t created_us) {
  std::time_t secs = static_cast<std::time_t>(created_us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  static std::mt19937 engine{std::random_device{}()};
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%06lld-%02x", static_cast<long long>(created_us % 1000000),
                static_cast<unsigned>(engine() & 0xff));
  return std::string(stamp) + "-" + suffix;
}

std::string snapshot_message(const Snapshot& s, size_t held) {
  std::ostringstream m;
  m << "perfguard snapshot " << s.id << "\n\n"
    << s.reason << "\n\n"
    << "Perfguard-Snapshot: " << s.format << "\n"
    << "Perfguard-Head: " << s.head << "\n"
    << "Perfguard-Branch: " << (s.branch.empty() ? "(detached)" : s.branch) << "\n"
    << "Perfguard-Worktree: " << (s.worktree.empty() ? "(main)" : s.worktree) << "\n"
    << "Perfguard-Dirty: "
    << (s.partial() ? "unknown"
        : s.dirty   ? "yes"
                    : "no")
    << "\n"
    << "Perfguard-Paths: " << held << "\n"
    << "Perfguard-Created: " << s.created_us << "\n"
    << "Perfguard-Tool: " << s.tool << "\n";
  return m.str();
}

// Snapshot::untracked_in_the_way, from what was captured.
bool untracked_in_the_way(const std::vector<CapturedPath>& captured, const IndexFile* index) {
  using Kind = CapturedPath::Kind;
  auto tracked = [&](const std::string& path) {
    if (!index) return false;
    auto [first, last] = index->entries_at(path);
    return first != last;
  };
  return std::any_of(captured.begin(), captured.end(), [&](const CapturedPath& c) {
    if (c.kind == Kind::git_file) return true;
    return (c.kind == Kind::file || c.kind == Kind::symlink || c.kind == Kind::directory) &&
           !tracked(c.path);
  });
}

// Reads the metadata back from a snapshot commit's message.
std::optional<Snapshot> parse_snapshot(const std::string& id, const std::string& commit,
                                       const std::string& message) {
  Snapshot s;
  s.id = id;
  s.commit = commit;
  s.format = 0;
  std::istringstream in(message);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (n == 3) s.reason = line;
    auto colon = line.find(": ");
    if (colon == std::string::npos || line.rfind("Perfguard-", 0) != 0) continue;
    std::string key = line.substr(10, colon - 10), value = line.substr(colon + 2);
    if (key == "Snapshot") s.format = std::atoi(value.c_str());
    if (key == "Head") s.head = value;
    if (key == "Branch") s.branch = value == "(detached)" ? "" : value;
    if (key == "Worktree") s.worktree = value == "(main)" ? "" : value;
    if (key == "Dirty") s.dirty = value == "yes";
    if (key == "Index") s.index_commit = value;
    if (key == "Created") s.created_us = std::strtoll(value.c_str(), nullptr, 10);
    if (key == "Tool") s.tool = value;
  }
  if (s.format < 1 || !is_hex_oid(s.head)) return std::nullopt;
  return s;
}

Status interrupted_check() {
  if (received_interrupt() == 0) return {};
  return make_error(ExitCode::interrupted, "interrupted before anything was changed");
}

Status refuse_index(IndexProblem problem, const Repository& repo) {
  switch (problem) {
    case IndexProblem::split:
      return make_error(ExitCode::refused,
                        "cannot take an exact snapshot of a split index (core.splitIndex): run "
                        "`git update-index --no-split-index` first");
    case IndexProblem::sparse:
      return make_error(ExitCode::refused,
                        "cannot take an exact snapshot of a sparse index: run `git sparse-checkout "
                        "disable` or set index.sparse=false first");
    case IndexProblem::unreadable:
      return make_error(ExitCode::refused,
                        "cannot take an exact snapshot: " + repo.index_file().string() +
                            " is not an index this version can read");
    case IndexProblem::none:
    case IndexProblem::missing:
      break;
  }
  return {};
}

// The tree that keeps every blob the snapshot names reachable, each under its own id.
Result<std::string> blob_tree(const ObjectWriter& objects, const std::set<std::string>& oids) {
  std::vector<TreeEntry> entries;
  entries.reserve(oids.size());
  for (const auto& oid : oids) entries.push_back({"100644", oid, oid});
  return objects.write_tree(std::move(entries));
}

Result<std::string> git_text(const Repository& repo, std::vector<std::string> args) {
  auto out = git_output(repo, std::move(args));
  if (!out) return out.error();
  return *out;
}

Result<std::vector<CapturedPath>> read_manifest(const Repository& repo, const Snapshot& s) {
  auto text = git_text(repo, {"cat-file", "blob", s.commit + ":manifest"});
  if (!text) {
    return make_error(ExitCode::step_failed,
                      "snapshot " + s.id + " is damaged: its manifest cannot be read");
  }
  return decode_manifest(*text);
}

Status run_git(const Repository& repo, std::vector<std::string> args) {
  auto out = git_output(repo, std::move(args));
  if (!out) return out.error();
  return {};
}

// The index now has the right entries but stale stat data; refreshing it makes files that
// match their entry clean again. Exit 1 only means some files differ, as they should.
Status refresh_index(const Repository& repo) {
  ChildCommand refresh = git_command(repo, {"update-index", "-q", "--refresh"});
  refresh.out = StreamMode::discard;
  refresh.err = StreamMode::discard;
  auto refreshed = run_child(refresh);
  if (!refreshed) return refreshed.error();
  return {};
}

// Snapshots of format 1 hold the work tree as a commit and the index as another.
Status restore_format_1(const Repository& repo, const Snapshot& s) {
  if (auto r = run_git(repo, {"reset", "--hard", "-q", s.head}); !r) return r;
  if (!s.dirty) return {};
  if (auto r = run_git(repo, {"read-tree", "--reset", "-u", s.commit + "^{tree}"}); !r) return r;
  if (auto r = run_git(repo, {"read-tree", s.index_commit + "^{tree}"}); !r) return r;
  return refresh_index(repo);
}

// A step that adds, changes or removes a .gitattributes file may rewrite any tracked file
// below it, since git compares and checks files out through their attributes: every one
// of them is held too.
void widen_for_attributes(std::vector<std::string>& paths, const IndexFile* index) {
  if (!index) return;
  std::vector<std::string> dirs;
  for (const auto& p : paths) {
    const auto slash = p.rfind('/');
    if ((slash == std::string::npos ? p : p.substr(slash + 1)) == ".gitattributes") {
      dirs.push_back(slash == std::string::npos ? "" : p.substr(0, slash + 1));
    }
  }
  if (dirs.empty()) return;
  for (const auto& e : index->entries) {
    if (e.gitlink()) continue;
    for (const auto& dir : dirs) {
      if (e.path.compare(0, dir.size(), dir) == 0) {
        paths.emplace_back(e.path);
        break;
      }
    }
  }
}

}  // namespace

Status release_assume_unchanged(const Repository& repo) {
  IndexRead read = read_index_file(repo.index_file());
  if (!read.index) return {};
  std::string flagged;
  for (const auto& e : read.index->entries) {
    if (e.assume_unchanged) (flagged += e.path) += '\0';
  }
  if (flagged.empty()) return {};
  auto cleared = git_output_of(repo, {"update-index", "--no-assume-unchanged", "-z", "--stdin"},
                               std::move(flagged));
  if (!cleared) {
    return make_error(ExitCode::step_failed,
                      "cannot clear the assume-unchanged flags: " + cleared.error().message);
  }
  return {};
}

std::string worktree_name(const Repository& repo) {
  if (repo.git_dir() == repo.common_dir()) return "";
  auto relative = repo.git_dir().lexically_relative(repo.common_dir());
  return relative.empty() ? repo.git_dir().string() : relative.string();
}

namespace {

// The index's entry at each path, for a partial snapshot's undo.
void hold_index_entries(std::vector<CapturedPath>& captured, std::vector<std::string> paths,
                        const IndexFile* index) {
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  for (const auto& path : paths) {
    CapturedPath entry{CapturedPath::Kind::index_entry, 0, "", path};
    if (index) {
      auto [at, end] = index->entries_at(path);
      if (at != end) {
        entry.mode = at->mode;
        entry.oid = to_hex(at->oid);
      }
    }
    captured.push_back(std::move(entry));
  }
}

// Writes the snapshot's objects (the manifest, files/, and for a dirty snapshot the index
// file and staged/) and its commit, then points its ref at the commit: a new ref, or one
// moved from `replaces` (its reflog entry saying `why`).
Status write_snapshot(const Repository& repo, const ObjectWriter& objects, Snapshot& s,
                      std::vector<CapturedPath> captured, const IndexFile* index,
                      const std::string& replaces, const char* why = "") {
  std::vector<TreeEntry> root;
  if (s.dirty && index) {
    auto raw = objects.write_blob(index->bytes);
    if (!raw) return raw.error();
    captured.push_back({CapturedPath::Kind::index,
                        static_cast<std::uint32_t>(index->st.st_mode & 07777), *raw, "index"});
    std::set<std::string> staged;
    for (const auto& e : index->entries) {
      if (!e.gitlink() && !e.intent_to_add) staged.insert(to_hex(e.oid));
    }
    auto staged_tree = blob_tree(objects, staged);
    if (!staged_tree) return staged_tree.error();
    root.push_back({"40000", "staged", *staged_tree});
  } else if (s.dirty) {
    captured.push_back({CapturedPath::Kind::no_index, 0, "", "index"});
  }
  std::set<std::string> held;
  for (const auto& c : captured) {
    if (!c.oid.empty() && c.kind != CapturedPath::Kind::index_entry) held.insert(c.oid);
  }
  auto files_tree = blob_tree(objects, held);
  if (!files_tree) return files_tree.error();
  root.push_back({"40000", "files", *files_tree});
  auto manifest = objects.write_blob(encode_manifest(captured));
  if (!manifest) return manifest.error();
  root.push_back({"100644", "manifest", *manifest});
  auto tree = objects.write_tree(std::move(root));
  if (!tree) return tree.error();
  auto commit = objects.write_commit(*tree, {s.head}, kSnapshotIdentity, s.created_us / 1000000,
                                     snapshot_message(s, captured.size()));
  if (!commit) return commit.error();
  if (auto ok = interrupted_check(); !ok) return ok.error();
  const std::int64_t time_s = s.created_us / 1000000;
  Status saved = replaces.empty()
                     ? repo.create_ref(s.ref(), *commit, kSnapshotIdentity, time_s,
                                       "perfguard: snapshot " + s.reason)
                     : repo.update_ref(s.ref(), *commit, replaces, kSnapshotIdentity, time_s,
                                       "perfguard: snapshot " + s.reason + " (" + why + ")");
  if (!saved) return saved.error();
  s.commit = *commit;
  s.held = std::move(captured);
  return {};
}

}  // namespace

Result<Snapshot> take_snapshot(const Repository& repo, const Head& head,
                               const SnapshotRequest& request, const SnapshotScope& scope) {
  if (head.unborn()) {
    return make_error(ExitCode::refused, "cannot take a snapshot: HEAD has no commit yet");
  }
  if (auto ok = refuse_index(scope.scan.index.problem, repo); !ok) return ok.error();
  auto objects = ObjectWriter::open(repo);
  if (!objects) return objects.error();
  if (auto ok = interrupted_check(); !ok) return ok.error();

  Snapshot s;
  s.created_us = request.retakes ? request.retakes->created_us : now_unix_us();
  s.id = request.retakes ? request.retakes->id : new_snapshot_id(s.created_us);
  s.head = head.oid;
  s.branch = head.ref;
  s.worktree = worktree_name(repo);
  s.tool = request.tool;
  s.reason = request.reason;
  const IndexFile* index = scope.scan.index.index ? &*scope.scan.index.index : nullptr;
  if (scope.before_scan) {
    s.format = 3;
  } else {
    s.dirty = !scope.proven_clean();
  }

  std::vector<std::string> paths = scope.paths;
  paths.insert(paths.end(), scope.scan.unproven.begin(), scope.scan.unproven.end());
  widen_for_attributes(paths, index);
  auto captured =
      capture_work_tree(repo, *objects, paths, index ? KnownBlobs(*index) : KnownBlobs{});
  if (!captured) return captured.error();
  auto git_files = capture_git_files(repo, *objects);
  if (!git_files) return git_files.error();
  captured->insert(captured->end(), git_files->begin(), git_files->end());
  s.untracked_in_the_way = untracked_in_the_way(*captured, index);
  if (scope.before_scan) hold_index_entries(*captured, paths, index);
  if (auto ok = interrupted_check(); !ok) return ok.error();
  const std::string replaces = request.retakes ? request.retakes->commit : "";
  if (auto ok = write_snapshot(repo, *objects, s, std::move(*captured), index, replaces, "again");
      !ok) {
    return ok.error();
  }
  return s;
}

Status complete_snapshot(const Repository& repo, Snapshot& s, const SnapshotScope& scope) {
  auto objects = ObjectWriter::open(repo);
  if (!objects) return objects.error();
  const IndexFile* index = scope.scan.index.index ? &*scope.scan.index.index : nullptr;
  using Kind = CapturedPath::Kind;
  std::set<std::string> held;
  for (const auto& c : s.held) {
    if (c.kind != Kind::git_file && c.kind != Kind::index && c.kind != Kind::no_index) {
      held.insert(c.path);
    }
  }
  std::vector<std::string> paths;
  for (const auto* from : {&scope.paths, &scope.scan.unproven}) {
    for (const auto& path : *from) {
      if (!held.count(path)) paths.push_back(path);
    }
  }
  widen_for_attributes(paths, index);
  auto more = capture_work_tree(repo, *objects, paths, index ? KnownBlobs(*index) : KnownBlobs{});
  if (!more) return more.error();
  std::vector<CapturedPath> captured = s.held;
  for (auto& c : *more) {
    if (!held.count(c.path)) captured.push_back(std::move(c));  // each path once
  }
  std::stable_sort(captured.begin(), captured.end(),
                   [](const CapturedPath& a, const CapturedPath& b) { return a.path < b.path; });
  if (auto ok = interrupted_check(); !ok) return ok.error();
  Snapshot whole = s;
  whole.format = 2;
  whole.dirty = !scope.proven_clean();
  if (auto ok =
          write_snapshot(repo, *objects, whole, std::move(captured), index, s.commit, "completed");
      !ok) {
    return ok;
  }
  s = std::move(whole);
  return {};
}

Result<std::vector<Snapshot>> list_snapshots(const Repository& repo) {
  auto out = git_output(repo, {"for-each-ref", "--format=%(objectname) %(refname)%00%(contents)%00",
                               kSnapshotRefPrefix});
  if (!out) return out.error();
  std::vector<Snapshot> snapshots;
  const std::string& text = *out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nul1 = text.find('\0', pos);
    if (nul1 == std::string::npos) break;
    size_t nul2 = text.find('\0', nul1 + 1);
    if (nul2 == std::string::npos) break;
    std::string head_line = text.substr(pos, nul1 - pos);
    while (!head_line.empty() && head_line.front() == '\n') head_line.erase(0, 1);
    std::string message = text.substr(nul1 + 1, nul2 - nul1 - 1);
    pos = nul2 + 1;
    auto space = head_line.find(' ');
    if (space == std::string::npos) continue;
    std::string commit = head_line.substr(0, space);
    std::string id = head_line.substr(space + 1 + std::string(kSnapshotRefPrefix).size());
    if (auto s = parse_snapshot(id, commit, message)) snapshots.push_back(*s);
  }
  std::sort(snapshots.begin(), snapshots.end(), [](const Snapshot& a, const Snapshot& b) {
    return a.created_us != b.created_us ? a.created_us > b.created_us : a.id > b.id;
  });
  return snapshots;
}

Result<Snapshot> find_snapshot(const Repository& repo, const std::string& id) {
  auto all = list_snapshots(repo);
  if (!all) return all.error();
  const std::string here = worktree_name(repo);
  std::string want =
      id.rfind(kSnapshotRefPrefix, 0) == 0 ? id.substr(std::string(kSnapshotRefPrefix).size()) : id;
  for (const auto& s : *all) {
    if (!want.empty() && s.id != want) continue;
    if (s.worktree == here) return s;
    if (!want.empty()) {
      return make_error(
          ExitCode::refused,
          "snapshot " + s.id + " belongs to the work tree " +
              (s.worktree.empty() ? std::string("of the main repository")
                                  : "at " + (repo.common_dir() / s.worktree).string()) +
              ": undo it from there");
    }
  }
  if (!want.empty()) {
    return make_error(ExitCode::usage,
                      "no snapshot " + id + ": see `perf-rollback --list-snapshots` for the ids");
  }
  return make_error(ExitCode::usage, "there is no snapshot of this work tree");
}

Result<std::vector<std::string>> restored_paths(const Repository& repo, const Snapshot& s) {
  std::vector<std::string> paths;
  if (s.format == 1) return paths;
  auto manifest = read_manifest(repo, s);
  if (!manifest) return manifest.error();
  for (const auto& c : *manifest) {
    using Kind = CapturedPath::Kind;
    if (c.kind == Kind::file || c.kind == Kind::symlink || c.kind == Kind::directory ||
        c.kind == Kind::absent) {
      paths.push_back(c.path);
    }
  }
  return paths;
}

Status restore_snapshot(const Repository& repo, const Snapshot& s) {
  auto head = repo.head();
  if (!head) return head.error();
  if (head->ref != s.branch) {
    std::string was =
        s.branch.empty() ? "a detached HEAD" : "branch " + Head{s.branch, ""}.branch();
    std::string now = head->detached() ? "HEAD is detached" : "HEAD is on " + head->branch();
    return make_error(ExitCode::refused, "snapshot " + s.id + " was taken on " + was + " but " +
                                             now + ": switch back first");
  }
  if (s.format == 1) return restore_format_1(repo, s);
  auto manifest = read_manifest(repo, s);
  if (!manifest) return manifest.error();
  if (s.partial()) {
    // Only the held paths can have changed: HEAD moves back without touching the index or
    // the work tree, then the held entries and files are put back.
    if (auto r = run_git(
            repo, {"update-ref", "-m", "perfguard: undo to snapshot " + s.id, "HEAD", s.head});
        !r) {
      return r;
    }
    if (auto r = restore_index_entries(repo, *manifest); !r) return r;
    if (auto r = restore_captured(repo, *manifest); !r) return r;
    return refresh_index(repo);
  }
  if (auto r = release_assume_unchanged(repo); !r) return r;
  if (auto r = run_git(repo, {"reset", "--hard", "-q", "--no-recurse-submodules", s.head}); !r) {
    return r;
  }
  if (auto r = restore_captured(repo, *manifest); !r) return r;
  const bool had_index =
      std::none_of(manifest->begin(), manifest->end(),
                   [](const CapturedPath& c) { return c.kind == CapturedPath::Kind::no_index; });
  return had_index ? refresh_index(repo) : Status{};
}

Status delete_snapshot(const Repository& repo, const Snapshot& s) {
  return run_git(repo, {"update-ref", "-d", s.ref(), s.commit});
}

}  // namespace perfguard
