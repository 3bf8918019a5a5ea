#include "cli/external.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "process/runner.h"

namespace perfguard {

namespace {

char** g_argv = nullptr;
std::filesystem::path g_started_in;  // -C moved us from there; the program takes -C again

}  // namespace

void pass_command_line(char** argv) {
  g_argv = argv;
  std::error_code ec;
  g_started_in = std::filesystem::current_path(ec);
}

std::optional<std::filesystem::path> locate_program(const std::string& name) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path dir = self.parent_path();
    for (const auto& candidate : {dir / name, dir.parent_path() / "libexec/perfguard" / name}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return find_program(name);
}

Result<ExitCode> run_program(const std::string& name) {
  const auto found = locate_program(name);
  if (!found) {
    const std::string tool = std::filesystem::path(g_argv[0]).filename().string();
    return make_error(ExitCode::step_failed, name + " is not installed beside " + tool +
                                                 ", in ../libexec/perfguard, nor on PATH");
  }
  const std::filesystem::path program = *found;
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

}  // namespace perfguard
