// The command lines of verify, diagnose and optimize, which perf-recover and
// perf-recover-inspect share.
#include "commands.h"

namespace perfguard::recover_tool {

Verify::Verify()
    : Command("verify",
              "Check that every snapshot's objects are present and readable, and that the "
              "store agrees with the snapshot refs") {}

void Verify::add_options(CLI::App&) {}

Diagnose::Diagnose()
    : Command("diagnose", "Why git is slow here: figures, settings and ranked recommendations") {}

void Diagnose::add_options(CLI::App&) {}

Optimize::Optimize()
    : Command("optimize", "Show, or --apply, the recommended settings and maintenance") {}

void Optimize::add_options(CLI::App& command) {
  command.add_flag("--apply", apply,
                   "Apply the recommendations (the repository's config and git maintenance), "
                   "timing the steps before and after in a throwaway clone");
  command.add_flag("--schedule", schedule,
                   "Register background maintenance with `git maintenance start`, or print "
                   "crontab lines where it cannot");
  add_typed_option(command, "--runs", runs, count(1),
                   "With --apply: timed runs of each step before and after")
      ->type_name("INT")
      ->capture_default_str();
}

}  // namespace perfguard::recover_tool
