#include <doctest/doctest.h>

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

}  // namespace

TEST_CASE("a clean snapshot points at a commit whose tree is HEAD's and whose parent is HEAD") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  Repository repo = open(dir);
  auto s = take_snapshot(repo, *repo.head(), {"test", "clean"});
  REQUIRE(s.ok());
  CHECK_FALSE(s->dirty);
  CHECK(sh(dir, "git rev-parse " + s->commit + "^{tree}") == sh(dir, "git rev-parse HEAD^{tree}"));
  CHECK(sh(dir, "git rev-parse " + s->commit + "^") == sh(dir, "git rev-parse HEAD"));
  CHECK(sh(dir, "git rev-parse " + s->ref()) == s->commit + "\n");
}

TEST_CASE("a dirty snapshot leaves the user's index and files untouched") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  sh(dir, "echo staged > s && git add s && echo unstaged >> file.txt && echo new > 'u v.txt'");
  const auto index_before = read_file(dir / ".git/index");
  const auto before = state(dir);
  Repository repo = open(dir);
  auto s = take_snapshot(repo, *repo.head(), {"test", "dirty"});
  REQUIRE(s.ok());
  CHECK(s->dirty);
  CHECK(read_file(dir / ".git/index") == index_before);
  CHECK(state(dir) == before);
  CHECK(sh(dir, "git show " + s->commit + ":'u v.txt'") == "new\n");
  CHECK(sh(dir, "git show " + s->index_commit + ":s") == "staged\n");
  CHECK(sh(dir, "git cat-file -e " + s->index_commit + ":'u v.txt' 2>/dev/null || echo absent") ==
        "absent\n");
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
  auto s = take_snapshot(repo, *repo.head(), {"test", "round trip"});
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
  auto a = take_snapshot(repo, *repo.head(), {"test", "first"});
  auto b = take_snapshot(repo, *repo.head(), {"test", "second"});
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

TEST_CASE("unresolved conflicts are refused, not half captured") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  sh(dir,
     "git checkout -q -b o HEAD~1 && echo o > file.txt && git commit -qam o && "
     "git checkout -q main && (git merge o >/dev/null 2>&1 || true)");
  Repository repo = open(dir);
  auto s = take_snapshot(repo, *repo.head(), {"test", "conflict"});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ExitCode::refused);
  CHECK(sh(dir, "git for-each-ref refs/perfguard/").empty());
}

TEST_CASE("restore refuses when HEAD is on another branch") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  Repository repo = open(dir);
  auto s = take_snapshot(repo, *repo.head(), {"test", "x"});
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
  auto s = take_snapshot(repo, *repo.head(), {"test", "no identity"});
  CHECK(s.ok());
}
