#pragma once
// The pause mark: set by `perf-recover --emergency`, lifted by `perf-recover resume`. While it
// is set, no rule is evaluated and nothing blocks (no threshold, no alert gate): the tools and
// hooks report "paused" instead. It is a small file beside the store's default place,
// `<git common dir>/perfguard/paused`, not a row in the store: an emergency must be able to
// set it when the store is missing, corrupt, locked or read-only.
//
// The file holds `key=value` lines: since (Unix microseconds), by, reason.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"

namespace perfguard {

struct PauseMark {
  std::int64_t since_us = 0;
  std::string by;
  std::string reason;
};

// The mark's file for the repository whose perfguard directory is `perfguard_dir`.
std::filesystem::path pause_mark_path(const std::filesystem::path& perfguard_dir);

// The mark, if set. A file that cannot be parsed still counts as set (since 0): a damaged
// mark must not turn blocking back on in the middle of an emergency.
std::optional<PauseMark> read_pause_mark(const std::filesystem::path& perfguard_dir);

// Sets the mark (replacing any), written atomically.
Status write_pause_mark(const std::filesystem::path& perfguard_dir, const PauseMark& mark);

// Lifts it; the mark as it was, if it was set.
Result<std::optional<PauseMark>> lift_pause_mark(const std::filesystem::path& perfguard_dir);

}  // namespace perfguard
