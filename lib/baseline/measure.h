#pragma once
// `perf-baseline measure`: a baseline without touching the user's work. The steps run,
// through the same code as perf-commit and perf-rollback, in a throwaway clone of the
// repository (`git clone --shared`, so no object is copied) made under
// <git common dir>/perfguard/, on the same file system as the real work tree so the timings
// mean the same. Each run commits a trivial change and rolls it back; the records carry the
// label synthetic=true. The clone is removed at the end, on error and on SIGINT/SIGTERM.
//
// What the clone does not have: the user's uncommitted changes (it starts from HEAD) and
// the repository's own hooks in .git/hooks (core.hooksPath from the user's config applies).

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/exit_code.h"
#include "core/result.h"
#include "git/repository.h"
#include "trace/record.h"

namespace perfguard {

inline constexpr const char* kMeasureSteps[] = {"commit", "rollback", "validate"};

// "commit,rollback" → {"commit", "rollback"}, in the order given, each once; a name that
// is not a measurable step is a usage error.
Result<std::vector<std::string>> parse_measure_steps(const std::vector<std::string>& names);

struct MeasureOptions {
  int runs = 10;
  std::vector<std::string> steps = {"commit", "rollback", "validate"};
  Thresholds thresholds;
  Timeouts timeouts;
  bool warn_only = false;
  std::string tool = "perf-baseline";
  // After each run, with its records (labelled synthetic=true): stores them and returns the
  // exit code they call for (ExitCode::store when they could not be stored).
  std::function<ExitCode(std::vector<StepRecord>&)> record;
  // After each run: runs done, runs in all.
  std::function<void(int, int)> progress;
};

struct MeasureResult {
  std::vector<StepRecord> records;  // every run's, as recorded
  int runs_done = 0;
  ExitCode code = ExitCode::ok;  // the most severe of the runs' (interrupted: 130)
  std::string git_error;         // git's message when a step failed
};

// The directory the throwaway clones are made in: <common dir>/perfguard.
std::filesystem::path measure_parent(const Repository& repo);

// Makes the clone, runs the steps `runs` times, removes the clone. Stops at the first run
// whose step failed or was killed, and at SIGINT/SIGTERM (code 130), returning what was
// recorded until then. Errors (nothing measured): the clone could not be made, or the
// repository has no commit to start from (ExitCode::refused).
Result<MeasureResult> run_measure(const Repository& repo, const MeasureOptions& options);

}  // namespace perfguard
