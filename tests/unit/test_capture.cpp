#include <doctest/doctest.h>

#include "safety/capture.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

using Kind = CapturedPath::Kind;

// Every path below the top (nested .git included), its type, mode and bytes.
std::string files_state(const std::filesystem::path& dir) {
  return sh(dir,
            "find . -path ./.git -prune -o -mindepth 1 -printf '%y %m %p %l\\n' | LC_ALL=C sort; "
            "find . -path ./.git -prune -o -type f -print | LC_ALL=C sort | xargs -r -d '\\n' "
            "sha256sum");
}

}  // namespace

TEST_CASE("the manifest round-trips every kind, mode and odd name") {
  const std::vector<CapturedPath> captured = {
      {Kind::file, 0600, std::string(40, 'a'), "dir/name with space\nand newline"},
      {Kind::symlink, 0777, std::string(40, 'b'), "link"},
      {Kind::directory, 0700, "", "dir"},
      {Kind::absent, 0, "", "gone"},
      {Kind::git_file, 0644, std::string(40, 'c'), "MERGE_HEAD"},
      {Kind::index, 0600, std::string(40, 'd'), "index"},
      {Kind::index_entry, 0100755, std::string(40, 'e'), "dir/x.sh"},
      {Kind::index_entry, 0160000, std::string(40, 'f'), "module"},
      {Kind::index_entry, 0, "", "gone"},
  };
  auto decoded = decode_manifest(encode_manifest(captured));
  REQUIRE(decoded.ok());
  REQUIRE(decoded->size() == captured.size());
  for (size_t i = 0; i < captured.size(); ++i) {
    CHECK((*decoded)[i].kind == captured[i].kind);
    CHECK((*decoded)[i].mode == captured[i].mode);
    CHECK((*decoded)[i].oid == captured[i].oid);
    CHECK((*decoded)[i].path == captured[i].path);
  }
}

TEST_CASE("a manifest that names a path outside the work tree is refused as damaged") {
  const std::string oid(40, 'a');
  for (const std::string path : {"../x", "/etc/passwd", ".git/config", "a/../../x", "a//b", "a/"}) {
    auto decoded = decode_manifest(encode_manifest({{Kind::file, 0644, oid, path}}));
    CHECK_FALSE(decoded.ok());
  }
  auto git_file = decode_manifest(encode_manifest({{Kind::git_file, 0644, oid, "config"}}));
  CHECK_FALSE(git_file.ok());
  CHECK_FALSE(decode_manifest("not a manifest").ok());
}

TEST_CASE("a manifest record not in the encoder's own form is refused as damaged") {
  // Each of these once decoded to a list that encodes to other bytes (found by
  // tests/fuzz/fuzz_manifest): a mode strtoul half-read, or an empty oid field.
  const std::string oid(40, 'a');
  const std::string header = std::string("perfguard-manifest 1") + '\0';
  for (const std::string& record :
       {"i 64.4 " + oid + " index", "f 0644 " + oid + " a", "f -1 " + oid + " a",
        "f 17777 " + oid + " a", "f  " + oid + " a", "f 8 " + oid + " a", std::string("a 0  gone"),
        "d 755 " + oid + " dir", std::string("f 644 - a"), "e 644 " + oid + " a",
        "e 0 " + oid + " a", std::string("e 100644 - a"), "e 0100644 " + oid + " a",
        "e 100644 " + oid + " .git/config"}) {
    CAPTURE(record);
    CHECK_FALSE(decode_manifest(header + record + '\0').ok());
  }
  const std::string good = header + "f 7777 " + oid + " a" + '\0' + "a 0 - b" + '\0';
  auto decoded = decode_manifest(good);
  REQUIRE(decoded.ok());
  CHECK((*decoded)[0].mode == 07777);
  CHECK((*decoded)[1].oid.empty());
  CHECK(encode_manifest(*decoded) == good);
}

TEST_CASE("captured paths come back exactly over whatever stands there") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  sh(dir,
     "mkdir -m 700 keys && printf 'k' > keys/id_rsa && chmod 600 keys/id_rsa && "
     "ln -s keys/id_rsa link && git init -q nested && echo wip > nested/w && "
     "printf 'crlf\\r\\n' > raw.txt");
  const auto before = files_state(dir);
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  auto objects = ObjectWriter::open(*repo);
  REQUIRE(objects.ok());
  auto captured =
      capture_work_tree(*repo, *objects, {"keys", "link", "nested", "raw.txt", "absent"}, {});
  REQUIRE(captured.ok());
  sh(dir, "rm -rf keys nested link && echo other > raw.txt && mkdir absent && touch absent/x");
  REQUIRE(restore_captured(*repo, *captured).ok());
  CHECK(files_state(dir) == before);
}

TEST_CASE("a non-directory on the way to a path is captured with it") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  sh(dir, "echo blocker > a");
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  auto objects = ObjectWriter::open(*repo);
  REQUIRE(objects.ok());
  auto captured = capture_work_tree(*repo, *objects, {"a/b/c"}, {});
  REQUIRE(captured.ok());
  REQUIRE(captured->size() == 1);  // nothing can be below a file
  CHECK((*captured)[0].path == "a");
  CHECK((*captured)[0].kind == Kind::file);
}
