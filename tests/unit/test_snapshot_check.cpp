#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "git/repository.h"
#include "recover/snapshot_check.h"
#include "safety/snapshot.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

// A repository with a dirty file and a snapshot of it; `blob` is the dirty bytes' blob.
struct SnapshotRepo {
  TempDir tmp;
  std::filesystem::path dir = make_repo(tmp, 2);
  Snapshot snapshot;
  std::string blob;

  SnapshotRepo() {
    write_file(dir / "file.txt", "only in the snapshot\n");
    blob = git_says(dir, "hash-object file.txt");
    auto repo = Repository::discover(dir);
    REQUIRE(repo.ok());
    SnapshotScope scope;
    scope.scan = scan_tracked_files(*repo);
    scope.head_tree = git_says(dir, "rev-parse HEAD^{tree}");
    scope.paths = {"file.txt"};
    auto taken = take_snapshot(*repo, *repo->head(), {"test", "unit"}, scope);
    REQUIRE_MESSAGE(taken.ok(), (taken.ok() ? "" : taken.error().message));
    snapshot = *taken;
  }

  std::filesystem::path loose(const std::string& oid) const {
    return dir / ".git/objects" / oid.substr(0, 2) / oid.substr(2);
  }
  std::vector<StoredSnapshot> stored() const {
    return {StoredSnapshot{snapshot.id, snapshot.commit, true, 1}};
  }
};

SnapshotCheck check(const std::filesystem::path& dir,
                    const std::optional<std::vector<StoredSnapshot>>& stored) {
  auto result = check_snapshots(dir, stored);
  REQUIRE_MESSAGE(result.ok(), (result.ok() ? "" : result.error().message));
  return *result;
}

}  // namespace

TEST_CASE("a whole snapshot that the store records has no problem") {
  SnapshotRepo r;
  SnapshotCheck c = check(r.dir, r.stored());
  CHECK(c.snapshots == 1);
  CHECK(c.store);
  CHECK(c.stored == 1);
  CHECK(c.objects >= 4);  // the commit, its tree, files/, a blob, the manifest
  CHECK(c.problems.empty());
}

TEST_CASE("a missing blob is named with where the snapshot holds it") {
  SnapshotRepo r;
  std::filesystem::remove(r.loose(r.blob));
  SnapshotCheck c = check(r.dir, std::nullopt);
  REQUIRE(c.problems.size() == 1);
  CHECK(c.problems[0].kind == "missing_object");
  CHECK(c.problems[0].object == r.blob);
  CHECK(c.problems[0].path == "files/" + r.blob);
  CHECK(c.problems[0].snapshot == r.snapshot.id);
}

TEST_CASE("a damaged object is unreadable, not missing") {
  SnapshotRepo r;
  const auto file = r.loose(r.blob);
  std::filesystem::permissions(file, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  write_file(file, "garbage");
  SnapshotCheck c = check(r.dir, std::nullopt);
  REQUIRE(c.problems.size() == 1);
  CHECK(c.problems[0].kind == "unreadable_object");
}

TEST_CASE("a missing snapshot commit is named, and the walk goes no further") {
  SnapshotRepo r;
  std::filesystem::remove(r.loose(r.snapshot.commit));
  SnapshotCheck c = check(r.dir, std::nullopt);
  REQUIRE(c.problems.size() == 1);
  CHECK(c.problems[0].kind == "missing_object");
  CHECK(c.problems[0].path == "commit");
}

TEST_CASE("the store and the refs are held against each other") {
  SnapshotRepo r;
  SUBCASE("a record without a ref") {
    auto stored = r.stored();
    stored.push_back(StoredSnapshot{"20200101-000000-000000-aa", "", false, 1});
    SnapshotCheck c = check(r.dir, stored);
    REQUIRE(c.problems.size() == 1);
    CHECK(c.problems[0].kind == "no_ref");
    CHECK(c.problems[0].snapshot == "20200101-000000-000000-aa");
  }
  SUBCASE("a ref without a record") {
    SnapshotCheck c = check(r.dir, std::vector<StoredSnapshot>{});
    REQUIRE(c.problems.size() == 1);
    CHECK(c.problems[0].kind == "no_store_record");
  }
  SUBCASE("a row naming another commit") {
    auto stored = r.stored();
    stored[0].commit = git_says(r.dir, "rev-parse HEAD");
    SnapshotCheck c = check(r.dir, stored);
    REQUIRE(c.problems.size() == 1);
    CHECK(c.problems[0].kind == "commit_differs");
  }
  SUBCASE("without the store's records, nothing is compared") {
    SnapshotCheck c = check(r.dir, std::nullopt);
    CHECK_FALSE(c.store);
    CHECK(c.problems.empty());
  }
}

TEST_CASE("a repository without snapshots has nothing to check") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  SnapshotCheck c = check(dir, std::vector<StoredSnapshot>{});
  CHECK(c.snapshots == 0);
  CHECK(c.problems.empty());
}

TEST_CASE("outside a repository is a usage error") {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "plain");
  setenv("GIT_CEILING_DIRECTORIES", tmp.path().c_str(), 1);
  auto result = check_snapshots(tmp / "plain", std::nullopt);
  unsetenv("GIT_CEILING_DIRECTORIES");
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ExitCode::usage);
}
