// perf-recover: the emergency button. Without a subcommand it recovers: snapshot, rollback to
// the last known good commit (or --to), validate, restart the service, check its health, all
// inside 10 s, undoable exactly. Its subcommands list, undo and prune the recoveries, lift
// the emergency pause mark, and verify the snapshots, diagnose why git is slow and optimize
// it (those three in perf-recover-inspect, which links libgit2); one file each in
// perf-recover/.
#include <chrono>

#include "cli/common.h"
#include "cli/external.h"
#include "core/clock.h"
#include "perf-recover/commands.h"
#include "perf-recover/recover.h"

using namespace perfguard;
using namespace perfguard::recover_tool;

int main(int argc, char** argv) {
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t started_us = now_unix_us();
  const std::string tool = "perf-recover";
  CLI::App app{
      "Recover a repository and its service: snapshot, roll back to the last known good "
      "commit, validate, restart, check health; undoable exactly."};
  CommonOptions common;
  add_common_options(app, common);
  Recover recover;
  recover.add_options(app);

  // The subcommands, in the order --help lists them.
  List list;
  Undo undo;
  Prune prune;
  Resume resume;
  Verify verify;
  Diagnose diagnose;
  Optimize optimize;
  const std::vector<Command*> commands = {&list,   &undo,     &prune,   &resume,
                                          &verify, &diagnose, &optimize};
  add_commands(app, commands, /*required=*/false);

  pass_command_line(argv);  // for verify, diagnose and optimize, run by perf-recover-inspect
  return run_tool(tool, app, argc, argv, [&]() -> int {
    Command* command = chosen_command_if_any(commands);
    auto session = open_session(tool, common);
    if (!session) return report_error(tool, session.error());
    auto code = command ? command->run(*session) : recover.run(*session, app, started, started_us);
    return code ? to_int(*code) : report_error(tool, code.error());
  });
}
