#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "git/object_reader.h"
#include "git/tree_diff.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

std::string line(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

Repository repo_at(const std::filesystem::path& dir) {
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  return *repo;
}

ObjectReader reader_for(const Repository& repo) {
  auto reader = ObjectReader::open(repo);
  REQUIRE(reader.has_value());
  return std::move(*reader);
}

std::optional<std::string> resolve(const std::filesystem::path& dir, const std::string& rev) {
  Repository repo = repo_at(dir);
  return resolve_commit(repo, repo.head().value(), rev, reader_for(repo));
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// What git says differs between the index and `rev`'s tree.
std::vector<std::string> git_diff_index(const std::filesystem::path& dir, const std::string& rev) {
  std::vector<std::string> paths;
  std::istringstream out(sh(dir, "git diff-index --cached --name-only --no-renames " + rev));
  for (std::string p; std::getline(out, p);) paths.push_back(p);
  return sorted(paths);
}

std::optional<std::vector<std::string>> our_diff_index(const std::filesystem::path& dir,
                                                       const std::string& rev) {
  Repository repo = repo_at(dir);
  ObjectReader objects = reader_for(repo);
  auto read = read_index_file(repo.index_file());
  REQUIRE(read.index.has_value());
  auto commit = resolve_commit(repo, repo.head().value(), rev, objects);
  REQUIRE(commit.has_value());
  auto tree = commit_tree(objects, *commit);
  REQUIRE(tree.has_value());
  auto paths = diff_index_to_tree(*read.index, *tree, objects);
  if (!paths) return std::nullopt;
  return sorted(*paths);
}

// A history with files, directories, a symlink, an executable, renames into and out of
// directories, file/directory swaps and a merge.
std::filesystem::path make_history(const TempDir& tmp) {
  auto dir = make_repo(tmp, 1);
  sh(dir,
     "mkdir -p a/b/c d && echo 1 > a/b/c/f && echo 2 > a/x && echo 3 > d/y && ln -s a/x link"
     " && echo 4 > run && chmod +x run && git add -A && git commit -qm two"
     " && git rm -q -r d && mkdir e && echo 5 > e/z && echo 6 > a/b/g && git add -A"
     " && git commit -qm three"
     " && git checkout -q -b side HEAD~1 && echo side > side.txt && git add -A"
     " && git commit -qm side && git checkout -q main && git merge -q --no-edit side"
     " && git rm -q a/x && mkdir a/x && echo 7 > a/x/inner && chmod -x run && git add -A"
     " && git commit -qm swap");
  return dir;
}

}  // namespace

TEST_CASE("revisions resolve in-process to the commits git names") {
  TempDir tmp;
  auto dir = make_history(tmp);
  for (const std::string rev :
       {"HEAD", "HEAD~1", "HEAD^", "HEAD~2", "HEAD^^", "HEAD~~", "@", "@~1", "HEAD^1", "HEAD~1^2",
        "HEAD^^2", "HEAD~1^2~1", "HEAD~1^1", "HEAD^0", "HEAD~0", "HEAD~4"}) {
    CAPTURE(rev);
    auto ours = resolve(dir, rev);
    REQUIRE(ours.has_value());
    CHECK(*ours == line(sh(dir, "git rev-parse '" + rev + "^{commit}'")));
  }
  const std::string full = line(sh(dir, "git rev-parse HEAD~2"));
  CHECK(resolve(dir, full) == full);
  CHECK(resolve(dir, full + "~1") == line(sh(dir, "git rev-parse HEAD~3")));
}

TEST_CASE("revisions git may read otherwise are left to git") {
  TempDir tmp;
  auto dir = make_history(tmp);
  sh(dir, "git tag v1 HEAD~1 && git tag -a -m t v2 HEAD~1");
  for (const std::string rev : {"main", "v1", "v2", "HEAD~9", "HEAD^3", "@{1}", "HEAD^{tree}",
                                "HEADS", ":/two", "HEAD~1:a", "1234567"}) {
    CAPTURE(rev);
    CHECK_FALSE(resolve(dir, rev).has_value());
  }
  // A full id of a tree or an annotated tag is not a commit.
  CHECK_FALSE(resolve(dir, line(sh(dir, "git rev-parse HEAD^{tree}"))).has_value());
  CHECK_FALSE(resolve(dir, line(sh(dir, "git rev-parse v2"))).has_value());

  SUBCASE("a replaced commit") {
    sh(dir, "git replace HEAD~1 HEAD~2");
    CHECK_FALSE(resolve(dir, "HEAD~1").has_value());
  }
  SUBCASE("packed replace refs") {
    sh(dir, "git replace HEAD~1 HEAD~2 && git pack-refs --all");
    CHECK_FALSE(resolve(dir, "HEAD~1").has_value());
  }
  SUBCASE("a shallow boundary") {
    sh(dir, "git clone -q --depth 1 file://$PWD ../shallow");
    CHECK_FALSE(resolve(tmp / "shallow", "HEAD~1").has_value());
    CHECK(resolve(tmp / "shallow", "HEAD").has_value());
  }
}

TEST_CASE("objects are read from packs, deltas included, as from loose files") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  // Many versions of one large file: gc stores most of them as deltas.
  sh(dir,
     "for i in $(seq 1 30); do seq 1 $((2000 + i)) > big && mkdir -p d$i && echo $i > d$i/f"
     " && git add -A && git commit -qm v$i; done");
  std::vector<std::string> oids;
  std::istringstream all(sh(dir, "git rev-list --objects --all | cut -d' ' -f1"));
  for (std::string oid; std::getline(all, oid);) oids.push_back(oid);
  REQUIRE(oids.size() > 90);
  auto check_all = [&] {
    Repository repo = repo_at(dir);
    ObjectReader reader = reader_for(repo);
    for (const auto& oid : oids) {
      CAPTURE(oid);
      auto object = reader.read(oid);
      REQUIRE(object.has_value());
      CHECK(object->type == line(sh(dir, "git cat-file -t " + oid)));
      CHECK(ObjectWriter::object_id(object->type, object->content) == oid);
    }
  };
  check_all();  // loose
  sh(dir,
     "git gc -q --aggressive && test -z \"$(find .git/objects -type f -path "
     "'*/[0-9a-f][0-9a-f]/*')\"");
  REQUIRE(sh(dir, "git verify-pack -v .git/objects/pack/*.idx | grep -c 'chain length'").size() >
          0);
  check_all();  // packed, with OFS_DELTA
  sh(dir, "git -c repack.useDeltaBaseOffset=false repack -q -a -d -f");
  check_all();  // packed, with REF_DELTA
  Repository repo = repo_at(dir);
  CHECK_FALSE(reader_for(repo).read(std::string(40, '0')).has_value());
}

TEST_CASE("the index is compared with a tree as git diff-index --cached does") {
  TempDir tmp;
  auto dir = make_history(tmp);
  for (const std::string rev : {"HEAD", "HEAD~1", "HEAD~2", "HEAD~3", "HEAD~1^2"}) {
    CAPTURE(rev);
    CHECK(our_diff_index(dir, rev) == git_diff_index(dir, rev));
  }
  SUBCASE("with staged changes, the cache-tree partly invalid") {
    sh(dir,
       "echo changed > a/b/c/f && rm -r e && echo new > e && chmod +x a/b/g && git add -A"
       " && git rm -q --cached side.txt");
    for (const std::string rev : {"HEAD", "HEAD~1", "HEAD~2", "HEAD~3"}) {
      CAPTURE(rev);
      CHECK(our_diff_index(dir, rev) == git_diff_index(dir, rev));
    }
  }
  SUBCASE("with no cache-tree at all") {
    // update-index --index-info writes no cache-tree.
    sh(dir,
       "git ls-files -s > ../entries && rm .git/index"
       " && git update-index --index-info < ../entries && (git update-index -q --refresh || true)");
    Repository repo = repo_at(dir);
    REQUIRE(read_index_file(repo.index_file()).index->cache_tree.empty());
    sh(dir, "echo again > a/b/c/f && git add a/b/c/f");
    for (const std::string rev : {"HEAD", "HEAD~1", "HEAD~3"}) {
      CAPTURE(rev);
      CHECK(our_diff_index(dir, rev) == git_diff_index(dir, rev));
    }
  }
  SUBCASE("unmerged and intent-to-add entries are left to git") {
    sh(dir, "echo n > new && git add -N new");
    CHECK_FALSE(our_diff_index(dir, "HEAD~1").has_value());
  }
}

TEST_CASE("random trees compare as git compares them") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  std::mt19937 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* names[] = {"a", "b", "a.b", "a0", "c"};
  // put PATH TEXT: writes a file at PATH, replacing whatever file or directory is in the way.
  const std::string put =
      "put() { d=$(dirname \"$1\"); while [ \"$d\" != . ]; do [ -d \"$d\" ] || rm -f \"$d\";"
      " d=$(dirname \"$d\"); done; rm -rf \"$1\"; mkdir -p \"$(dirname \"$1\")\";"
      " echo \"$2\" > \"$1\"; }";
  for (int commit = 0; commit < 8; ++commit) {
    std::string script = put;
    for (int change = 0; change < 6; ++change) {
      std::string path = names[pick(5)];
      for (int depth = pick(3); depth > 0; --depth) path += std::string("/") + names[pick(5)];
      script += "; put '" + path + "' " + std::to_string(rng());
    }
    sh(dir,
       script + " && git add -A && git commit -qm r" + std::to_string(commit) + " --allow-empty");
  }
  sh(dir, "git gc -q");
  for (int back = 0; back <= 8; ++back) {
    const std::string rev = "HEAD~" + std::to_string(back);
    CAPTURE(rev);
    CHECK(our_diff_index(dir, rev) == git_diff_index(dir, rev));
  }
}
