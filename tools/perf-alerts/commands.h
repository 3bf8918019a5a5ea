#pragma once
// perf-alerts' subcommands, one file each (lib/cli/command.h says how a command is made).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "alerts/report.h"
#include "cli/command.h"
#include "cli/common.h"
#include "cli/options.h"

namespace perfguard::alerts_tool {

// The store to read: it must exist (a list from a repository that never recorded anything
// says so rather than creating an empty store).
Result<Store> open_existing_store(const ToolSession& session);
// The store to change alerts in: created when missing (a scan of a fresh repository finds
// nothing, and says so).
Result<Store> open_store_for_alerts(const ToolSession& session);

// Which alerts list and check read, by where they fired: --repo and --branch. Alerts have no
// host or runner (a rule reads the runs of every host and runner), so neither is offered.
struct AlertPlace {
  std::string repo;
  std::string branch;

  void add_options(CLI::App& command);
  // The repository to ask for: --repo, else this one's own alerts in its local store; on the
  // shared store every clone's, which each have a path of their own.
  std::string repo_for(const ToolSession& session) const;
  // The alerts `query` finds, on --branch only when given. The store is not asked by
  // branch: with one, every alert the rest of the query finds is read, and the limit
  // applied after.
  Result<std::vector<Alert>> alerts(Store& store, AlertQuery query) const;
};

// An alert id as given on the command line: `17` or `#17`.
Result<std::int64_t> parse_alert_id(std::string_view text);
OptionType<Severity> severity_option();
OptionType<AlertState> alert_state();

// `1 alert`, `3 alerts`.
std::string plural(std::size_t n, const std::string& one, const std::string& many);

struct List final : Command {
  AlertPlace place;
  bool all = false;
  Severity min_severity = Severity::info;
  AlertState state = AlertState::open;
  CLI::Option* state_option = nullptr;
  std::string step;
  Since since = Since::all();
  int limit = 0;

  List();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Show final : Command {
  std::string id;

  Show();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

// ack, snooze and resolve: one transition of one or more alerts.
struct Transition final : Command {
  AlertState to;
  std::vector<std::string> ids;
  std::string by;
  std::string note;
  Duration snooze_for;

  Transition(AlertState to);
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Scan final : Command {
  Since since = Since::parse("7d").value();

  Scan();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

// The gate: exit 3 while an active alert is at or above --fail-on.
struct Check final : Command {
  AlertPlace place;
  enum class Report { none, junit, github, gitlab };
  Severity fail_on = Severity::critical;
  Report report = Report::none;

  Check();
  void add_options(CLI::App& command) override;
  Status prepare(CommonOptions& common) override;
  Result<ExitCode> run(ToolSession& session) override;
};

// Sends what the outbox holds (--retry: everything pending, whatever its backoff), or a test
// message through every configured channel (--test).
struct Notify final : Command {
  bool retry = false;
  bool test = false;

  Notify();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

// Measures the repository's health, records the figures, and raises (or clears) the health
// alerts.
struct Health final : Command {
  bool deep = false;

  Health();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

}  // namespace perfguard::alerts_tool
