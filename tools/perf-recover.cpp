// perf-recover: the emergency recovery and its snapshots. One file per command in
// perf-recover/; verify, diagnose and optimize run perf-recover-inspect (lib/cli/external.h).
#include "cli/common.h"
#include "cli/external.h"
#include "perf-recover/commands.h"

using namespace perfguard;
using namespace perfguard::recover_tool;

int main(int argc, char** argv) {
  const std::string tool = "perf-recover";
  CLI::App app{"Recover from an emergency without losing anything, and check the repository."};
  CommonOptions common;
  add_common_options(app, common, /*recording=*/false);

  // The commands, in the order --help lists them.
  Verify verify;
  Diagnose diagnose;
  Optimize optimize;
  const std::vector<Command*> commands = {&verify, &diagnose, &optimize};
  add_commands(app, commands, /*required=*/false);

  pass_command_line(argv);  // for verify, diagnose and optimize, which run perf-recover-inspect
  return run_tool(tool, app, argc, argv, [&]() -> int {
    Command* command = chosen_command_if_any(commands);
    if (!command) {
      return report_error(tool, Error{ExitCode::usage,
                                      "name a command: verify, diagnose or optimize (see "
                                      "perf-recover --help)"});
    }
    auto session = open_session(tool, common, /*repository_optional=*/true);
    if (!session) return report_error(tool, session.error());
    auto code = command->run(*session);
    return code ? to_int(*code) : report_error(tool, code.error());
  });
}
