#include <doctest/doctest.h>

#include "git/object_writer.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

ObjectWriter writer_for(const std::filesystem::path& dir) {
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  auto writer = ObjectWriter::open(*repo);
  REQUIRE(writer.ok());
  return *writer;
}

std::string line(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

TEST_CASE("a blob is written as git writes it: same id, readable, binary-safe") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  const std::string bytes("a\0b\r\n\xff", 6);
  auto oid = writer_for(dir).write_blob(bytes);
  REQUIRE(oid.ok());
  sh(dir, "printf 'a\\000b\\r\\n\\377' > bin");
  CHECK(*oid == line(sh(dir, "git hash-object --no-filters bin")));
  CHECK(sh(dir, "git cat-file blob " + *oid + " | od -An -c") == sh(dir, "od -An -c bin"));
  CHECK(writer_for(dir).write_blob(bytes).value() == *oid);  // already there: same id
}

TEST_CASE("trees are sorted as git sorts them and commits pass fsck") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  ObjectWriter w = writer_for(dir);
  auto blob = w.write_blob("x\n");
  REQUIRE(blob.ok());
  auto sub = w.write_tree({{"100644", "f", *blob}});
  REQUIRE(sub.ok());
  // "a.b" sorts before the directory "a" (compared as "a/"), which sorts before "a0".
  auto tree =
      w.write_tree({{"100644", "a0", *blob}, {"40000", "a", *sub}, {"100644", "a.b", *blob}});
  REQUIRE(tree.ok());
  CHECK(sh(dir, "git ls-tree --name-only " + *tree) == "a.b\na\na0\n");
  const std::string head = line(sh(dir, "git rev-parse HEAD"));
  auto commit = w.write_commit(*tree, {head}, "perfguard <perfguard@localhost>", 1700000000, "m\n");
  REQUIRE(commit.ok());
  CHECK(sh(dir, "git rev-parse " + *commit + "^") == head + "\n");
  sh(dir, "git update-ref refs/test " + *commit);
  CHECK(sh(dir, "git fsck --strict --no-dangling 2>&1").empty());
}

TEST_CASE("a SHA-256 repository is refused, not written wrongly") {
  TempDir tmp;
  sh(tmp.path(), "git init -q --object-format=sha256 r256");
  auto repo = Repository::discover(tmp.path() / "r256");
  REQUIRE(repo.ok());
  auto writer = ObjectWriter::open(*repo);
  REQUIRE_FALSE(writer.ok());
  CHECK(writer.error().code == ExitCode::refused);
}
