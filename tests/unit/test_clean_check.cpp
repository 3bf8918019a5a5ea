#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

#include "git/clean_check.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

std::string head_tree(const std::filesystem::path& dir) {
  std::string out = sh(dir, "git rev-parse HEAD^{tree}");
  out.pop_back();
  return out;
}

TrackedScan scan(const std::filesystem::path& dir) {
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  return scan_tracked_files(*repo);
}

// Proven: tracked files unchanged and nothing staged.
bool proven_clean(const std::filesystem::path& dir) {
  TrackedScan s = scan(dir);
  return s.unchanged && s.index_tree == head_tree(dir);
}

// A repository with nested directories, a symlink, an executable and (optionally) enough
// files to use both scanning threads, committed, whose index is written well after its
// files (so no entry is racily clean).
std::filesystem::path settled_repo(const TempDir& tmp, const std::string& index_version = "2",
                                   int extra_files = 0) {
  auto dir = make_repo(tmp, 1);
  sh(dir,
     "mkdir -p a/b && echo x > a/b/x && echo y > a/y && ln -s a/y link && "
     "printf '#!/bin/sh\\n' > run.sh && chmod +x run.sh && mkdir -p many && "
     "i=0; while [ $i -lt " +
         std::to_string(extra_files) +
         " ]; do echo $i > many/f$i; "
         "i=$((i+1)); done && git add -A && git commit -qm more");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  sh(dir, "git update-index --index-version " + index_version +
              " && git update-index --refresh >/dev/null");
  return dir;
}

}  // namespace

TEST_CASE("a committed, untouched tree is proven clean") {
  TempDir tmp;
  auto dir = settled_repo(tmp);
  REQUIRE(sh(dir, "git status --porcelain").empty());
  CHECK(proven_clean(dir));
}

TEST_CASE("a large tree is scanned on two threads and still proven clean") {
  TempDir tmp;
  auto dir = settled_repo(tmp, "2", 1500);
  CHECK(proven_clean(dir));
  sh(dir, "echo changed > many/f1400");  // in the second thread's half
  CHECK_FALSE(proven_clean(dir));
}

TEST_CASE("index version 4 (prefix-compressed names) is read too") {
  TempDir tmp;
  auto dir = settled_repo(tmp, "4", 50);
  CHECK(proven_clean(dir));
}

TEST_CASE("a change to a tracked file or to the index is never called clean") {
  const char* changes[] = {
      "echo changed > a/y",                       // same size, new content
      "echo staged > s && git add s",             // staged
      "rm a/b/x",                                 // deleted
      "chmod -x run.sh",                          // mode change
      "rm link && ln -s a/b/x link",              // symlink retargeted
      "echo z > a/y && touch -r .git/index a/y",  // racy: as new as the index, new content
  };
  for (const char* change : changes) {
    CAPTURE(change);
    TempDir t;
    auto dir = settled_repo(t);
    sh(dir, change);
    CHECK_FALSE(proven_clean(dir));
  }
}

TEST_CASE("a racy entry whose content is unchanged is proven by its content") {
  TempDir tmp;
  auto dir = settled_repo(tmp);
  sh(dir,
     "cp a/y a/y.tmp && mv a/y.tmp a/y && git update-index --refresh >/dev/null"
     " && touch -r .git/index a/y");
  CHECK(proven_clean(dir));
}

TEST_CASE("untracked files are not the scan's business") {
  TempDir tmp;
  auto dir = settled_repo(tmp);
  sh(dir, "echo new > a/untracked");
  CHECK(proven_clean(dir));
}

TEST_CASE("an index whose cache-tree is invalid names no tree") {
  TempDir tmp;
  auto dir = settled_repo(tmp);
  sh(dir, "echo z > a/z && git add a/z && git rm -q --cached a/z");
  TrackedScan s = scan(dir);
  CHECK(s.index_tree.empty());
}

TEST_CASE("the entries git would not look at are listed as unproven, with their flags read") {
  TempDir tmp;
  auto dir = settled_repo(tmp);
  sh(dir,
     "git update-index --assume-unchanged a/y && git update-index --skip-worktree a/b/x && "
     "echo planned > p && git add -N p");
  TrackedScan s = scan(dir);
  CHECK_FALSE(s.unchanged);
  CHECK(s.unproven == std::vector<std::string>{"a/b/x", "a/y", "p"});
  REQUIRE(s.index.index);
  for (const auto& e : s.index.index->entries) {
    CHECK(e.assume_unchanged == (e.path == "a/y"));
    CHECK(e.skip_worktree == (e.path == "a/b/x"));
    CHECK(e.intent_to_add == (e.path == "p"));
  }
}

TEST_CASE("only the changed entries are unproven; conflicts are listed once") {
  TempDir tmp;
  auto dir = settled_repo(tmp);
  sh(dir, "echo changed > a/y");
  CHECK(scan(dir).unproven == std::vector<std::string>{"a/y"});
  sh(dir,
     "git checkout -q a/y && git checkout -q -b o HEAD~1 && echo o > file.txt && "
     "git commit -qam o && git checkout -q main && echo m > file.txt && git commit -qam m && "
     "(git merge o >/dev/null 2>&1 || true)");
  REQUIRE(sh(dir, "git ls-files -u | wc -l") == "3\n");
  const auto unproven = scan(dir).unproven;
  CHECK(std::count(unproven.begin(), unproven.end(), "file.txt") == 1);
  CHECK(std::count(unproven.begin(), unproven.end(), "a/y") == 0);
}

TEST_CASE("a split index is named as the reason nothing is proven") {
  TempDir tmp;
  auto dir = settled_repo(tmp);
  sh(dir, "git update-index --split-index");
  TrackedScan s = scan(dir);
  CHECK_FALSE(s.unchanged);
  CHECK(s.index.problem == IndexProblem::split);
}
