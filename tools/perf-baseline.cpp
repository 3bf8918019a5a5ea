// perf-baseline: baselines, statistics, trends and the slowest runs, from the recorded steps;
// imports, exports, prunes and reports them, and syncs them with the team's shared store. One
// file per command in perf-baseline/.
#include "cli/common.h"
#include "perf-baseline/commands.h"
#include "store/postgres/postgres_store.h"

using namespace perfguard;
using namespace perfguard::baseline_tool;

int main(int argc, char** argv) {
  enable_postgres_store();
  const std::string tool = "perf-baseline";
  CLI::App app{"Baselines, statistics, trends and the slowest runs of the recorded steps."};
  CommonOptions common;
  add_common_options(app, common, /*recording=*/false);
  add_shared_store_options(app, common);

  // The commands, in the order --help lists them.
  Compute compute;
  Show show;
  Stats stats;
  Trend trend;
  Slowest slowest;
  Import import;
  Export export_;
  Prune prune;
  Report report;
  Measure measure;
  Sync sync;
  const std::vector<Command*> commands = {&compute, &show,  &stats,  &trend,   &slowest, &import,
                                          &export_, &prune, &report, &measure, &sync};
  add_commands(app, commands);

  return run_tool(tool, app, argc, argv, [&]() -> int {
    auto session = open_session(tool, common, /*repository_optional=*/true);
    if (!session) return report_error(tool, session.error());
    auto code = chosen_command(commands).run(*session);
    return code ? to_int(*code) : report_error(tool, code.error());
  });
}
