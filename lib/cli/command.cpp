#include "cli/command.h"

namespace perfguard {

void Command::add_to(CLI::App& app) {
  command_ = app.add_subcommand(name_, description_);
  // The common options may follow the command's name too.
  command_->fallthrough();
  add_options(*command_);
}

void add_commands(CLI::App& app, const std::vector<Command*>& commands, bool required) {
  for (Command* command : commands) command->add_to(app);
  if (required) {
    app.require_subcommand(1);
  } else {
    app.require_subcommand(0, 1);
  }
}

Command* chosen_command_if_any(const std::vector<Command*>& commands) {
  for (Command* command : commands) {
    if (command->chosen()) return command;
  }
  return nullptr;
}

Command& chosen_command(const std::vector<Command*>& commands) {
  Command* command = chosen_command_if_any(commands);
  return command ? *command : *commands.front();  // not reached when the parse requires one
}

}  // namespace perfguard
