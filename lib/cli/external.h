#pragma once
// Subcommands that run a program of their own (`perf-alerts health` runs perf-alerts-health,
// `perf-recover verify` runs perf-recover-inspect), as git runs its dashed programs: only
// those programs load libgit2 or libcurl, whose loading alone would cost every other command
// of the tool milliseconds. The command line goes over as it was given, from the directory it
// was given in.

#include <filesystem>
#include <optional>
#include <string>

#include "core/exit_code.h"
#include "core/result.h"

namespace perfguard {

// Keeps the tool's command line and the directory it started in (before -C moves it).
void pass_command_line(char** argv);

// Where the program `name` is: beside the running tool (a build tree), in
// <prefix>/libexec/perfguard (an install), else on PATH.
std::optional<std::filesystem::path> locate_program(const std::string& name);

// Replaces this process with `name`, found by locate_program, with the command line
// pass_command_line kept. Returns only on failure.
Result<ExitCode> run_program(const std::string& name);

}  // namespace perfguard
