#include "recover/recommendations.h"

#include <algorithm>
#include <utility>

namespace perfguard {

namespace {

// Entries at which the index's size starts to tell in every status, add and commit: git's
// own advice for feature.manyFiles starts about here.
constexpr double kLargeIndex = 10'000;

std::string setting(const RepositoryFacts& facts, const std::string& key) {
  auto it = facts.settings.find(key);
  return it == facts.settings.end() ? std::string() : it->second;
}

bool is_set(const RepositoryFacts& facts, const std::string& key) {
  return facts.settings.count(key) != 0;
}

// A boolean setting as git reads it; nothing when it is unset (git's default applies) or not
// a boolean.
std::optional<bool> flag(const RepositoryFacts& facts, const std::string& key) {
  if (!is_set(facts, key)) return std::nullopt;
  return git_bool(setting(facts, key));
}

double figure(const RepositoryFacts& facts, const char* name) {
  const HealthFigure* f = facts.health.find(name);
  return f ? f->value : 0;
}

bool at_warning(const RepositoryFacts& facts, const char* name) {
  const HealthFigure* f = facts.health.find(name);
  return f && f->level == Concern::warning;
}

struct Builder {
  std::vector<Recommendation> out;

  void config(const std::string& key, const std::string& value, std::string reason) {
    add("config", key, value, {"git", "config", key, value}, std::move(reason));
  }
  void task(const std::string& name, std::vector<std::string> argv, std::string reason) {
    add("maintenance", name, "", std::move(argv), std::move(reason));
  }
  void add(const char* kind, const std::string& name, const std::string& value,
           std::vector<std::string> argv, std::string reason) {
    const std::string command = shell_line(argv);
    const bool dup = std::any_of(out.begin(), out.end(),
                                 [&](const Recommendation& r) { return r.command == command; });
    if (dup) return;
    Recommendation r;
    r.rank = static_cast<int>(out.size()) + 1;
    r.kind = kind;
    r.name = name;
    r.value = value;
    r.argv = std::move(argv);
    r.command = command;
    r.reason = std::move(reason);
    out.push_back(std::move(r));
  }
};

}  // namespace

std::string shell_line(const std::vector<std::string>& words) {
  std::string line;
  for (const std::string& w : words) {
    if (!line.empty()) line += ' ';
    const bool plain = !w.empty() && w.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789/._-+,:@%=") == std::string::npos;
    if (plain) {
      line += w;
      continue;
    }
    line += '\'';
    for (char c : w) line += c == '\'' ? std::string("'\\''") : std::string(1, c);
    line += '\'';
  }
  return line;
}

std::vector<Recommendation> recommend(const RepositoryFacts& facts) {
  Builder b;
  const bool bare = facts.health.bare;
  const double commits = figure(facts, "commits");
  const double entries = figure(facts, "index_entries");

  // History walks: every rollback resolves its target and every validate runs git log.
  if (flag(facts, "core.commitGraph") == false) {
    b.config("core.commitGraph", "true",
             "core.commitGraph is off, so git parses every commit it walks instead of reading "
             "the commit-graph");
  }
  const HealthFigure* history = facts.health.find("commits");
  const bool stale_graph =
      facts.commit_graph && history && history->fix.find("commit-graph") != std::string::npos;
  if ((!facts.commit_graph && commits > 0) || stale_graph) {
    b.task("commit-graph", {"git", "commit-graph", "write", "--reachable"},
           stale_graph ? "the commit-graph lacks the newest commits, so history walks parse "
                         "them one by one"
                       : "there is no commit-graph, so every history walk (log, merge-base, "
                         "rev-list, a rollback's target) parses each commit it passes");
  }

  // git status and git add -A: every step perfguard times starts with one of them.
  if (!bare && flag(facts, "core.untrackedCache") != true) {
    b.config("core.untrackedCache", "true",
             "git status and git add -A then skip the directories that did not change since "
             "the last look, instead of reading every one for untracked files");
  }
  if (!bare && facts.fsmonitor_daemon && entries >= kLargeIndex &&
      flag(facts, "core.fsmonitor") != true) {
    b.config("core.fsmonitor", "true",
             "the fsmonitor daemon tells git which files changed, so status stops looking at "
             "every file of a large work tree");
  }

  // Loose objects and packs: what git's automatic gc would have packed.
  if (auto n = setting(facts, "gc.auto"); is_set(facts, "gc.auto") && n == "0") {
    b.config("gc.auto", "6700",
             "gc.auto is 0, so git never packs loose objects by itself; 6700 is git's default");
  }
  if (at_warning(facts, "loose_objects") || at_warning(facts, "packs")) {
    b.task("gc", {"git", "maintenance", "run", "--task=gc"},
           "every object lookup searches the loose objects and each pack; gc packs them into "
           "one");
  }
  if (is_set(facts, "pack.packSizeLimit") && at_warning(facts, "packs")) {
    b.add("config", "pack.packSizeLimit", "", {"git", "config", "--unset", "pack.packSizeLimit"},
          "pack.packSizeLimit splits every repack into many packs, and every object lookup "
          "searches them one by one");
  }

  // The index: read whole by every command, written whole by every command that stages.
  if (!bare && entries >= kLargeIndex && facts.index_version != 4 &&
      setting(facts, "index.version") != "4") {
    b.config("index.version", "4",
             "index version 4 compresses the paths, so the index git reads and writes on every "
             "status, add and commit is smaller (it takes effect when the index is next "
             "written)");
  }
  if (!bare && flag(facts, "core.preloadIndex") == false) {
    b.config("core.preloadIndex", "true",
             "core.preloadIndex is off, so git checks the files of the index on one thread");
  }
  if (!bare && is_set(facts, "index.threads") && entries >= kLargeIndex &&
      (setting(facts, "index.threads") == "1" || flag(facts, "index.threads") == false)) {
    b.config("index.threads", "true",
             "index.threads keeps git reading a large index on one thread; true uses every "
             "core");
  }

  // Refs: every fetch and push, and every listing of refs, opens each loose one.
  if (at_warning(facts, "loose_refs")) {
    b.task("pack-refs", {"git", "pack-refs", "--all"},
           "each loose ref is a file to open whenever refs are listed; packed, they are one");
  }
  return b.out;
}

std::vector<std::string> platform_notes(const RepositoryFacts& facts) {
  std::vector<std::string> notes;
#ifndef _WIN32
  notes.push_back(
      "core.fscache exists on Windows only (Git for Windows): there is nothing to set here");
#endif
  if (!facts.fsmonitor_daemon) {
    notes.push_back("core.fsmonitor: this git" +
                    (facts.git_version.empty() ? std::string() : " (" + facts.git_version + ")") +
                    " has no built-in fsmonitor daemon on this platform (git has it on macOS "
                    "and Windows); a hook such as Watchman's can still be set by hand");
  }
  if (facts.disk_free && facts.disk_total && *facts.disk_total > 0 &&
      (*facts.disk_free < 1'000'000'000ULL || *facts.disk_free * 20 < *facts.disk_total)) {
    notes.push_back(
        "the file system of the git directory is nearly full: git gc and repack need room "
        "for a second copy of the packs while they work");
  }
  if (facts.load && facts.load->one > static_cast<double>(facts.cpus)) {
    notes.push_back("the machine is busy (load " + std::to_string(facts.load->one).substr(0, 4) +
                    " on " + std::to_string(facts.cpus) +
                    " cores): every step is slower until it settles, whatever the settings");
  }
  return notes;
}

}  // namespace perfguard
