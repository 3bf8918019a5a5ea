#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "health/commit_graph.h"
#include "health/health.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

std::uint64_t git_number(const std::filesystem::path& dir, const std::string& command) {
  return std::stoull(sh(dir, command));
}

// `git count-objects -v`, key by key.
std::map<std::string, std::uint64_t> count_objects_v(const std::filesystem::path& dir) {
  std::istringstream in(sh(dir, "git count-objects -v 2>/dev/null"));
  std::map<std::string, std::uint64_t> out;
  std::string key;
  std::uint64_t value = 0;
  while (in >> key >> value) out[key.substr(0, key.size() - 1)] = value;
  return out;
}

HealthReport measure(const std::filesystem::path& dir, const HealthOptions& options = {}) {
  auto report = measure_health(dir, options);
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().message));
  return std::move(report).value();
}

double value_of(const HealthReport& report, const std::string& name) {
  const HealthFigure* f = report.find(name);
  REQUIRE_MESSAGE(f != nullptr, "no figure " << name);
  return f->value;
}

// Every figure against what git itself says about the same repository.
void check_against_git(const std::filesystem::path& dir, const HealthReport& report) {
  const auto git = count_objects_v(dir);
  const auto kib = [&](const char* name) {
    return static_cast<std::uint64_t>(value_of(report, name)) / 1024;
  };
  CHECK(value_of(report, "loose_objects") == git.at("count"));
  CHECK(kib("loose_size") == git.at("size"));
  CHECK(value_of(report, "packed_objects") == git.at("in-pack"));
  CHECK(value_of(report, "packs") == git.at("packs"));
  CHECK(kib("pack_size") == git.at("size-pack"));
  CHECK(value_of(report, "garbage") == git.at("garbage"));
  CHECK(kib("garbage_size") == git.at("size-garbage"));
  CHECK(value_of(report, "repository_size") ==
        value_of(report, "loose_size") + value_of(report, "pack_size"));
  const std::string head_commits =
      sh(dir, "git rev-parse -q --verify HEAD >/dev/null && git rev-list --count HEAD || echo 0");
  CHECK(value_of(report, "commits") == std::stoull(head_commits));
  CHECK_FALSE(report.find("commits")->lower_bound);
  CHECK(value_of(report, "refs") == git_number(dir, "git for-each-ref | wc -l"));
  CHECK(value_of(report, "loose_refs") ==
        git_number(dir, "find \"$(git rev-parse --git-common-dir)/refs\" -type f | wc -l"));
  const std::string git_dir = git_says(dir, "rev-parse --absolute-git-dir");
  if (!report.bare) {
    CHECK(value_of(report, "index_entries") == git_number(dir, "git ls-files --stage | wc -l"));
    CHECK(value_of(report, "index_size") ==
          git_number(
              dir, "test -f '" + git_dir + "/index' && wc -c < '" + git_dir + "/index' || echo 0"));
  }
}

// A history with branches, a merge and an octopus merge (three parents).
void make_branchy_history(const std::filesystem::path& dir) {
  sh(dir,
     "for b in a b c; do git checkout -q -b $b main && echo $b > $b.txt && git add $b.txt"
     " && git commit -qm $b && echo ${b}2 >> $b.txt && git commit -qam ${b}2; done"
     " && git checkout -q main && echo m > m.txt && git add m.txt && git commit -qm m"
     " && git merge -q --no-edit a && git merge -q --no-edit b c");
}

}  // namespace

TEST_CASE(
    "the figures equal git count-objects -v, rev-list --count and for-each-ref, before and "
    "after gc") {
  TempDir tmp;
  auto dir = make_repo(tmp, 3);
  make_branchy_history(dir);
  sh(dir,
     "git tag -a -m v1 v1 && git tag light HEAD~1 && for i in 1 2 3 4 5; do echo $i | git "
     "hash-object -w --stdin >/dev/null; done && echo staged > s.txt && git add s.txt");
  auto loose = measure(dir);
  check_against_git(dir, loose);
  CHECK(value_of(loose, "loose_objects") > 0);
  CHECK(value_of(loose, "packs") == 0);
  CHECK(value_of(loose, "commits") == 12);

  // Two packs: a full one, then an incremental one over new loose objects.
  sh(dir,
     "git repack -q -d && echo more > more.txt && git add more.txt && git commit -qm more"
     " && git repack -q -d");
  auto two_packs = measure(dir);
  check_against_git(dir, two_packs);
  CHECK(value_of(two_packs, "packs") == 2);

  sh(dir, "git gc -q");
  auto packed = measure(dir);
  check_against_git(dir, packed);
  CHECK(value_of(packed, "packs") == 1);
  CHECK(value_of(packed, "loose_refs") == 0);
  CHECK(value_of(packed, "refs") == value_of(loose, "refs"));
}

TEST_CASE("the figures come in their fixed order, with units and levels") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  auto report = measure(dir);
  std::vector<std::string> names;
  for (const HealthFigure& f : report.figures) names.push_back(f.name);
  CHECK(names == std::vector<std::string>{"repository_size", "loose_objects", "loose_size",
                                          "packed_objects", "packs", "pack_size", "garbage",
                                          "garbage_size", "commits", "refs", "loose_refs",
                                          "index_entries", "index_size"});
  CHECK(report.find("loose_size")->unit == "bytes");
  CHECK(report.find("loose_objects")->unit == "count");
  CHECK(report.find("packed_objects")->level == Concern::info);
  CHECK(report.find("commits")->level == Concern::ok);
  CHECK(report.find("commits")->reference == "seed (1000)");
  CHECK(report.find("commits")->fix.empty());
  CHECK(report.worst() == Concern::ok);
  CHECK(report.work_tree == std::filesystem::canonical(dir));
  CHECK(report.git_dir == std::filesystem::canonical(dir / ".git"));
  CHECK_FALSE(report.bare);
}

TEST_CASE("loose objects at the repository's gc.auto are a warning whose fix is gc") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  auto quiet = measure(dir);
  const HealthFigure* loose = quiet.find("loose_objects");
  CHECK(loose->level == Concern::ok);
  CHECK(loose->limit == 6700);
  CHECK(loose->reference == "gc.auto (6700, git's default)");
  CHECK(loose->fix.empty());

  // hash-object does not run git's automatic gc, as a commit would.
  sh(dir,
     "git config gc.auto 8 && for i in $(seq 1 8); do echo $i | git hash-object -w --stdin"
     " >/dev/null; done");
  auto crowded = measure(dir);
  loose = crowded.find("loose_objects");
  CHECK(loose->value == count_objects_v(dir).at("count"));
  CHECK(loose->value >= 8);
  CHECK(loose->limit == 8);
  CHECK(loose->reference == "gc.auto (8)");
  CHECK(loose->level == Concern::warning);
  CHECK(loose->fix == "git maintenance run --task=gc");
  CHECK_FALSE(loose->advice.empty());
  CHECK(crowded.worst() == Concern::warning);

  sh(dir, "git config gc.auto 1000");
  CHECK(measure(dir).find("loose_objects")->level == Concern::ok);

  HealthOptions own;
  own.limits.loose_objects = 3;
  auto judged_by_own = measure(dir, own);
  loose = judged_by_own.find("loose_objects");
  CHECK(loose->level == Concern::warning);
  CHECK(loose->reference == "configured (3)");

  // gc.auto = 0 turns git's automatic gc off: git's default judges the pile instead.
  sh(dir, "git config gc.auto 0");
  auto gc_off = measure(dir);
  loose = gc_off.find("loose_objects");
  CHECK(loose->limit == 6700);
  CHECK(loose->reference.find("automatic gc is off") != std::string::npos);

  sh(dir, "git config gc.auto lots");
  auto bad = measure_health(dir, {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ExitCode::usage);
  CHECK(bad.error().message.find("gc.auto") != std::string::npos);
}

TEST_CASE("packs at gc.autoPackLimit are a warning whose fix is a repack") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  sh(dir, "git config gc.autoPackLimit 3 && git config gc.auto 0");
  for (int i = 0; i < 3; ++i) {
    sh(dir, "echo " + std::to_string(i) + " > p.txt && git add p.txt && git commit -qm p" +
                std::to_string(i) + " && git repack -q -d");
  }
  auto report = measure(dir);
  const HealthFigure* packs = report.find("packs");
  CHECK(packs->value == 3);
  CHECK(packs->value == count_objects_v(dir).at("packs"));
  CHECK(packs->reference == "gc.autoPackLimit (3)");
  CHECK(packs->level == Concern::warning);
  CHECK(packs->fix == "git repack -ad");
  sh(dir, "git repack -q -ad");
  CHECK(measure(dir).find("packs")->level == Concern::ok);
}

TEST_CASE("garbage in the object directory is counted as git counts it") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  sh(dir,
     "git gc -q && cd .git/objects && echo x > pack/tmp_pack_123 && echo k >"
     " pack/pack-0000000000000000000000000000000000000000.keep && echo p >"
     " pack/pack-1111111111111111111111111111111111111111.pack && mkdir -p ab && echo y >"
     " ab/not-an-object");
  auto report = measure(dir);
  check_against_git(dir, report);
  const HealthFigure* garbage = report.find("garbage");
  CHECK(garbage->value == 4);
  CHECK(garbage->level == Concern::warning);
  CHECK(garbage->fix == "git count-objects -v");
}

TEST_CASE("the commit count follows merges through a stale commit-graph and a split chain") {
  TempDir tmp;
  auto dir = make_repo(tmp, 4);
  make_branchy_history(dir);
  const auto rev_list = [&] { return git_number(dir, "git rev-list --count HEAD"); };
  auto no_graph = measure(dir);
  CHECK(value_of(no_graph, "commits") == rev_list());

  sh(dir, "git commit-graph write --reachable");
  CHECK(value_of(measure(dir), "commits") == rev_list());

  // Commits the graph does not hold: counted from their objects, then on through the graph.
  sh(dir,
     "git checkout -q -b late a && echo l > l.txt && git add l.txt && git commit -qm l"
     " && git checkout -q main && git merge -q --no-edit late && echo n > n.txt && git add"
     " n.txt && git commit -qm n");
  CHECK(value_of(measure(dir), "commits") == rev_list());

  sh(dir,
     "rm -f .git/objects/info/commit-graph && git commit-graph write --reachable --split"
     " && echo s > s.txt && git add s.txt && git commit -qm s && git commit-graph write"
     " --reachable --split=no-merge");
  auto graph = health::CommitGraph::open(dir / ".git/objects");
  REQUIRE(graph.has_value());
  CHECK(graph->layers() == 2);
  CHECK(value_of(measure(dir), "commits") == rev_list());

  // core.commitGraph=false: git walks the objects, and so does the count.
  sh(dir, "git config core.commitGraph false");
  CHECK(value_of(measure(dir), "commits") == rev_list());
}

TEST_CASE("the commit-graph reader finds commits and their parents, an octopus's too") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  make_branchy_history(dir);
  CHECK_FALSE(health::CommitGraph::open(dir / ".git/objects").has_value());
  sh(dir, "git commit-graph write --reachable");
  auto graph = health::CommitGraph::open(dir / ".git/objects");
  REQUIRE(graph.has_value());
  CHECK(graph->layers() == 1);
  CHECK(graph->size() == git_number(dir, "git rev-list --all --count"));

  const auto position_of = [&](const std::string& hex) {
    unsigned char oid[20];
    for (int i = 0; i < 20; ++i)
      oid[i] = static_cast<unsigned char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    return graph->find(oid);
  };
  // The octopus merge at HEAD: its three parents, in order.
  std::vector<std::uint32_t> parents;
  auto head = position_of(git_says(dir, "rev-parse HEAD"));
  REQUIRE(head.has_value());
  REQUIRE(graph->parents(*head, parents));
  std::vector<std::uint32_t> expected;
  std::istringstream ids(git_says(dir, "rev-parse HEAD^@"));
  for (std::string id; ids >> id;) {
    auto p = position_of(id);
    REQUIRE(p.has_value());
    expected.push_back(*p);
  }
  CHECK(expected.size() == 3);
  CHECK(parents == expected);

  auto root = position_of(git_says(dir, "rev-list --max-parents=0 HEAD"));
  REQUIRE(root.has_value());
  parents.clear();
  CHECK(graph->parents(*root, parents));
  CHECK(parents.empty());
  CHECK_FALSE(position_of(std::string(40, '0')).has_value());

  // A damaged file is not used: the count reads the objects instead.
  sh(dir,
     "chmod u+w .git/objects/info/commit-graph && printf XXXX | dd of=.git/objects/info/"
     "commit-graph bs=1 seek=0 conv=notrunc 2>/dev/null");
  CHECK_FALSE(health::CommitGraph::open(dir / ".git/objects").has_value());
  CHECK(value_of(measure(dir), "commits") ==
        git_number(dir, "git rev-list --count HEAD 2>/dev/null"));
}

TEST_CASE("without a commit-graph the count stops at its budget and says it is a lower bound") {
  TempDir tmp;
  auto dir = make_repo(tmp, 12);
  HealthOptions options;
  options.commit_budget = 3;
  options.limits.commits = 2;
  auto stopped = measure(dir, options);
  const HealthFigure* commits = stopped.find("commits");
  CHECK(commits->lower_bound);
  CHECK(commits->value >= 3);
  CHECK(commits->value < 12);
  CHECK(commits->level == Concern::warning);
  CHECK(commits->fix == "git commit-graph write --reachable");

  // The budget never stops the count short of the limit: the level is always exact.
  options.limits.commits = 20;
  auto within_limit = measure(dir, options);
  commits = within_limit.find("commits");
  CHECK_FALSE(commits->lower_bound);
  CHECK(commits->value == 12);
  CHECK(commits->level == Concern::ok);

  options.limits.commits = 2;
  options.deep = true;  // deep mode counts them all
  CHECK_FALSE(measure(dir, options).find("commits")->lower_bound);

  options.deep = false;
  sh(dir, "git commit-graph write --reachable");
  auto with_graph = measure(dir, options);
  commits = with_graph.find("commits");
  CHECK_FALSE(commits->lower_bound);
  CHECK(commits->value == 12);
  CHECK(commits->level == Concern::warning);
  CHECK(commits->fix.empty());
}

TEST_CASE("a shallow clone counts its history down to the boundary, as git does") {
  TempDir tmp;
  auto dir = make_repo(tmp, 6);
  sh(tmp.path(), "git clone -q --depth 3 file://" + dir.string() + " shallow");
  auto shallow = tmp / "shallow";
  CHECK(value_of(measure(shallow), "commits") == 3);
  CHECK(value_of(measure(shallow), "commits") == git_number(shallow, "git rev-list --count HEAD"));
}

TEST_CASE("deep mode finds the largest blob planted in the repository") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  sh(dir,
     "mkdir -p assets many && head -c 2000000 /dev/urandom > assets/big.bin"
     " && head -c 300000 /dev/urandom > small.bin"
     " && for i in $(seq 1 300); do echo $i > many/f$i; done && git add -A && git commit -qm big"
     " && head -c 3000000 /dev/urandom > gone.bin && git add gone.bin && git commit -qm gone"
     " && git rm -q gone.bin && git commit -qm 'no longer'");
  HealthOptions options;
  options.deep = true;
  options.largest = 3;
  options.limits.largest_blob = 1'000'000;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> heard;
  options.progress = [&](std::uint64_t done, std::uint64_t total) {
    heard.emplace_back(done, total);
  };
  auto report = measure(dir, options);
  REQUIRE(report.largest_blobs.size() == 3);
  CHECK(report.largest_blobs[0].oid == git_says(dir, "rev-parse HEAD~1:gone.bin"));
  CHECK(report.largest_blobs[0].size == 3000000);
  CHECK(report.largest_blobs[0].path.empty());  // only in history
  CHECK(report.largest_blobs[1].oid == git_says(dir, "rev-parse HEAD:assets/big.bin"));
  CHECK(report.largest_blobs[1].size == git_number(dir, "git cat-file -s HEAD:assets/big.bin"));
  CHECK(report.largest_blobs[1].path == "HEAD:assets/big.bin");
  CHECK(report.largest_blobs[2].path == "HEAD:small.bin");

  REQUIRE_FALSE(report.largest_trees.empty());
  CHECK(report.largest_trees[0].oid == git_says(dir, "rev-parse HEAD:many"));
  CHECK(report.largest_trees[0].entries == 300);
  CHECK(report.largest_trees[0].path == "HEAD:many");
  // Then the root tree that held gone.bin too, only in history, then HEAD's own root.
  REQUIRE(report.largest_trees.size() == 3);
  CHECK(report.largest_trees[1].oid == git_says(dir, "rev-parse HEAD~1^{tree}"));
  CHECK(report.largest_trees[1].entries == 5);
  CHECK(report.largest_trees[1].path.empty());
  CHECK(report.largest_trees[2].oid == git_says(dir, "rev-parse HEAD^{tree}"));
  CHECK(report.largest_trees[2].entries == 4);
  CHECK(report.largest_trees[2].path == "HEAD:");

  const HealthFigure* blob = report.find("largest_blob");
  REQUIRE(blob != nullptr);
  CHECK(blob->value == 3000000);
  CHECK(blob->unit == "bytes");
  CHECK(blob->level == Concern::warning);
  CHECK(value_of(report, "largest_tree_entries") == 300);
  CHECK(report.find("largest_tree_entries")->level == Concern::ok);

  // Two passes, each from 0 to its end: every object's header, then the trees.
  const std::uint64_t objects =
      git_number(dir, "git cat-file --batch-all-objects --batch-check | wc -l");
  const std::uint64_t trees = git_number(
      dir, "git cat-file --batch-all-objects --batch-check='%(objecttype)' | grep -c tree");
  CHECK(heard == std::vector<std::pair<std::uint64_t, std::uint64_t>>{
                     {0, objects}, {objects, objects}, {0, trees}, {trees, trees}});

  CHECK(measure(dir).find("largest_blob") == nullptr);  // not without deep mode
}

TEST_CASE("an empty repository has no commits and nothing else") {
  TempDir tmp;
  auto dir = make_repo(tmp, 0);
  HealthOptions options;
  options.deep = true;
  auto report = measure(dir, options);
  check_against_git(dir, report);
  CHECK(value_of(report, "commits") == 0);
  CHECK(value_of(report, "refs") == 0);
  CHECK(value_of(report, "index_entries") == 0);
  CHECK(value_of(report, "largest_blob") == 0);
  CHECK(report.largest_blobs.empty());
  CHECK(report.worst() == Concern::ok);
}

TEST_CASE("a bare repository is measured, without index figures") {
  TempDir tmp;
  auto dir = make_repo(tmp, 3);
  sh(tmp.path(), "git clone -q --bare " + dir.string() + " bare.git");
  auto bare = tmp / "bare.git";
  auto report = measure(bare);
  CHECK(report.bare);
  CHECK(report.work_tree.empty());
  check_against_git(bare, report);
  CHECK(value_of(report, "commits") == 3);
  CHECK(report.find("index_entries") == nullptr);
  CHECK(report.find("index_size") == nullptr);
}

TEST_CASE("a linked worktree is measured with its own index and the shared objects and refs") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  sh(dir, "git worktree add -q ../wt HEAD~1 && cd ../wt && echo w > w.txt && git add w.txt");
  auto wt = tmp / "wt";
  auto report = measure(wt);
  check_against_git(wt, report);
  CHECK(value_of(report, "commits") == 1);
  CHECK(value_of(report, "index_entries") == 2);
  CHECK(value_of(report, "packed_objects") == value_of(measure(dir), "packed_objects"));
}

TEST_CASE("outside a repository the error is a usage error naming the directory") {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "plain");
  setenv("GIT_CEILING_DIRECTORIES", tmp.path().c_str(), 1);
  auto report = measure_health(tmp / "plain", {});
  unsetenv("GIT_CEILING_DIRECTORIES");
  REQUIRE_FALSE(report.ok());
  CHECK(report.error().code == ExitCode::usage);
  CHECK(report.error().message.find((tmp / "plain").string()) != std::string::npos);
  CHECK(report.error().message.find("not a git repository") != std::string::npos);

  auto missing = measure_health(tmp / "absent", {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("no such directory") != std::string::npos);
}

TEST_CASE("a damaged pack index is an error naming it and the command that rebuilds it") {
  TempDir tmp;
  auto dir = make_repo(tmp, 3);
  sh(dir, "git gc -q");
  const std::string idx = sh(dir, "ls .git/objects/pack/*.idx | head -1 | tr -d '\\n'");
  // A fan-out entry that decreases: git count-objects refuses the pack too.
  sh(dir, "chmod u+w " + idx + " && printf '\\377\\377\\377\\377' | dd of=" + idx +
              " bs=1 seek=8 conv=notrunc 2>/dev/null");
  auto report = measure_health(dir, {});
  REQUIRE_FALSE(report.ok());
  CHECK(report.error().code == ExitCode::step_failed);
  const std::string& message = report.error().message;
  CHECK(message.find(std::filesystem::canonical(dir).string() + ": ") == 0);
  CHECK(message.find(std::filesystem::path(idx).filename().string()) != std::string::npos);
  CHECK(message.find("git index-pack") != std::string::npos);

  // Rebuilt as the message says, the repository measures again.
  const std::string pack = idx.substr(0, idx.size() - 4) + ".pack";
  sh(dir, "git index-pack " + pack + " >/dev/null 2>&1");
  check_against_git(dir, measure(dir));
}

TEST_CASE("a damaged index is an error naming it") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  write_file(dir / ".git/index", "not an index at all");
  auto report = measure_health(dir, {});
  REQUIRE_FALSE(report.ok());
  CHECK(report.error().message.find((dir / ".git/index").string()) != std::string::npos);
}

TEST_CASE("many loose refs are a warning whose fix packs them") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  sh(dir, "for i in $(seq 1 12); do git branch b$i; done");
  HealthOptions options;
  options.limits.loose_refs = 10;
  auto report = measure(dir, options);
  check_against_git(dir, report);
  const HealthFigure* loose = report.find("loose_refs");
  CHECK(loose->value == 13);
  CHECK(loose->level == Concern::warning);
  CHECK(loose->reference == "configured (10)");
  CHECK(loose->fix == "git pack-refs --all");
  sh(dir, "git pack-refs --all");
  report = measure(dir, options);
  check_against_git(dir, report);
  CHECK(report.find("loose_refs")->level == Concern::ok);
  CHECK(value_of(report, "refs") == 13);
}
