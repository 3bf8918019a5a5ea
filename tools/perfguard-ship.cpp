// perfguard-ship: ships the local store's new records to the team's shared store ([store]
// shared) and takes the team's active baselines back. Every tool that records starts it in the
// background once its own work is done (lib/cli/common.h, ship_later), with no terminal: a
// failure is kept in the local store, and the next tool run in the foreground says it once.
// It reads the connection string from the configuration and the environment itself, so that a
// password is never on a command line. At most one runs per store; one that finds another
// running leaves it the work (lib/sync/shipper.cpp says why nothing is left behind).
#include "cli/common.h"
#include "store/postgres/postgres_store.h"

using namespace perfguard;

int main(int argc, char** argv) {
  const std::string tool = "perfguard-ship";
  CLI::App app{
      "Ship the local store's new records to the shared store ([store] shared) and take the "
      "team's baselines back. Run in the background by the tools that record."};
  CommonOptions common;
  add_common_options(app, common, /*recording=*/false);

  return run_tool(tool, app, argc, argv, [&]() -> int {
    enable_postgres_store();
    auto session = open_session(tool, common, /*repository_optional=*/true);
    if (!session) return report_error(tool, session.error());
    if (!session->config.shared) {
      return report_error(tool, make_error(ExitCode::usage,
                                           "no shared store to ship to: set [store] shared or "
                                           "PERFGUARD_SHARED"));
    }
    ShipperResult result;
    Status shipped = run_shipper(shipper_request(*session), result);
    if (!shipped) return report_error(tool, shipped.error());
    session->info(result.busy ? "another shipper is at work: it ships these records too"
                              : "shipped " + std::to_string(result.shipped.read) + " records in " +
                                    std::to_string(result.rounds) + " rounds");
    return 0;
  });
}
