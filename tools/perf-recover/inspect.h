#pragma once
// What verify, diagnose and optimize share in perf-recover-inspect.

#include <filesystem>
#include <optional>
#include <string>

#include "cli/common.h"
#include "store/store.h"

namespace perfguard::recover_tool {

// The work tree the command inspects. A bare repository has no work tree, no index and no
// snapshots of its own: a usage error naming it.
Result<std::filesystem::path> inspected_work_tree(const ToolSession& session,
                                                  const std::string& command);

// The store, when there is one: nothing when it does not exist (nothing was ever recorded
// here), an error (ExitCode::store) when it exists but cannot be read. Never created.
Result<std::optional<Store>> existing_store(const ToolSession& session);

}  // namespace perfguard::recover_tool
