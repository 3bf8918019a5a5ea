#include "safety/snapshot.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>
#include <sstream>

#include "core/clock.h"
#include "git/git.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

// Snapshot commits do not depend on the user's identity or signing set-up: they must be
// possible on a CI machine with no user.name, and never wait for a passphrase.
const std::map<std::string, std::string> kSnapshotIdentity = {
    {"GIT_AUTHOR_NAME", "perfguard"},
    {"GIT_AUTHOR_EMAIL", "perfguard@localhost"},
    {"GIT_COMMITTER_NAME", "perfguard"},
    {"GIT_COMMITTER_EMAIL", "perfguard@localhost"},
};

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

std::string snapshot_message(const Snapshot& s, const std::string& reason) {
  std::ostringstream m;
  m << "perfguard snapshot " << s.id << "\n\n"
    << reason << "\n\n"
    << "Perfguard-Snapshot: 1\n"
    << "Perfguard-Head: " << s.head << "\n"
    << "Perfguard-Branch: " << (s.branch.empty() ? "(detached)" : s.branch) << "\n"
    << "Perfguard-Dirty: " << (s.dirty ? "yes" : "no") << "\n";
  if (s.dirty) m << "Perfguard-Index: " << s.index_commit << "\n";
  m << "Perfguard-Created: " << s.created_us << "\n"
    << "Perfguard-Tool: " << s.tool << "\n";
  return m.str();
}

// Reads the metadata back from a snapshot commit's message.
std::optional<Snapshot> parse_snapshot(const std::string& id, const std::string& commit,
                                       const std::string& message) {
  Snapshot s;
  s.id = id;
  s.commit = commit;
  std::istringstream in(message);
  std::string line;
  int n = 0;
  bool marked = false;
  while (std::getline(in, line)) {
    ++n;
    if (n == 3) s.reason = line;
    auto colon = line.find(": ");
    if (colon == std::string::npos || line.rfind("Perfguard-", 0) != 0) continue;
    std::string key = line.substr(10, colon - 10), value = line.substr(colon + 2);
    if (key == "Snapshot") marked = true;
    if (key == "Head") s.head = value;
    if (key == "Branch") s.branch = value == "(detached)" ? "" : value;
    if (key == "Dirty") s.dirty = value == "yes";
    if (key == "Index") s.index_commit = value;
    if (key == "Created") s.created_us = std::stoll(value);
    if (key == "Tool") s.tool = value;
  }
  if (!marked || !is_hex_oid(s.head)) return std::nullopt;
  return s;
}

// Temporary index files in the git dir, removed however the snapshot ends. A kill leaves
// them behind harmlessly (the names say what they are).
class TempIndex {
 public:
  TempIndex(const Repository& repo, const std::string& id, const std::string& what)
      : path_(repo.git_dir() / ("perfguard-snapshot-" + id + "-" + what + ".index")) {
    std::error_code ec;
    if (fs::exists(repo.index_file(), ec)) {
      fs::copy_file(repo.index_file(), path_, fs::copy_options::overwrite_existing, ec);
    }
  }
  ~TempIndex() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  std::map<std::string, std::string> env() const { return {{"GIT_INDEX_FILE", path_.string()}}; }

 private:
  fs::path path_;
};

std::map<std::string, std::string> with_identity(std::map<std::string, std::string> env) {
  env.insert(kSnapshotIdentity.begin(), kSnapshotIdentity.end());
  return env;
}

ChildCommand quiet_git(const Repository& repo, std::vector<std::string> args,
                       const std::map<std::string, std::string>& env = {}) {
  ChildCommand cmd = git_command(repo, std::move(args));
  cmd.out = StreamMode::capture;
  cmd.err = StreamMode::capture;
  cmd.env_set = env;
  return cmd;
}

Result<std::string> wait_output(Result<RunningChild> child, const std::string& what) {
  if (!child) return child.error();
  ChildOutcome outcome = child->wait();
  if (!outcome.success()) {
    return make_error(ExitCode::step_failed,
                      "cannot take a snapshot: " + what + " failed: " + git_message(outcome.err));
  }
  return trim_right(outcome.out);
}

Result<std::string> commit_tree(const Repository& repo, const std::string& tree,
                                const std::vector<std::string>& parents,
                                const std::string& message) {
  std::vector<std::string> args = {"commit-tree", "--no-gpg-sign", "-m", message};
  for (const auto& p : parents) args.insert(args.end(), {"-p", p});
  args.push_back(tree);
  return wait_output(spawn(quiet_git(repo, args, kSnapshotIdentity)), "git commit-tree");
}

}  // namespace

PendingSnapshot::PendingSnapshot(const Repository& repo, Snapshot snapshot,
                                 Result<RunningChild> clean_commit)
    : repo_(&repo), snapshot_(std::move(snapshot)), clean_commit_(std::move(clean_commit)) {}

PendingSnapshot::PendingSnapshot(PendingSnapshot&&) noexcept = default;
PendingSnapshot::~PendingSnapshot() = default;

Result<PendingSnapshot> begin_snapshot(const Repository& repo, const Head& head,
                                       const SnapshotRequest& request) {
  if (head.unborn()) {
    return make_error(ExitCode::refused, "cannot take a snapshot: HEAD has no commit yet");
  }
  Snapshot s;
  s.created_us = now_unix_us();
  s.id = new_snapshot_id(s.created_us);
  s.head = head.oid;
  s.branch = head.ref;
  s.tool = request.tool;
  s.reason = request.reason;
  // The commit a clean tree needs (the usual case on the hot path), made while the caller
  // finds out whether the tree is clean; simply left unreferenced when it is not.
  auto clean_commit =
      spawn(quiet_git(repo,
                      {"commit-tree", "--no-gpg-sign", "-m", snapshot_message(s, request.reason),
                       "-p", s.head, s.head + "^{tree}"},
                      kSnapshotIdentity));
  return PendingSnapshot(repo, std::move(s), std::move(clean_commit));
}

Result<Snapshot> PendingSnapshot::finish(bool proven_clean) {
  const Repository& repo = *repo_;
  Snapshot s = snapshot_;
  bool clean = proven_clean;
  if (!clean) {
    ChildCommand status = quiet_git(repo, {"status", "--porcelain", "-z", "--untracked-files=all"},
                                    {{"GIT_OPTIONAL_LOCKS", "0"}});
    auto status_out = wait_output(spawn(status), "git status");
    if (!status_out) return status_out.error();
    clean = status_out->empty();
  }
  auto clean_oid = wait_output(std::move(clean_commit_), "git commit-tree");

  if (clean) {
    if (!clean_oid) return clean_oid.error();
    s.commit = *clean_oid;
    return s;
  }
  s.dirty = true;
  TempIndex index_copy(repo, s.id, "index");
  TempIndex worktree_copy(repo, s.id, "worktree");
  auto index_tree_child = spawn(quiet_git(repo, {"write-tree"}, with_identity(index_copy.env())));
  auto add = wait_output(spawn(quiet_git(repo, {"add", "-A"}, worktree_copy.env())), "git add -A");
  auto index_tree = wait_output(std::move(index_tree_child), "git write-tree");
  if (!index_tree) {
    return make_error(ExitCode::refused,
                      "cannot take a snapshot of an index with unresolved conflicts: resolve "
                      "them (git add) or abort the operation first");
  }
  if (!add) return add.error();
  auto worktree_tree =
      wait_output(spawn(quiet_git(repo, {"write-tree"}, worktree_copy.env())), "git write-tree");
  if (!worktree_tree) return worktree_tree.error();
  auto index_commit =
      commit_tree(repo, *index_tree, {s.head}, "perfguard snapshot " + s.id + ": index\n");
  if (!index_commit) return index_commit.error();
  s.index_commit = *index_commit;
  auto commit =
      commit_tree(repo, *worktree_tree, {s.head, s.index_commit}, snapshot_message(s, s.reason));
  if (!commit) return commit.error();
  s.commit = *commit;
  return s;
}

Result<Snapshot> prepare_snapshot(const Repository& repo, const Head& head,
                                  const SnapshotRequest& request) {
  auto pending = begin_snapshot(repo, head, request);
  if (!pending) return pending.error();
  return pending->finish(request.proven_clean);
}

Status save_snapshot(const Repository& repo, const Snapshot& snapshot) {
  return repo.create_ref(snapshot.ref(), snapshot.commit);
}

Result<Snapshot> take_snapshot(const Repository& repo, const Head& head,
                               const SnapshotRequest& request) {
  auto snapshot = prepare_snapshot(repo, head, request);
  if (!snapshot) return snapshot;
  if (auto saved = save_snapshot(repo, *snapshot); !saved) return saved.error();
  return snapshot;
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
  if (all->empty()) {
    return make_error(ExitCode::usage, "there is no snapshot in this repository");
  }
  if (id.empty()) return all->front();
  std::string want =
      id.rfind(kSnapshotRefPrefix, 0) == 0 ? id.substr(std::string(kSnapshotRefPrefix).size()) : id;
  for (const auto& s : *all) {
    if (s.id == want) return s;
  }
  return make_error(ExitCode::usage,
                    "no snapshot " + id + ": see `perf-rollback --list-snapshots` for the ids");
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
  auto run = [&](std::vector<std::string> args) -> Status {
    auto out = git_output(repo, std::move(args));
    if (!out) return out.error();
    return {};
  };
  if (auto r = run({"reset", "--hard", "-q", s.head}); !r) return r;
  if (!s.dirty) return {};
  if (auto r = run({"read-tree", "--reset", "-u", s.commit + "^{tree}"}); !r) return r;
  if (auto r = run({"read-tree", s.index_commit + "^{tree}"}); !r) return r;
  // The index now has the right entries but no stat data; refreshing it makes files that
  // match their entry clean again. Exit 1 only means some files differ, as they should.
  ChildCommand refresh = git_command(repo, {"update-index", "-q", "--refresh"});
  refresh.out = StreamMode::discard;
  refresh.err = StreamMode::discard;
  auto refreshed = run_child(refresh);
  if (!refreshed) return refreshed.error();
  return {};
}

Status delete_snapshot(const Repository& repo, const Snapshot& s) {
  auto out = git_output(repo, {"update-ref", "-d", s.ref(), s.commit});
  if (!out) return out.error();
  return {};
}

}  // namespace perfguard
