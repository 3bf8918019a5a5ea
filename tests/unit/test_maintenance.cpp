#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "git/repository.h"
#include "recover/maintenance.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

Recommendation config(const std::string& key, const std::string& value) {
  Recommendation r;
  r.kind = "config";
  r.name = key;
  r.value = value;
  r.argv = {"git", "config", key, value};
  r.command = shell_line(r.argv);
  return r;
}

}  // namespace

TEST_CASE("settings are written to the repository's own config") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  auto applied = apply_recommendations(*repo, {config("core.untrackedCache", "true")});
  REQUIRE(applied.ok());
  REQUIRE(applied->size() == 1);
  CHECK((*applied)[0].ok);
  CHECK(git_says(dir, "config --local core.untrackedCache") == "true");
}

TEST_CASE("a failing command is reported and the next one still runs") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  Recommendation unset;
  unset.kind = "config";
  unset.argv = {"git", "config", "--unset", "pack.packSizeLimit"};  // not set: git fails
  unset.command = shell_line(unset.argv);
  auto applied = apply_recommendations(*repo, {unset, config("gc.auto", "6700")});
  REQUIRE(applied.ok());
  REQUIRE(applied->size() == 2);
  CHECK_FALSE((*applied)[0].ok);
  CHECK((*applied)[1].ok);
  CHECK(git_says(dir, "config --local gc.auto") == "6700");
}

TEST_CASE("anything but the repository's config and maintenance is refused before it runs") {
  TempDir tmp;
  auto dir = make_repo(tmp, 1);
  auto repo = Repository::discover(dir);
  REQUIRE(repo.ok());
  Recommendation global = config("core.untrackedCache", "true");
  global.argv = {"git", "config", "--global", "core.untrackedCache", "true"};
  Recommendation reset;
  reset.kind = "maintenance";
  reset.argv = {"git", "reset", "--hard"};
  for (const Recommendation& bad : {global, reset}) {
    auto applied = apply_recommendations(*repo, {config("gc.auto", "1"), bad});
    REQUIRE_FALSE(applied.ok());
    CHECK(applied.error().code == ExitCode::usage);
  }
  CHECK(sh(dir, "git config --local gc.auto || true").empty());
}

TEST_CASE("recommended settings are the config ones that set a value") {
  Recommendation task;
  task.kind = "maintenance";
  task.argv = {"git", "commit-graph", "write", "--reachable"};
  auto settings = recommended_settings({task, config("core.untrackedCache", "true")});
  REQUIRE(settings.size() == 1);
  CHECK(settings[0].first == "core.untrackedCache");
  CHECK(settings[0].second == "true");
}

TEST_CASE("crontab lines: daily gc, weekly repack, monthly fsck, the path quoted") {
  auto lines = crontab_lines("/srv/my repo");
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].starts_with("#"));
  CHECK(lines[1] == "17 3 * * * git -C '/srv/my repo' gc --auto --quiet");
  CHECK(lines[2] == "27 4 * * 0 git -C '/srv/my repo' repack -ad --quiet");
  CHECK(lines[3] == "37 5 1 * * git -C '/srv/my repo' fsck --full --no-progress");
}
