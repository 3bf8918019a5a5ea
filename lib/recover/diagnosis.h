#pragma once
// `perf-recover diagnose`: why git is slow in this repository. The repository's figures are
// those of `perf-alerts health` (lib/health); to them it adds what decides the speed of git
// status, add and commit (the index, the commit-graph, the settings) and of the machine
// (free disk, load). Read only: nothing here writes to the repository.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "core/result.h"
#include "health/health.h"

namespace perfguard {

struct LoadAverage {
  double one = 0, five = 0, fifteen = 0;  // /proc/loadavg
};

struct RepositoryFacts {
  HealthReport health;  // the figures `perf-alerts health` measures (not deep)
  // Each of health's kSpeedSettings that is set, as git reads it (system, global, local).
  std::map<std::string, std::string> settings;
  std::optional<int> index_version;  // none when bare or there is no index yet
  bool commit_graph = false;         // objects/info/commit-graph or a split chain is usable
  std::size_t commit_graph_layers = 0;
  std::string git_version;                  // "2.39.5"
  bool fsmonitor_daemon = false;            // this git has the built-in fsmonitor (`git version
                                            // --build-options` says "feature: fsmonitor--daemon")
  std::optional<std::uint64_t> disk_free;   // bytes free to us where the git dir is
  std::optional<std::uint64_t> disk_total;  // bytes of that file system
  std::optional<LoadAverage> load;
  unsigned cpus = 1;
};

// Gathers the facts of the repository at or above `repo_dir`. Errors as measure_health's.
Result<RepositoryFacts> gather_facts(const std::filesystem::path& repo_dir);

// git's reading of a boolean setting: true/yes/on/1 (or any non-zero number) and
// false/no/off/0/"" ; nothing when the text is neither.
std::optional<bool> git_bool(const std::string& text);

}  // namespace perfguard
