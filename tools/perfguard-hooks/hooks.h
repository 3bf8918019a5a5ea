#pragma once
// perfguard-hooks' subcommands, one file each: install.cpp (install, uninstall, status) and
// run.cpp (what the installed hook files call).

#include <string>
#include <vector>

#include "cli/common.h"

namespace perfguard::hooks_tool {

extern const std::string kTool;

struct InstallOptions {
  CommonOptions common;
  bool global = false;
};

int install(const InstallOptions& options);
int uninstall(const InstallOptions& options);
// 0 when every hook is perfguard's (installed or chained), 1 otherwise.
int status(const InstallOptions& options);

// Runs perfguard's part of the hook `hook`. 0 whatever happens to the timing or the store
// (one warning line at most); 1 only from pre-push, while a critical alert is open; 2 for an
// unknown hook name. `inside_tool`: a perfguard tool runs this git (perf-commit records its
// own step), so nothing is recorded.
int run(const CommonOptions& common, const std::string& hook, const std::vector<std::string>& args,
        bool inside_tool);

}  // namespace perfguard::hooks_tool
