#pragma once
// perf-baseline's subcommands, one file each (lib/cli/command.h says how a command is made).

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "baseline/render.h"
#include "cli/command.h"
#include "cli/common.h"
#include "cli/options.h"
#include "exchange/exchange.h"
#include "output/table.h"
#include "store/baselines.h"
#include "trace/run_filter.h"

namespace perfguard::baseline_tool {

struct Compute final : Command {
  RunFilter filter;
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
  RunFilter filter;
  std::string step;
  Since since = Since::parse("7d").value();

  Stats();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Trend final : Command {
  RunFilter filter;
  std::string step;
  int days = 30;
  TrendPeriod by = TrendPeriod::day;

  Trend();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Slowest final : Command {
  RunFilter filter;
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
  RunFilter filter;
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
  RunFilter filter;
  std::string output;
  Since since = Since::parse("30d").value();
  std::string step;

  Report();
  void add_options(CLI::App& command) override;
  Result<ExitCode> run(ToolSession& session) override;
};

struct Sync final : Command {
  bool status = false;

  Sync();
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
// The commands that add records take the local store only: the shared store gets its records
// from `perf-baseline sync`, which ships them whole and once.
Status local_store_only(const ToolSession& session, const std::string& command);

// --host, --repo, --branch and --runner: which runs a read keeps. `places_only`: --repo and
// --branch alone, for a command whose answer is kept per repository and branch.
void add_run_filter(CLI::App& command, RunFilter& filter, bool places_only = false);

RenderContext render_context(const ToolSession& session, std::int64_t now_us);

// "1 step", "2 steps".
std::string plural(std::size_t n, const std::string& one, const std::string& many);

// What a command that changes something did (an import, a prune, a report), as one object
// of the columns' fields, in json and jsonl alike; `text` in the other formats, unless
// --quiet.
void print_summary(const ToolSession& session, const Table& summary, const std::string& text);

}  // namespace perfguard::baseline_tool
