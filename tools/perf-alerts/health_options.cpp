// The command line of perf-alerts health, which perf-alerts and perf-alerts-health share.
// Its work is in health.cpp, linked only into perf-alerts-health: it needs libgit2, whose
// loading alone would cost every other perf-alerts command (list, check) milliseconds.
#include "commands.h"

namespace perfguard::alerts_tool {

Health::Health()
    : Command("health",
              "Measure the repository (objects, packs, history, refs, index), record "
              "it, and raise health alerts") {}

void Health::add_options(CLI::App& command) {
  command.add_flag("--deep", deep,
                   "Also the largest blobs and trees, and every commit counted (slower)");
}

}  // namespace perfguard::alerts_tool
