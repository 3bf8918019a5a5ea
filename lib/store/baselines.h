#pragma once
// The store's baselines table: what a step normally takes, as perf-baseline computed it,
// kept for the other tools (perf-alerts compares new runs with the active baseline). At
// most one baseline is active per key; a new one replaces it and points back at it.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.h"
#include "core/result.h"
#include "stats/statistics.h"
#include "trace/span.h"

struct sqlite3;

namespace perfguard {

// Whose runs a baseline describes: every run of the step, or one repository's, or one
// branch's (of one repository).
enum class BaselineScope { all, repo, branch };
const char* to_string(BaselineScope scope);
std::optional<BaselineScope> parse_baseline_scope(std::string_view text);

struct BaselineKey {
  std::string step;
  BaselineScope scope = BaselineScope::all;
  std::string repo;    // scope repo and branch
  std::string branch;  // scope branch ("" for a detached HEAD)

  friend bool operator==(const BaselineKey&, const BaselineKey&) = default;
};

// A row of the baselines table. Durations are microseconds.
struct Baseline {
  std::int64_t id = 0;
  BaselineKey key;
  Summary summary;  // over the window's completed runs (ok and breach); its method is stored
  std::int64_t computed_us = 0;
  Duration window;
  double multiplier = 0;  // for perf-alerts: how far above the baseline counts as a regression
  double min_change = 0;  // the relative move this baseline needed to replace the one before
  std::string reason;     // "first", "moved" or "forced"
  std::optional<std::int64_t> replaces_id;
  bool active = true;
};

// The baselines table inside one write transaction (Store::update_baselines): what is
// active is read and replaced under the store's write lock, so two computations at once
// cannot both replace the same baseline.
class BaselineUpdate {
 public:
  BaselineUpdate(const BaselineUpdate&) = delete;
  BaselineUpdate& operator=(const BaselineUpdate&) = delete;

  // The active baseline of `key`, if any.
  Result<std::optional<Baseline>> active(const BaselineKey& key);
  // Stores `baseline` as the active one of its key, deactivating `baseline.replaces_id`
  // (at `baseline.computed_us`). Returns the new row's id.
  Result<std::int64_t> activate(const Baseline& baseline);

 private:
  friend class Store;
  BaselineUpdate(sqlite3* db, const std::filesystem::path& path) : db_(db), path_(path) {}
  sqlite3* db_;
  const std::filesystem::path& path_;
};

class Store;

// One run in a baseline's window, as compute reads them for the repo and branch scopes
// (the hourly rollups are per step, so those scopes read the runs). The ids say which
// step and context the texts are, so a reader can group without comparing them.
struct WindowRun {
  std::int64_t name_id = 0;
  std::int64_t context_id = 0;
  const std::string& step;
  const std::string& repo;
  const std::string& branch;
  std::int64_t duration_us = 0;
  StepStatus status = StepStatus::ok;
};

// Calls `visit` with every run of `step` (of every step when empty) started at or after
// `since_us`, one at a time from one read transaction: memory stays flat however many.
Status for_each_window_run(Store& store, const std::string& step, std::int64_t since_us,
                           const std::function<void(const WindowRun&)>& visit);

}  // namespace perfguard
