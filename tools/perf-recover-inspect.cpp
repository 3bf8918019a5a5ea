// perf-recover-inspect: `perf-recover verify`, `diagnose` and `optimize`, run by perf-recover
// with its command line. A program of its own because it links libgit2 (lib/cli/external.h).
#include "cli/common.h"
#include "perf-recover/commands.h"

using namespace perfguard;
using namespace perfguard::recover_tool;

int main(int argc, char** argv) {
  const std::string tool = "perf-recover";
  CLI::App app{
      "Inspect the repository and its snapshots (perf-recover verify, diagnose, optimize)."};
  CommonOptions common;
  add_common_options(app, common, /*recording=*/false);
  Verify verify;
  Diagnose diagnose;
  Optimize optimize;
  const std::vector<Command*> commands = {&verify, &diagnose, &optimize};
  add_commands(app, commands);
  return run_tool(tool, app, argc, argv, [&]() -> int {
    auto session = open_session(tool, common);
    if (!session) return report_error(tool, session.error());
    auto code = chosen_command(commands).run(*session);
    return code ? to_int(*code) : report_error(tool, code.error());
  });
}
