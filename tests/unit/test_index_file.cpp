#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "git/index_file.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

}  // namespace

TEST_CASE("an index whose entry count is past its size is unreadable, not a huge allocation") {
  // Found by tests/fuzz/fuzz_index_file: the count was trusted for reserve().
  TempDir tmp;
  std::string bytes = std::string("DIRC") + std::string("\0\0\0\2", 4) + "\xff\xff\xff\xff";
  bytes += std::string(20, '\0');  // the checksum
  write_bytes(tmp / "index", bytes);
  IndexRead read = read_index_file(tmp / "index");
  CHECK(read.problem == IndexProblem::unreadable);
  CHECK_FALSE(read.index.has_value());
}

TEST_CASE("an index without entries is read, and a missing one is missing") {
  TempDir tmp;
  write_bytes(tmp / "index", std::string("DIRC\0\0\0\2\0\0\0\0", 12) + std::string(20, '\0'));
  IndexRead read = read_index_file(tmp / "index");
  CHECK(read.problem == IndexProblem::none);
  REQUIRE(read.index.has_value());
  CHECK(read.index->entries.empty());
  CHECK(read_index_file(tmp / "absent").problem == IndexProblem::missing);
}

namespace {

// A repository whose names share prefixes (what version 4 compresses), committed.
std::filesystem::path nested_repo(const TempDir& tmp) {
  auto dir = make_repo(tmp, 1);
  sh(dir,
     "mkdir -p 'a/b c' a/bb d && echo 1 > 'a/b c/x' && echo 2 > 'a/b c/xy' && echo 3 > a/bb/z"
     " && echo 4 > a/top && echo 5 > d/e && git add -A && git commit -qm nested");
  return dir;
}

std::vector<std::string> paths_of(const IndexFile& index) {
  std::vector<std::string> paths;
  for (const IndexEntry& e : index.entries) paths.emplace_back(e.path);
  return paths;
}

}  // namespace

TEST_CASE("every index version gives the same entries, each path a C string") {
  TempDir tmp;
  auto dir = nested_repo(tmp);
  const std::vector<std::string> listed = {"a/b c/x", "a/b c/xy", "a/bb/z",
                                           "a/top",   "d/e",      "file.txt"};
  // Git writes version 3 only for an index with extended flags: a skip-worktree entry.
  struct Step {
    const char* before;
    int version;
    bool skip_worktree;  // d/e's flag, which only versions 3 and 4 can hold
  };
  const Step steps[] = {{"", 2, false},
                        {"", 4, false},
                        {"git update-index --skip-worktree d/e && ", 3, true},
                        {"", 4, true},
                        {"git update-index --no-skip-worktree d/e && ", 2, false}};
  for (const Step& step : steps) {
    CAPTURE(step.version);
    sh(dir, step.before + std::string("git update-index --index-version ") +
                std::to_string(step.version));
    IndexRead read = read_index_file(dir / ".git" / "index");
    REQUIRE(read.index.has_value());
    CHECK(static_cast<int>(read.index->bytes[7]) == step.version);  // as git wrote it
    REQUIRE(paths_of(*read.index) == listed);
    CHECK(read.index->entries[4].skip_worktree == step.skip_worktree);
    for (const IndexEntry& e : read.index->entries) {
      CHECK(e.path.data()[e.path.size()] == '\0');
      CHECK(read.index->entries_at(e.path).first->path == e.path);
    }
    CHECK(read.index->bytes == read_file(dir / ".git" / "index"));
  }
}

TEST_CASE("a copy of an index keeps its paths and bytes when the read it came from is gone") {
  TempDir tmp;
  auto dir = nested_repo(tmp);
  sh(dir, "git update-index --index-version 4");
  std::optional<IndexFile> copy;
  {
    IndexRead read = read_index_file(dir / ".git" / "index");
    REQUIRE(read.index.has_value());
    copy = *read.index;
  }
  CHECK(paths_of(*copy).back() == "file.txt");
  CHECK(copy->bytes == read_file(dir / ".git" / "index"));
}

TEST_CASE("the cache-tree gives the tree of each directory it holds, and none it invalidated") {
  TempDir tmp;
  auto dir = nested_repo(tmp);
  auto tree_of = [&](const std::string& dir_in_head) {
    ObjectId oid{};
    const std::string hex = git_says(dir, "rev-parse 'HEAD:" + dir_in_head + "'");
    for (size_t i = 0; i < oid.size(); ++i) {
      oid[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    }
    return oid;
  };
  IndexRead read = read_index_file(dir / ".git" / "index");
  REQUIRE(read.index.has_value());
  const CacheTree& trees = read.index->cache_tree;
  CHECK(trees.size() == 5);  // the top, a, a/b c, a/bb, d
  for (const char* d : {"", "a/", "a/b c/", "a/bb/", "d/"}) {
    CAPTURE(d);
    const ObjectId* found = trees.find(d);
    REQUIRE(found != nullptr);
    CHECK(*found == tree_of(d));
  }
  CHECK(trees.find("a") == nullptr);
  CHECK(trees.find("a/b/") == nullptr);

  // Staging a change invalidates its directory and every one above it, nothing else.
  sh(dir, "echo changed > 'a/b c/x' && git add 'a/b c/x'");
  read = read_index_file(dir / ".git" / "index");
  REQUIRE(read.index.has_value());
  for (const char* gone : {"", "a/", "a/b c/"}) CHECK(read.index->cache_tree.find(gone) == nullptr);
  for (const char* kept : {"a/bb/", "d/"})
    CHECK(*read.index->cache_tree.find(kept) == tree_of(kept));
  CHECK(read.index->cache_tree_root.empty());
}

TEST_CASE("a cache-tree written in another order than git's is still searched right") {
  auto entry = [](const std::string& name, const std::string& counts, char id) {
    return name + std::string(1, '\0') + counts + "\n" + std::string(20, id);
  };
  // The top (invalid: no id), then its two directories, "b" before "a".
  const std::string data =
      std::string("\0-1 2\n", 6) + entry("b", "1 0", 'b') + entry("a", "1 0", 'a');
  CacheTree trees = CacheTree::parse(data);
  REQUIRE(trees.size() == 2);
  CHECK(trees.find("") == nullptr);
  REQUIRE(trees.find("a/") != nullptr);
  CHECK((*trees.find("a/"))[0] == 'a');
  REQUIRE(trees.find("b/") != nullptr);
  CHECK((*trees.find("b/"))[0] == 'b');
  // The same directory twice is a malformed extension: nothing is trusted.
  CHECK(
      CacheTree::parse(std::string("\0-1 2\n", 6) + entry("a", "1 0", 'x') + entry("a", "1 0", 'y'))
          .empty());
}
