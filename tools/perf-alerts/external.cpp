// In perf-alerts, health and notify run their own programs, perf-alerts-health and
// perf-alerts-notify, beside perf-alerts (as git runs its dashed programs): only they load
// libgit2 and libcurl. The command line goes over as it was given, from the directory it
// was given in.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "commands.h"

namespace perfguard::alerts_tool {

namespace {

char** g_argv = nullptr;
std::filesystem::path g_started_in;  // -C moved us from there; the program takes -C again

Result<ExitCode> run_program(const std::string& name) {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::filesystem::path program = ec ? std::filesystem::path(name) : self.parent_path() / name;
  if (ec || ::access(program.c_str(), X_OK) != 0) {
    auto found = find_program(name);
    if (!found) {
      return make_error(ExitCode::step_failed,
                        name + " is not installed beside perf-alerts nor on PATH");
    }
    program = *found;
  }
  std::fflush(stdout);
  if (::chdir(g_started_in.c_str()) != 0) {
    return make_error(ExitCode::step_failed,
                      "cannot return to " + g_started_in.string() + ": " + std::strerror(errno));
  }
  g_argv[0] = const_cast<char*>(program.c_str());
  ::execv(program.c_str(), g_argv);
  return make_error(ExitCode::step_failed,
                    "cannot run " + program.string() + ": " + std::strerror(errno));
}

}  // namespace

void pass_command_line(char** argv) {
  g_argv = argv;
  std::error_code ec;
  g_started_in = std::filesystem::current_path(ec);
}

Result<ExitCode> Health::run(ToolSession&) {
  return run_program("perf-alerts-health");
}

Result<ExitCode> Notify::run(ToolSession&) {
  return run_program("perf-alerts-notify");
}

}  // namespace perfguard::alerts_tool
