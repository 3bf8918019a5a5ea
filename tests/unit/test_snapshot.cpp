#include <doctest/doctest.h>

#include <optional>

#include "git/repository.h"
#include "safety/snapshot.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

// Everything restore promises to bring back: HEAD, the index, the files and their status.
std::string state(const std::filesystem::path& dir) {
  return sh(dir,
            "git rev-parse HEAD && git symbolic-ref -q HEAD; git ls-files -s --debug | "
            "grep -v -E '^  (ctime|mtime|dev|uid|size)'; git status --porcelain -uall; "
            "find . -path ./.git -prune -o -type f -print | sort | xargs -d '\\n' sha256sum");
}

Repository open(const std::filesystem::path& dir) {
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  return *repo;
}

std::string line(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// A snapshot that holds the tracked files the scan cannot prove unchanged and `paths`.
Result<Snapshot> snapshot(const Repository& repo, const std::filesystem::path& dir,
                          const std::string& reason, std::vector<std::string> paths = {}) {
  SnapshotScope scope;
  scope.scan = scan_tracked_files(repo);
  scope.head_tree = line(sh(dir, "git rev-parse HEAD^{tree}"));
  scope.paths = std::move(paths);
  return take_snapshot(repo, *repo.head(), {"test", reason}, scope);
}

}  // namespace

TEST_CASE("a clean snapshot is a commit on HEAD that holds no index and passes fsck") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  Repository repo = open(dir);
  auto s = snapshot(repo, dir, "clean");
  REQUIRE(s.ok());
  CHECK_FALSE(s->dirty);
  CHECK(sh(dir, "git rev-parse " + s->commit + "^") == sh(dir, "git rev-parse HEAD"));
  CHECK(sh(dir, "git rev-parse " + s->ref()) == s->commit + "\n");
  CHECK(sh(dir, "git ls-tree --name-only " + s->commit) == "files\nmanifest\n");
  CHECK(sh(dir, "git fsck --strict --no-dangling 2>&1").empty());
}

TEST_CASE("a dirty snapshot leaves the user's index and files untouched") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  sh(dir, "echo staged > s && git add s && echo unstaged >> file.txt && echo new > 'u v.txt'");
  const auto index_before = read_file(dir / ".git/index");
  const auto before = state(dir);
  Repository repo = open(dir);
  auto s = snapshot(repo, dir, "dirty", {"u v.txt"});
  REQUIRE(s.ok());
  CHECK(s->dirty);
  CHECK(read_file(dir / ".git/index") == index_before);
  CHECK(state(dir) == before);
  const std::string manifest =
      sh(dir, "git cat-file blob " + s->commit + ":manifest | tr '\\0' '\\n'");
  CHECK(manifest.find("f 644 " + line(sh(dir, "git hash-object 'u v.txt'")) + " u v.txt") !=
        std::string::npos);
  CHECK(manifest.find(" file.txt\n") != std::string::npos);  // the unstaged change
  CHECK(manifest.find("\ni ") != std::string::npos);         // the index itself
  CHECK(sh(dir, "git fsck --strict --no-dangling 2>&1").empty());
}

TEST_CASE("restore brings back HEAD, index and work tree exactly") {
  TempDir tmp;
  auto dir = make_repo(tmp, 3);
  sh(dir,
     "echo staged > s && git add s && echo again >> s && echo unstaged >> file.txt"
     " && echo new > 'caf\xc3\xa9 file.txt' && printf '#!/bin/sh\\n' > x.sh && chmod +x x.sh"
     " && git add x.sh && rm file.txt");
  const auto before = state(dir);
  Repository repo = open(dir);
  auto s = snapshot(repo, dir, "round trip", {"caf\xc3\xa9 file.txt", "s", "x.sh", "file.txt"});
  REQUIRE(s.ok());
  sh(dir, "git reset -q --hard HEAD~2 && git clean -qfd");
  CHECK(state(dir) != before);
  REQUIRE(restore_snapshot(repo, *s).ok());
  CHECK(state(dir) == before);
}

TEST_CASE("list is newest first and find takes an id, a ref, or nothing for the newest") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  Repository repo = open(dir);
  auto a = snapshot(repo, dir, "first");
  auto b = snapshot(repo, dir, "second");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto all = list_snapshots(repo);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK(all->front().id == b->id);
  CHECK(all->front().reason == "second");
  CHECK(all->front().branch == "refs/heads/main");
  CHECK(find_snapshot(repo, "")->id == b->id);
  CHECK(find_snapshot(repo, a->id)->id == a->id);
  CHECK(find_snapshot(repo, a->ref())->id == a->id);
  CHECK(find_snapshot(repo, "nope").error().code == ExitCode::usage);
  REQUIRE(delete_snapshot(repo, *a).ok());
  CHECK(list_snapshots(repo)->size() == 1);
}

TEST_CASE("unresolved conflicts are held whole: stages, markers and MERGE_HEAD") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  sh(dir,
     "git checkout -q -b o HEAD~1 && echo o > file.txt && git commit -qam o && "
     "git checkout -q main && (git merge o >/dev/null 2>&1 || true)");
  const auto before = state(dir) + read_file(dir / ".git/MERGE_HEAD");
  Repository repo = open(dir);
  auto s = snapshot(repo, dir, "conflict");
  REQUIRE(s.ok());
  sh(dir, "git reset -q --hard HEAD");
  CHECK_FALSE(std::filesystem::exists(dir / ".git/MERGE_HEAD"));
  REQUIRE(restore_snapshot(repo, *s).ok());
  CHECK(state(dir) + read_file(dir / ".git/MERGE_HEAD") == before);
}

TEST_CASE("a FIFO in the step's way is refused, and no ref is written") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  sh(dir, "mkfifo pipe");
  Repository repo = open(dir);
  auto s = snapshot(repo, dir, "fifo", {"pipe"});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ExitCode::refused);
  CHECK(s.error().message.find("pipe is a FIFO") != std::string::npos);
  CHECK(sh(dir, "git for-each-ref refs/perfguard/").empty());
}

TEST_CASE("find takes only this work tree's snapshots") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  sh(dir, "git worktree add -q ../wt HEAD");
  Repository main_repo = open(dir);
  Repository linked = open(dir.parent_path() / "wt");
  auto m = snapshot(main_repo, dir, "main");
  REQUIRE(m.ok());
  CHECK(m->worktree.empty());
  CHECK(find_snapshot(linked, "").error().code == ExitCode::usage);
  CHECK(find_snapshot(linked, m->id).error().code == ExitCode::refused);
  auto w = snapshot(linked, dir.parent_path() / "wt", "linked");
  REQUIRE(w.ok());
  CHECK(w->worktree == "worktrees/wt");
  CHECK(find_snapshot(linked, "")->id == w->id);
  CHECK(find_snapshot(main_repo, "")->id == m->id);
}

TEST_CASE("restore refuses when HEAD is on another branch") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  Repository repo = open(dir);
  auto s = snapshot(repo, dir, "x");
  REQUIRE(s.ok());
  sh(dir, "git checkout -q -b other");
  auto r = restore_snapshot(repo, *s);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ExitCode::refused);
}

TEST_CASE("snapshots work without a user identity") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  sh(dir, "git config --unset user.name && git config --unset user.email && echo d >> file.txt");
  Repository repo = open(dir);
  auto s = snapshot(repo, dir, "no identity");
  CHECK(s.ok());
}

namespace {

// A repository whose last commit changes a.txt and adds c.txt, with b.txt edited and d.txt
// made executable since (local changes where the last commit changed nothing), its state,
// and the partial snapshot a rollback to HEAD~1 takes before the tree is scanned.
struct PartialSnapshot {
  TempDir tmp;
  std::filesystem::path dir = make_repo(tmp, 1);
  std::string before;
  std::optional<Repository> repo;
  SnapshotScope scope;
  Snapshot snapshot;

  PartialSnapshot() {
    sh(dir,
       "echo a > a.txt && echo b > b.txt && echo d > d.txt && git add -A && "
       "git commit -qm base && echo changed > a.txt && echo c > c.txt && git add -A && "
       "git commit -qm change && echo edited >> b.txt && chmod +x d.txt");
    before = state(dir);
    repo = open(dir);
    scope.scan.index = read_index_file(repo->index_file());
    scope.head_tree = line(sh(dir, "git rev-parse HEAD^{tree}"));
    scope.paths = {"a.txt", "c.txt"};
    scope.before_scan = true;
    auto taken = take_snapshot(*repo, *repo->head(), {"test", "partial"}, scope);
    REQUIRE(taken.ok());
    snapshot = *taken;
  }
};

}  // namespace

TEST_CASE_FIXTURE(PartialSnapshot,
                  "a partial snapshot holds the reset's paths with their index entries") {
  CHECK(snapshot.partial());
  CHECK(sh(dir, "git log -1 --format=%B " + snapshot.commit).find("Perfguard-Dirty: unknown") !=
        std::string::npos);
  const std::string manifest =
      sh(dir, "git cat-file blob " + snapshot.commit + ":manifest | tr '\\0' '\\n'");
  CHECK(manifest.find("e 100644 " + line(sh(dir, "git rev-parse :a.txt")) + " a.txt\n") !=
        std::string::npos);
  CHECK(manifest.find("f 644 " + line(sh(dir, "git rev-parse :c.txt")) + " c.txt\n") !=
        std::string::npos);
  CHECK(manifest.find(" b.txt") == std::string::npos);  // not scanned, not held
  auto found = find_snapshot(*repo, snapshot.id);
  REQUIRE(found.ok());
  CHECK(found->partial());
}

TEST_CASE_FIXTURE(PartialSnapshot,
                  "a partial snapshot's undo puts back HEAD and the held paths, and leaves the "
                  "rest") {
  sh(dir, "git reset -q --keep HEAD~1");
  CHECK(state(dir) != before);
  CHECK(read_file(dir / "b.txt") == "b\nedited\n");  // kept by the two-way reset
  REQUIRE(restore_snapshot(*repo, snapshot).ok());
  CHECK(state(dir) == before);
  CHECK(sh(dir, "stat -c %A d.txt") == "-rwxr-xr-x\n");
}

TEST_CASE_FIXTURE(PartialSnapshot,
                  "completing a partial snapshot holds what the scan found, under the same "
                  "name") {
  const std::string id = snapshot.id, partial_commit = snapshot.commit;
  scan_index_entries(*repo, scope.scan, scope.paths);
  CHECK(scope.scan.unproven == std::vector<std::string>{"b.txt", "d.txt"});
  REQUIRE(complete_snapshot(*repo, snapshot, scope).ok());
  CHECK_FALSE(snapshot.partial());
  CHECK(snapshot.dirty);
  CHECK(snapshot.id == id);
  CHECK(snapshot.commit != partial_commit);
  CHECK(sh(dir, "git rev-parse " + snapshot.ref()) == snapshot.commit + "\n");
  CHECK(sh(dir, "git reflog show --format=%H " + snapshot.ref()) ==
        snapshot.commit + "\n" + partial_commit + "\n");
  CHECK(sh(dir, "git fsck --strict --no-dangling 2>&1").empty());
  sh(dir, "git reset -q --hard HEAD~1");
  REQUIRE(restore_snapshot(*repo, *find_snapshot(*repo, id)).ok());
  CHECK(state(dir) == before);
}

TEST_CASE_FIXTURE(PartialSnapshot, "a snapshot's ref moves only from the commit it was at") {
  Snapshot stale = snapshot;
  stale.commit = line(sh(dir, "git rev-parse HEAD"));
  scan_index_entries(*repo, scope.scan, scope.paths);
  auto completed = complete_snapshot(*repo, stale, scope);
  REQUIRE_FALSE(completed.ok());
  CHECK(completed.error().message.find("it has moved") != std::string::npos);
  CHECK(sh(dir, "git rev-parse " + snapshot.ref()) == snapshot.commit + "\n");
  CHECK_FALSE(std::filesystem::exists(dir / ".git" / (snapshot.ref() + ".lock")));
}
