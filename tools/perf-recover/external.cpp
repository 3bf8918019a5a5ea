// In perf-recover, verify, diagnose and optimize run perf-recover-inspect, beside perf-recover
// (lib/cli/external.h says why).
#include "cli/external.h"
#include "commands.h"

namespace perfguard::recover_tool {

Result<ExitCode> Verify::run(ToolSession&) {
  return run_program("perf-recover-inspect");
}

Result<ExitCode> Diagnose::run(ToolSession&) {
  return run_program("perf-recover-inspect");
}

Result<ExitCode> Optimize::run(ToolSession&) {
  return run_program("perf-recover-inspect");
}

}  // namespace perfguard::recover_tool
