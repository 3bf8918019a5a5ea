#include <doctest/doctest.h>

#include "recover/diagnosis.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

RepositoryFacts gather(const std::filesystem::path& dir) {
  auto facts = gather_facts(dir);
  REQUIRE_MESSAGE(facts.ok(), (facts.ok() ? "" : facts.error().message));
  return *facts;
}

}  // namespace

TEST_CASE("the facts of a repository agree with git") {
  TempDir tmp;
  auto dir = make_repo(tmp, 3);
  RepositoryFacts f = gather(dir);
  CHECK(f.health.find("commits")->value == 3);
  CHECK(f.index_version == 2);
  CHECK_FALSE(f.commit_graph);
  CHECK(git_says(dir, "version").find(f.git_version) != std::string::npos);
  REQUIRE(f.disk_free.has_value());
  CHECK(*f.disk_free > 0);
  CHECK(f.cpus >= 1);
  CHECK(f.settings.count("core.untrackedCache") == 0);
}

TEST_CASE("settings are read as git reads them, and a commit-graph is found") {
  TempDir tmp;
  auto dir = make_repo(tmp, 2);
  sh(dir,
     "git config core.untrackedCache keep && git config index.threads 4 && "
     "git commit-graph write --reachable && git update-index --index-version 4");
  RepositoryFacts f = gather(dir);
  CHECK(f.settings.at("core.untrackedCache") == "keep");
  CHECK(f.settings.at("index.threads") == "4");
  CHECK(f.commit_graph);
  CHECK(f.commit_graph_layers == 1);
  CHECK(f.index_version == 4);
}

TEST_CASE("an unborn HEAD has no index yet") {
  TempDir tmp;
  auto dir = make_repo(tmp, 0);
  RepositoryFacts f = gather(dir);
  CHECK_FALSE(f.index_version.has_value());
  CHECK(f.health.find("commits")->value == 0);
}
