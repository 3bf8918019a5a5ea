#pragma once
// perf-recover without a subcommand: the recovery itself (recover.cpp).

#include <chrono>
#include <string>

#include "cli/common.h"
#include "recover/recovery.h"

namespace perfguard::recover_tool {

class Recover {
 public:
  std::string to;
  std::string restart, health;  // a string runs under /bin/sh -c, as in perfguard.toml
  std::string threshold, timeout, restart_timeout, health_timeout;
  bool yes = false;
  bool dry_run = false;
  bool emergency = false;
  bool automatic = false;  // --auto
  bool verify = false;
  bool force = false;
  bool warn_only = false;

  void add_options(CLI::App& app);
  // `started` is when the tool started: the recovery's preflight began then.
  Result<ExitCode> run(ToolSession& session, const CLI::App& app,
                       std::chrono::steady_clock::time_point started, std::int64_t started_us);

 private:
  // The configuration with the flags over it; an error names a bad flag.
  Result<RecoveryOptions> options_from(const ToolSession& session, const CLI::App& app) const;
  // Chooses the target (into `options`) and makes perf-rollback's plan; changes nothing.
  Result<RollbackPlan> plan(const ToolSession& session, RecoveryOptions& options) const;
};

}  // namespace perfguard::recover_tool
