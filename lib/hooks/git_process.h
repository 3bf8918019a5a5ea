#pragma once
// The git process a hook runs under, found from /proc. A hook is a grandchild of git at
// least (git → sh → perfguard-hooks), further down under a wrapper such as the pre-commit
// framework (git → sh → python → perfguard-hooks): the nearest ancestor whose command name
// is `git` is the one that ran the hook.

#include <cstdint>
#include <optional>
#include <string>

#include "core/duration.h"

namespace perfguard {

struct GitProcess {
  int pid = 0;
  std::uint64_t start_ticks = 0;  // /proc/<pid>/stat starttime: clock ticks since boot
  std::string subcommand;         // "commit", "checkout", …; empty when none is named
};

// The nearest ancestor of this process whose command name is `git`, or nothing.
std::optional<GitProcess> find_git_process();

// Whether `git` is still the process it was (a pid is reused once its process has ended).
bool is_running(const GitProcess& git);

// How long the git process has run: from its start (10 ms resolution, 1/CLK_TCK) to now.
Duration git_process_age(const GitProcess& git);

// CLOCK_MONOTONIC in microseconds: one clock for every process on the machine, so that
// stamps taken by different hooks can be subtracted.
std::int64_t monotonic_now_us();

}  // namespace perfguard
