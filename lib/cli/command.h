#pragma once
// A tool's subcommands (perf-baseline's, perf-alerts'), one file each: a subcommand's options
// are members of its struct, bound to the command line by add_options(), and run() does the
// work. A bad option value fails the parse (lib/cli/options.h); anything else that goes wrong
// comes back from run() as an Error, which the tool's main reports.

#include <CLI/CLI.hpp>

#include <string>
#include <utility>
#include <vector>

#include "cli/common.h"

namespace perfguard {

// One subcommand: its name and line of --help, its options and its work.
class Command {
 public:
  virtual ~Command() = default;

  // Adds the subcommand and its options to the tool's command line.
  void add_to(CLI::App& app);
  // Whether the command line named this subcommand.
  bool chosen() const { return command_ != nullptr && command_->parsed(); }
  // Before the session is opened: a command may take over a common option (perf-alerts
  // check reads --format junit itself).
  virtual Status prepare(CommonOptions&) { return {}; }
  // The code to exit with (0, or the steps' own code for measure), or an error to report.
  virtual Result<ExitCode> run(ToolSession& session) = 0;

 protected:
  Command(std::string name, std::string description)
      : name_(std::move(name)), description_(std::move(description)) {}
  virtual void add_options(CLI::App& command) = 0;

 private:
  std::string name_, description_;
  CLI::App* command_ = nullptr;
};

// Adds the commands to `app`, which then takes exactly one of them (at most one when not
// `required`: the tool has work of its own without one, as perf-recover has).
void add_commands(CLI::App& app, const std::vector<Command*>& commands, bool required = true);
// The one the command line named (there is one when add_commands required it).
Command& chosen_command(const std::vector<Command*>& commands);
Command* chosen_command_if_any(const std::vector<Command*>& commands);

}  // namespace perfguard
