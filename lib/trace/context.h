#pragma once

#include <map>
#include <string>

#include "trace/record.h"

namespace perfguard {

// The CI system this process runs under, from the variables each one sets.
struct CiJob {
  std::string provider;  // github, gitlab, jenkins, buildkite, ci (plain CI=true); empty outside
  std::string job;
};

CiJob detect_ci(const std::map<std::string, std::string>& env);
CiJob detect_ci();  // from this process's environment

// Host, user, CI job and tool version of this process; the caller fills in repo, branch
// and git version.
RunContext process_context(const std::string& tool);

}  // namespace perfguard
