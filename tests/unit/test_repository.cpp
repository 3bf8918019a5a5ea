#include <doctest/doctest.h>

#include <cstdlib>

#include "git/repository.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {}  // namespace

TEST_CASE("discover finds the work tree and git dir from a subdirectory") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  std::filesystem::create_directories(dir / "a" / "b");
  auto repo = Repository::discover(dir / "a" / "b");
  REQUIRE(repo.ok());
  CHECK(repo->work_tree() == std::filesystem::canonical(dir));
  CHECK(repo->git_dir() == std::filesystem::canonical(dir / ".git"));
  CHECK(repo->common_dir() == repo->git_dir());
  CHECK_FALSE(repo->bare());
}

TEST_CASE("discover outside a repository is a usage error naming the directory") {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "plain");
  setenv("GIT_CEILING_DIRECTORIES", tmp.path().c_str(), 1);
  auto repo = Repository::discover(tmp / "plain");
  unsetenv("GIT_CEILING_DIRECTORIES");
  REQUIRE_FALSE(repo.ok());
  CHECK(repo.error().code == ExitCode::usage);
  CHECK(repo.error().message.find("not a git repository") != std::string::npos);
}

TEST_CASE("a linked worktree has its own git dir and shares the common dir") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  sh(dir, "git worktree add -q ../wt HEAD~1");
  auto repo = Repository::discover(tmp / "wt");
  REQUIRE(repo.ok());
  CHECK(repo->common_dir() == std::filesystem::canonical(dir / ".git"));
  CHECK(repo->git_dir() ==
        std::filesystem::path(git_says(tmp / "wt", "rev-parse --absolute-git-dir")));
  auto head = repo->head();
  REQUIRE(head.ok());
  CHECK(head->detached());
  CHECK(head->oid == git_says(dir, "rev-parse HEAD~1"));
}

TEST_CASE("GIT_DIR and GIT_WORK_TREE are honoured") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  std::filesystem::create_directories(tmp / "elsewhere");
  setenv("GIT_DIR", (dir / ".git").c_str(), 1);
  setenv("GIT_WORK_TREE", dir.c_str(), 1);
  auto repo = Repository::discover(tmp / "elsewhere");
  unsetenv("GIT_DIR");
  unsetenv("GIT_WORK_TREE");
  REQUIRE(repo.ok());
  CHECK(repo->work_tree() == std::filesystem::canonical(dir));
}

TEST_CASE("HEAD agrees with git: branch, loose and packed refs, detached, unborn") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  auto head = repo->head();
  REQUIRE(head.ok());
  CHECK(head->ref == "refs/heads/main");
  CHECK(head->branch() == "main");
  CHECK(head->oid == git_says(dir, "rev-parse HEAD"));

  sh(dir, "git pack-refs --all");
  CHECK_FALSE(std::filesystem::exists(dir / ".git/refs/heads/main"));
  CHECK(repo->head()->oid == git_says(dir, "rev-parse HEAD"));
  CHECK(repo->resolve_ref("refs/heads/main") == git_says(dir, "rev-parse main"));
  CHECK_FALSE(repo->resolve_ref("refs/heads/nope").has_value());

  sh(dir, "git checkout -q --detach HEAD~1");
  head = repo->head();
  CHECK(head->detached());
  CHECK(head->oid == git_says(dir, "rev-parse HEAD"));

  sh(dir, "git checkout -q --orphan fresh");
  head = repo->head();
  CHECK(head->unborn());
  CHECK(head->branch() == "fresh");
}

TEST_CASE("state reports the operation in progress") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  sh(dir,
     "git checkout -q -b other HEAD~1 && echo other > file.txt && git commit -qam other"
     " && git checkout -q main");
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  CHECK(repo->state() == RepoState::none);
  sh(dir, "git merge -q other >/dev/null 2>&1 || true");
  CHECK(repo->state() == RepoState::merge);
  sh(dir, "git merge --abort && git cherry-pick other >/dev/null 2>&1 || true");
  CHECK(repo->state() == RepoState::cherry_pick);
  sh(dir, "git cherry-pick --abort && (git revert --no-edit HEAD~1 >/dev/null 2>&1 || true)");
  CHECK(repo->state() == RepoState::revert);
  sh(dir,
     "git revert --abort && git checkout -q other && (git rebase main >/dev/null 2>&1 || true)");
  CHECK(repo->state() == RepoState::rebase);
  sh(dir, "git rebase --abort && git bisect start >/dev/null");
  CHECK(repo->state() == RepoState::bisect);
}

TEST_CASE("index.lock is seen") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  CHECK_FALSE(repo->index_locked());
  write_file(dir / ".git/index.lock", "");
  CHECK(repo->index_locked());
  CHECK(repo->index_lock() == std::filesystem::canonical(dir / ".git") / "index.lock");
}

TEST_CASE("create_ref writes a ref and its reflog entry as git update-ref does") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  const std::string head = git_says(dir, "rev-parse HEAD");
  const std::string who = "perfguard <perfguard@localhost>";
  REQUIRE(repo->create_ref("refs/perfguard/snapshots/x", head, who, 1700000000,
                           "  perfguard: snapshot\n before  rollback\t ")
              .ok());
  CHECK(git_says(dir, "rev-parse refs/perfguard/snapshots/x") == head);
  CHECK(git_says(dir, "for-each-ref --format='%(objectname) %(refname)' refs/perfguard/") ==
        head + " refs/perfguard/snapshots/x");
  CHECK_FALSE(std::filesystem::exists(dir / ".git/refs/perfguard/snapshots/x.lock"));
  // The entry git itself writes for the same update, byte for byte.
  sh(dir,
     "GIT_COMMITTER_NAME=perfguard GIT_COMMITTER_EMAIL=perfguard@localhost"
     " GIT_COMMITTER_DATE='1700000000 +0000' git update-ref --create-reflog"
     " -m '  perfguard: snapshot\n before  rollback\t ' refs/perfguard/snapshots/y " +
         head + " ''");
  CHECK(read_file(dir / ".git/logs/refs/perfguard/snapshots/x") ==
        read_file(dir / ".git/logs/refs/perfguard/snapshots/y"));
  CHECK(git_says(dir, "reflog show --format='%H %gs' refs/perfguard/snapshots/x") ==
        head + " perfguard: snapshot before rollback");
  CHECK(sh(dir, "git fsck --strict --no-dangling 2>&1").empty());
  auto again = repo->create_ref("refs/perfguard/snapshots/x", head, who, 1700000001, "again");
  CHECK_FALSE(again.ok());
  CHECK(git_says(dir, "reflog show --format=%gs refs/perfguard/snapshots/x") ==
        "perfguard: snapshot before rollback");
}
