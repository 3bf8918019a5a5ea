// perf-alerts-notify: `perf-alerts notify`, run by perf-alerts with its command line, and
// started detached by the tools that queue notifications. A program of its own because it
// links libcurl (see perf-alerts/external.cpp).
#include "cli/common.h"
#include "perf-alerts/commands.h"
#include "store/postgres/postgres_store.h"

using namespace perfguard;
using namespace perfguard::alerts_tool;

int main(int argc, char** argv) {
  const std::string tool = "perf-alerts";
  CLI::App app{"Send the alert notifications waiting in the outbox (perf-alerts notify)."};
  CommonOptions common;
  add_common_options(app, common, /*recording=*/false);
  add_shared_store_options(app, common);
  enable_postgres_store();
  Notify notify;
  add_commands(app, {&notify});
  return run_tool(tool, app, argc, argv, [&]() -> int {
    auto session = open_session(tool, common, /*repository_optional=*/true);
    if (!session) return report_error(tool, session.error());
    auto code = notify.run(*session);
    return code ? to_int(*code) : report_error(tool, code.error());
  });
}
