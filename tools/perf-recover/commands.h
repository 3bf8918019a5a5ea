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

// verify, diagnose and optimize run perf-recover-inspect, the program that links libgit2
// (lib/cli/external.h); their options are in inspect_options.cpp, their work in
// verify.cpp, diagnose.cpp and optimize.cpp, linked into that program only.

// Every snapshot ref's commit, trees and blobs present and readable; the store's records of
// snapshots agree with the refs.
struct Verify final : Command {
  Verify();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

// Why git is slow here: figures, settings, recent slow steps; ranked recommendations.
struct Diagnose final : Command {
  Diagnose();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

// Shows, or applies (--apply), the recommended settings and maintenance.
struct Optimize final : Command {
  bool apply = false;
  bool schedule = false;
  int runs = 3;  // --apply: timed runs of each step before and after

  Optimize();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

}  // namespace perfguard::recover_tool
