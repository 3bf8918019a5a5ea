// In perf-alerts, health and notify run their own programs, perf-alerts-health and
// perf-alerts-notify, beside perf-alerts (lib/cli/external.h says why).
#include "cli/external.h"
#include "commands.h"

namespace perfguard::alerts_tool {

Result<ExitCode> Health::run(ToolSession&) {
  return run_program("perf-alerts-health");
}

Result<ExitCode> Notify::run(ToolSession&) {
  return run_program("perf-alerts-notify");
}

}  // namespace perfguard::alerts_tool
