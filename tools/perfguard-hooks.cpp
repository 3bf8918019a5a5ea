// perfguard-hooks: installs perfguard's git hooks (chaining the user's own) and is what they
// run: a person's `git commit` timed without the editor, merges, checkouts and rebases timed
// from git's start, and pushes held while a critical alert is open.
#include <cstdlib>

#include "cli/common.h"
#include "core/version.h"
#include "perfguard-hooks/hooks.h"
#include "process/tool_marker.h"

using namespace perfguard;
using namespace perfguard::hooks_tool;

const std::string perfguard::hooks_tool::kTool = "perfguard-hooks";

int main(int argc, char** argv) {
  // Read before run_tool marks this process (and so its children) as a perfguard tool's.
  const bool inside_tool = std::getenv(kToolEnvironment) != nullptr;
  CLI::App app{"Install perfguard's git hooks, chaining your own, and run them."};
  InstallOptions options;
  add_common_options(app, options.common, /*recording=*/false);
  app.require_subcommand(1);

  auto* install_cmd = app.add_subcommand(
      "install", "Install the hooks in the repository's hooks directory, chaining existing ones");
  auto* uninstall_cmd = app.add_subcommand(
      "uninstall", "Remove perfguard's hooks, putting back the hooks they chained exactly");
  auto* status_cmd =
      app.add_subcommand("status",
                         "Say for each hook whether perfguard's is installed (exit 1 "
                         "when one is not)");
  for (auto* cmd : {install_cmd, uninstall_cmd, status_cmd}) {
    cmd->fallthrough();  // the common options after the subcommand too, as in the other tools
    cmd->add_flag("--global", options.global,
                  "Your own hooks for every repository (the global core.hooksPath)");
  }
  std::string hook;
  std::vector<std::string> hook_args;
  auto* run_cmd = app.add_subcommand("run",
                                     "Run perfguard's part of a hook (the hook files call "
                                     "this); never fails the git step");
  run_cmd
      ->add_option("hook", hook,
                   "The hook: pre-commit, prepare-commit-msg, commit-msg, "
                   "post-commit, post-merge, post-checkout, post-rewrite, "
                   "pre-push")
      ->required();
  run_cmd->add_option("args", hook_args, "The arguments git gave the hook");
  run_cmd->prefix_command();

  return run_tool(kTool, app, argc, argv, [&]() -> int {
    if (install_cmd->parsed()) return install(options);
    if (uninstall_cmd->parsed()) return uninstall(options);
    if (status_cmd->parsed()) return status(options);
    return run(options.common, hook, hook_args, inside_tool);
  });
}
