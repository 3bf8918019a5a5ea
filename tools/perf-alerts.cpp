// perf-alerts: the alerts the rules raise as steps are recorded (and on `scan`), their
// lifecycle (ack, snooze, resolve), the CI gate (`check`), repository health (`health`) and
// notifications (`notify`). One file per command in perf-alerts/.
#include "cli/common.h"
#include "cli/external.h"
#include "perf-alerts/commands.h"
#include "store/postgres/postgres_store.h"

using namespace perfguard;
using namespace perfguard::alerts_tool;

int main(int argc, char** argv) {
  enable_postgres_store();
  const std::string tool = "perf-alerts";
  CLI::App app{
      "Alerts raised on the recorded steps: list, show, acknowledge, snooze, resolve, "
      "scan, and the CI gate."};
  CommonOptions common;
  add_common_options(app, common, /*recording=*/false);
  add_shared_store_options(app, common);

  // The commands, in the order --help lists them.
  List list;
  Show show;
  Transition ack(AlertState::acknowledged);
  Transition snooze(AlertState::snoozed);
  Transition resolve(AlertState::resolved);
  Scan scan;
  Check check;
  Health health;
  Notify notify;
  const std::vector<Command*> commands = {&list, &show,  &ack,    &snooze, &resolve,
                                          &scan, &check, &health, &notify};
  add_commands(app, commands);

  pass_command_line(argv);  // for health and notify, which run programs of their own
  return run_tool(tool, app, argc, argv, [&]() -> int {
    Command& command = chosen_command(commands);
    if (auto prepared = command.prepare(common); !prepared)
      return report_error(tool, prepared.error());
    auto session = open_session(tool, common, /*repository_optional=*/true);
    if (!session) return report_error(tool, session.error());
    auto code = command.run(*session);
    return code ? to_int(*code) : report_error(tool, code.error());
  });
}
