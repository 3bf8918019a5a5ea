// perf-recover resume: lifts the pause mark of --emergency; monitoring is back on, and it says
// for how long it was off.
#include "alerts/pause_mark.h"
#include "commands.h"
#include "core/clock.h"
#include "output/table.h"

namespace perfguard::recover_tool {

Resume::Resume()
    : Command("resume", "Lift the emergency pause mark: thresholds and alert gates block again") {}

void Resume::add_options(CLI::App&) {}

Result<ExitCode> Resume::run(ToolSession& session) {
  auto lifted = lift_pause_mark(session.repository.perfguard_dir());
  if (!lifted) return lifted.error();
  if (!*lifted) {
    if (!session.options.quiet) std::printf("monitoring was not paused\n");
    return ExitCode::ok;
  }
  const PauseMark& mark = **lifted;
  if (!session.options.quiet) {
    if (mark.since_us > 0) {
      std::printf("monitoring is back on; it was off for %s (since %s, by %s)\n",
                  format_duration(Duration{now_unix_us() - mark.since_us}).c_str(),
                  format_timestamp(mark.since_us).c_str(), printable(mark.by).c_str());
    } else {
      std::printf(
          "monitoring is back on (the pause mark could not be read: since when is "
          "unknown)\n");
    }
  }
  return ExitCode::ok;
}

}  // namespace perfguard::recover_tool
