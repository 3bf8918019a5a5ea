#pragma once
// perf-recover's subcommands, one file each (lib/cli/command.h says how a command is made).
// The recovery itself, perf-recover without a subcommand, is recover.cpp.

#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/common.h"
#include "cli/options.h"
#include "steps/rollback_step.h"

namespace perfguard::recover_tool {

// This work tree's snapshots, newest first (another work tree's are its own).
Result<std::vector<Snapshot>> find_snapshots(const ToolSession& session);
// perf-rollback's options from the configuration, for an undo.
RollbackOptions rollback_options(const ToolSession& session);

// Recoveries and snapshots, newest first.
struct List final : Command {
  List();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

// Puts back a recovery's snapshot (the newest when no id is given).
struct Undo final : Command {
  std::string id;
  bool dry_run = false;
  bool force = false;

  Undo();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

// Deletes snapshots older than --older-than.
struct Prune final : Command {
  Duration older_than = Duration::seconds(30 * 24 * 3600);
  bool dry_run = false;

  Prune();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

// Lifts the emergency pause mark.
struct Resume final : Command {
  Resume();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

}  // namespace perfguard::recover_tool
