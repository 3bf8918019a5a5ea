#include <doctest/doctest.h>

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

CleanCheck check(const std::filesystem::path& dir) {
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  return check_clean(*repo, head_tree(dir));
}

// A repository with nested directories, a symlink and an executable, committed, whose
// index is written well after its files (so no entry is racily clean).
std::filesystem::path settled_repo(const TempDir& tmp, const std::string& index_version = "2") {
  auto dir = make_repo(tmp, 1);
  sh(dir,
     "mkdir -p a/b && echo x > a/b/x && echo y > a/y && ln -s a/y link && "
     "printf '#!/bin/sh\\n' > run.sh && chmod +x run.sh && git add -A && git commit -qm more");
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
  CHECK(check(dir) == CleanCheck::clean);
}

TEST_CASE("index version 4 (prefix-compressed names) is read too") {
  TempDir tmp;
  auto dir = settled_repo(tmp, "4");
  CHECK(check(dir) == CleanCheck::clean);
}

TEST_CASE("anything git status would show is never called clean") {
  TempDir tmp;
  const char* changes[] = {
      "echo changed > a/y",                                  // same size, new content
      "echo staged > s && git add s",                        // staged
      "echo new > a/b/untracked",                            // untracked in a known directory
      "mkdir n && echo n > n/f",                             // untracked directory
      "rm a/b/x",                                            // deleted
      "chmod -x run.sh",                                     // mode change
      "rm link && ln -s a/b/x link",                         // symlink retargeted
      "echo '*.log' > .git/info/exclude && echo l > x.log",  // ignored: git is asked
  };
  for (const char* change : changes) {
    CAPTURE(change);
    TempDir t;
    auto dir = settled_repo(t);
    sh(dir, change);
    CHECK(check(dir) == CleanCheck::unknown);
  }
}

TEST_CASE("a cache-tree that does not match HEAD's tree is not clean") {
  TempDir tmp;
  auto dir = settled_repo(tmp);
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  std::string parent_tree = sh(dir, "git rev-parse HEAD~1^{tree}");
  parent_tree.pop_back();
  CHECK(check_clean(*repo, parent_tree) == CleanCheck::unknown);
  CHECK(check_clean(*repo, "") == CleanCheck::unknown);
}

TEST_CASE("a file written after the index is racy and left to git") {
  TempDir tmp;
  auto dir = settled_repo(tmp);
  // Same content, rewritten: stat data differs, so it cannot be proven clean.
  sh(dir, "cp a/y a/y.tmp && mv a/y.tmp a/y");
  CHECK(check(dir) == CleanCheck::unknown);
}
