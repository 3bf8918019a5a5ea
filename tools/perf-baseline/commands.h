#pragma once
// perf-baseline's subcommands, one file each: a subcommand's options are members of its
// struct, bound to the command line by add_options(), and run() does the work. A bad option
// value fails the parse (lib/cli/options.h); anything else that goes wrong comes back from
// run() as an Error, which main reports.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "baseline/render.h"
#include "cli/common.h"
#include "cli/options.h"
#include "exchange/exchange.h"
#include "output/table.h"
#include "store/baselines.h"

namespace perfguard::baseline_tool {

// One subcommand: its name and line of --help, its options and its work.
class Command {
 public:
  virtual ~Command() = default;

  // Adds the subcommand and its options to the tool's command line.
  void add_to(CLI::App& app);
  // Whether the command line named this subcommand.
  bool chosen() const { return command_ != nullptr && command_->parsed(); }
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

// Adds the commands to `app`, which then takes exactly one of them.
void add_commands(CLI::App& app, const std::vector<Command*>& commands);
// Runs the one the command line named.
Result<ExitCode> run_chosen(const std::vector<Command*>& commands, ToolSession& session);

struct Compute final : Command {
  std::string step;
  Duration window = Duration::seconds(7 * 86400);
  int min_samples = 10;
  double multiplier = 2;
  BaselineScope scope = BaselineScope::all;
  double min_change = 0.05;
  bool force = false;

  Compute();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Show final : Command {
  Show();
  void add_options(CLI::App&) override {}
  Result<ExitCode> run(ToolSession& session) override;
};

struct Stats final : Command {
  std::string step;
  Since since = Since::parse("7d").value();

  Stats();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Trend final : Command {
  std::string step;
  int days = 30;
  TrendPeriod by = TrendPeriod::day;

  Trend();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Slowest final : Command {
  int limit = 20;
  Since since = Since::parse("24h").value();
  std::string step;
  int spans = 3;

  Slowest();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Import final : Command {
  std::string input;
  ImportFormat format = ImportFormat::jsonl;  // --format is required
  bool skip_bad = false;
  std::string step;

  Import();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Export final : Command {
  ExportFormat format = ExportFormat::jsonl;
  Since since = Since::all();
  std::string step;
  std::string output;

  Export();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Prune final : Command {
  Duration older_than;  // --older-than is required
  bool dry_run = false;

  Prune();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Report final : Command {
  std::string output;
  Since since = Since::parse("30d").value();
  std::string step;

  Report();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Measure final : Command {
  int runs = 10;
  std::vector<std::string> steps = {"commit", "rollback", "validate"};
  bool warn_only = false;

  Measure();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

// ---- shared by the commands ----------------------------------------------------------------

// The store, which must exist: reading never creates one. Steps added with plain SQL are
// rolled up first.
Result<Store> open_existing_store(const ToolSession& session);

RenderContext render_context(const ToolSession& session, std::int64_t now_us);

// "1 step", "2 steps".
std::string plural(std::size_t n, const std::string& one, const std::string& many);

// What a command that changes something did (an import, a prune, a report), as one object
// of the columns' fields, in json and jsonl alike; `text` in the other formats, unless
// --quiet.
void print_summary(const ToolSession& session, const Table& summary, const std::string& text);

}  // namespace perfguard::baseline_tool
