#pragma once

namespace perfguard {

// Set in the environment of every child of a perfguard tool (to the outermost tool's name,
// by run_tool): perfguard's git hooks record nothing under a tool, which records its own
// step. Read once by perfguard-hooks before it sets it for its own children.
inline constexpr const char* kToolEnvironment = "PERFGUARD_TOOL";

}  // namespace perfguard
