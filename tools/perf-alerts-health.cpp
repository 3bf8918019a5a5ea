// perf-alerts-health: `perf-alerts health`, run by perf-alerts with its command line. A
// program of its own because it links libgit2 (see perf-alerts/external.cpp).
#include "cli/common.h"
#include "perf-alerts/commands.h"
#include "store/postgres/postgres_store.h"

using namespace perfguard;
using namespace perfguard::alerts_tool;

int main(int argc, char** argv) {
  const std::string tool = "perf-alerts";
  CLI::App app{"Measure the repository's health (perf-alerts health)."};
  CommonOptions common;
  add_common_options(app, common, /*recording=*/false);
  add_shared_store_options(app, common);
  enable_postgres_store();
  Health health;
  add_commands(app, {&health});
  return run_tool(tool, app, argc, argv, [&]() -> int {
    auto session = open_session(tool, common, /*repository_optional=*/true);
    if (!session) return report_error(tool, session.error());
    auto code = health.run(*session);
    return code ? to_int(*code) : report_error(tool, code.error());
  });
}
