#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "git/repository.h"
#include "output/report.h"
#include "process/runner.h"
#include "safety/snapshot.h"
#include "steps/rollback_step.h"
#include "steps/step_timer.h"
#include "store/store.h"
#include "sync/shipper.h"
#include "trace/record.h"

namespace perfguard {

// The options every tool takes (DESIGN.md, "Command-line conventions").
struct CommonOptions {
  std::vector<std::string> directories;  // -C, each taken from the one before
  std::string db;                        // --db (env PERFGUARD_DB)
  std::string config_file;               // --config
  std::string format = "text";
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  bool no_record = false;
  std::vector<std::string> labels;  // -k key=value
  bool shared = false;              // --shared: the team's shared store ([store] shared)
  bool reads_shared = false;        // the tool takes the shared store (--shared, --db URI)
};

// Adds -C, --db, --config, --format/--json, -q/-v, -k, --no-record and --version.
void add_common_options(CLI::App& app, CommonOptions& options, bool recording = true);
// Adds --shared, and lets --db name the shared store (postgresql://…), for the tools that
// read it (perf-baseline, perf-alerts).
void add_shared_store_options(CLI::App& app, CommonOptions& options);

// The store opened on a second thread while a step runs (see ToolSession::open_store_early).
struct EarlyStore;

// Everything a tool resolves once before its step: the repository, the merged
// configuration, the output format and the context every record carries.
struct ToolSession {
  std::string tool;
  CommonOptions options;
  Format format = Format::text;
  Repository repository;
  bool in_repository = true;  // false only for a tool that may query a --db from anywhere
  Config config;
  RunContext context;
  Labels labels;

  // Where child output goes: passed through to stderr so stdout carries only our
  // results; captured (and shown only on failure) with --quiet.
  StreamMode child_output() const;
  // The local store's file (--db, PERFGUARD_DB, [store] path, else the default).
  std::filesystem::path store_path() const;
  // Whether the commands read and write the shared store (--shared, or --db postgresql://…)
  // instead of the local file.
  bool store_is_shared() const;
  // How to open the store the commands work on: the local file (created when missing, with
  // `create`) or the shared store; a file read through a memory map (StoreOptions::mapped).
  StoreOptions store_options(bool create) const;
  // Whether there is a store to open: the shared store always is (opening says if it cannot
  // be reached); the local file when it exists.
  bool store_exists() const;
  void warn(const std::string& message) const;
  void error(const std::string& message) const;  // `<tool>: <message>`
  void info(const std::string& message) const;   // only with --verbose

  // Starts opening the store (and looking up the cached git version) on a second thread,
  // when the run is to be recorded, so that it is ready when the step ends: opening reads
  // the store's schema, which costs as much as the rest of recording. git runs on the other
  // core meanwhile. record_steps() waits for it.
  void open_store_early();
  std::shared_ptr<EarlyStore> early_store;

  // What recording the steps did to the alerts (record_steps evaluates the rules in the same
  // transaction), for the printed result.
  std::vector<AlertChange> alert_changes;
  // Set while `perf-recover --emergency`'s pause mark is: no rule is evaluated, nothing blocks.
  bool paused = false;

  // When the store ships to a shared one ([store] shared): whether this run stored records
  // for ship_later() to ship, and the warning it gives once of records an earlier ship left.
  bool records_to_ship = false;
  std::string ship_warning;
};

// Moves into the -C directories first, so that every relative path after that (--db,
// PERFGUARD_DB, --config, a tool's own file arguments) is taken from there, as with
// `git -C`. Then discovers the repository, loads the configuration and checks the options.
// With `repository_optional`, a store named with --db (or PERFGUARD_DB) may be used from
// outside any repository.
Result<ToolSession> open_session(const std::string& tool, const CommonOptions& options,
                                 bool repository_optional = false);

// Appends the records (and a snapshot's row) to the store, or to the journal beside it
// when the store cannot be written. Returns the code to exit with: `step_code`, or
// ExitCode::store when that is all that went wrong. `ready`, if any, is called once, just
// before the records are written (to the store, its write lock held, or to the journal):
// the caller may still change them there.
ExitCode record_steps(ToolSession& session, std::vector<StepRecord>& records, ExitCode step_code,
                      const std::optional<Snapshot>& snapshot = {},
                      const std::function<void()>& ready = {});

// When `changes` queued notifications in the outbox, starts `perf-alerts notify` detached to
// send them (perf-alerts-notify beside this tool, else on PATH): the step neither waits for the
// network nor fails with it, and what cannot be sent stays in the outbox for the next try.
void send_notifications_later(const ToolSession& session, const std::vector<AlertChange>& changes);

// For a store that ships to a shared one, after records went into it by other means than
// record_steps (an import): notes them for ship_later(), and the warning of a ship that failed
// if no tool has given it yet. Does nothing when [store] shared is not set.
void note_records_to_ship(ToolSession& session, Store& store);

// Once a tool's own work and output are done: the warning note_records_to_ship (or
// record_steps) found, then perfguard-ship started detached when records are to be shipped. The
// step neither waits for the network nor fails with it; the connection string stays in the
// configuration and the environment, which the shipper reads itself.
void ship_later(ToolSession& session);

// What perfguard-ship and `perf-baseline sync` ask of the shipper for this session's store.
ShipperRequest shipper_request(const ToolSession& session);

// Prints the records in the session's format (nothing in text mode with --quiet unless
// something went wrong).
void print_steps(const ToolSession& session, const std::vector<StepRecord>& records, ExitCode code,
                 const std::vector<std::string>& extra_json = {});
// The same, then the snapshot taken first and the command that undoes the step: a line for a
// person, a "snapshot" member in json.
void print_steps(const ToolSession& session, const std::vector<StepRecord>& records, ExitCode code,
                 const Snapshot& snapshot, const std::string& undo_command);

// A rollback's (or an undo's) thresholds, timeouts and output from the configuration.
RollbackOptions rollback_options(const ToolSession& session);

// A threshold or a hard timeout given as a flag (`flag` names it in the message). Like the
// same keys in a config file it must be positive: a zero threshold fails every run and a
// zero timeout kills the step part-way. An empty value is an error, not the default.
Result<Duration> parse_limit_flag(const std::string& flag, const std::string& text);

// The same for a flag that may not have been given: nothing then.
Result<std::optional<Duration>> limit_flag_if_given(const CLI::App& app, const std::string& flag,
                                                    const std::string& text);

// `<tool>: <message>` on stderr; returns the error's exit code.
int report_error(const std::string& tool, const Error& error);

// Runs a tool's main body, turning CLI11 parse errors into exit 2 and exceptions into a
// one-line error.
int run_tool(const std::string& tool, CLI::App& app, int argc, char** argv,
             const std::function<int()>& body);

}  // namespace perfguard
