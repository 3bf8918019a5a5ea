#include "cli/command.h"

namespace perfguard {

void Command::add_to(CLI::App& app) {
  command_ = app.add_subcommand(name_, description_);
  // The common options may follow the command's name too.
  command_->fallthrough();
  add_options(*command_);
}

void add_commands(CLI::App& app, const std::vector<Command*>& commands) {
  for (Command* command : commands) command->add_to(app);
  app.require_subcommand(1);
}

Command& chosen_command(const std::vector<Command*>& commands) {
  for (Command* command : commands) {
    if (command->chosen()) return *command;
  }
  return *commands.front();  // not reached: the parse requires one
}

}  // namespace perfguard
