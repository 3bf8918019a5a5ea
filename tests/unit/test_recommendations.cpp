#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "recover/recommendations.h"

using namespace perfguard;

namespace {

HealthFigure figure(const std::string& name, double value, Concern level = Concern::ok) {
  HealthFigure f;
  f.name = name;
  f.value = value;
  f.level = level;
  return f;
}

// A work tree of `entries` index entries and `commits` commits, nothing set.
RepositoryFacts facts(double entries = 100, double commits = 10) {
  RepositoryFacts f;
  f.health.figures = {figure("loose_objects", 10), figure("packs", 1), figure("commits", commits),
                      figure("loose_refs", 3), figure("index_entries", entries)};
  f.index_version = 2;
  f.git_version = "2.39.5";
  return f;
}

std::vector<std::string> commands(const std::vector<Recommendation>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.command);
  return out;
}

bool has(const std::vector<Recommendation>& rs, const std::string& command) {
  auto c = commands(rs);
  return std::find(c.begin(), c.end(), command) != c.end();
}

}  // namespace

TEST_CASE("a repository with nothing set gets the commit-graph first, then the untracked cache") {
  auto rs = recommend(facts());
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].command == "git commit-graph write --reachable");
  CHECK(rs[0].rank == 1);
  CHECK(rs[0].kind == "maintenance");
  CHECK(rs[1].command == "git config core.untrackedCache true");
  CHECK(rs[1].rank == 2);
  CHECK(rs[1].argv == std::vector<std::string>{"git", "config", "core.untrackedCache", "true"});
}

TEST_CASE("what is set already is not recommended") {
  auto f = facts();
  f.commit_graph = true;
  f.settings["core.untrackedCache"] = "yes";
  CHECK(recommend(f).empty());
}

TEST_CASE("an unborn HEAD needs no commit-graph; a bare repository no index settings") {
  auto f = facts(0, 0);
  CHECK_FALSE(has(recommend(f), "git commit-graph write --reachable"));
  f = facts();
  f.health.bare = true;
  CHECK(commands(recommend(f)) == std::vector<std::string>{"git commit-graph write --reachable"});
}

TEST_CASE("a large index gets index version 4, never feature.manyFiles") {
  auto f = facts(60'000);
  auto rs = recommend(f);
  CHECK(has(rs, "git config index.version 4"));
  for (const auto& r : rs) {
    CHECK(r.name != "feature.manyFiles");
    CHECK(r.command.find("skipHash") == std::string::npos);
    CHECK(r.reason.find("skipHash") == std::string::npos);
  }
  f.index_version = 4;
  CHECK_FALSE(has(recommend(f), "git config index.version 4"));
}

TEST_CASE("settings that slow git down are turned back") {
  auto f = facts(20'000);
  f.settings = {{"core.commitGraph", "false"},
                {"core.preloadIndex", "off"},
                {"index.threads", "1"},
                {"gc.auto", "0"}};
  auto rs = recommend(f);
  CHECK(has(rs, "git config core.commitGraph true"));
  CHECK(has(rs, "git config core.preloadIndex true"));
  CHECK(has(rs, "git config index.threads true"));
  CHECK(has(rs, "git config gc.auto 6700"));
}

TEST_CASE("figures at warning bring their maintenance, once each") {
  auto f = facts();
  f.health.figures[0].level = Concern::warning;  // loose objects
  f.health.figures[1].level = Concern::warning;  // packs
  f.health.figures[3].level = Concern::warning;  // loose refs
  f.settings["pack.packSizeLimit"] = "1m";
  auto rs = recommend(f);
  const auto all = commands(rs);
  CHECK(std::count(all.begin(), all.end(), "git maintenance run --task=gc") == 1);
  CHECK(has(rs, "git config --unset pack.packSizeLimit"));
  CHECK(has(rs, "git pack-refs --all"));
}

TEST_CASE("fsmonitor only where git has the daemon, and fscache is noted as Windows only") {
  auto f = facts(50'000);
  CHECK_FALSE(has(recommend(f), "git config core.fsmonitor true"));
  auto notes = platform_notes(f);
  CHECK(std::any_of(notes.begin(), notes.end(), [](const std::string& n) {
    return n.find("core.fscache exists on Windows only") != std::string::npos;
  }));
  f.fsmonitor_daemon = true;
  CHECK(has(recommend(f), "git config core.fsmonitor true"));
}

TEST_CASE("an unset boolean is git's default, not false") {
  auto f = facts();
  f.commit_graph = true;
  f.settings["core.untrackedCache"] = "true";
  f.settings["core.fsmonitor"] = "";  // set, but empty: false
  CHECK(recommend(f).empty());
  f.settings["core.preloadIndex"] = "";
  CHECK(has(recommend(f), "git config core.preloadIndex true"));
}

TEST_CASE("git's booleans") {
  CHECK(git_bool("true") == true);
  CHECK(git_bool("Yes") == true);
  CHECK(git_bool("on") == true);
  CHECK(git_bool("2") == true);
  CHECK(git_bool("false") == false);
  CHECK(git_bool("") == false);
  CHECK(git_bool("0") == false);
  CHECK(git_bool("keep") == std::nullopt);
}

TEST_CASE("shell lines quote only what needs it") {
  CHECK(shell_line({"git", "config", "gc.auto", "6700"}) == "git config gc.auto 6700");
  CHECK(shell_line({"git", "-C", "/a b/it's"}) == "git -C '/a b/it'\\''s'");
}
