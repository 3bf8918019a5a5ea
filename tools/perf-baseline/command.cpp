// What perf-baseline's commands share: the store they read, and how they print.
#include <cstdio>

#include "commands.h"

namespace perfguard::baseline_tool {

Result<Store> open_existing_store(const ToolSession& session) {
  auto store = Store::open(session.store_options(/*create=*/false));
  if (!store) return store.error();
  // A read-only store is read as it is.
  if (Status rolled = store->catch_up_rollups(); !rolled) {
    session.warn(rolled.error().message + "; steps added since the last roll-up are left out");
  }
  return store;
}

Status local_store_only(const ToolSession& session, const std::string& command) {
  if (!session.store_is_shared()) return {};
  return make_error(ExitCode::usage, command +
                                         " adds records to the local store only; `perf-baseline "
                                         "sync` ships them to the shared store");
}

void add_run_filter(CLI::App& command, RunFilter& filter, bool places_only) {
  if (!places_only) {
    command.add_option("--host", filter.host, "Only runs on this host")->type_name("NAME");
  }
  command.add_option("--repo", filter.repo, "Only runs in this work tree (its absolute path)")
      ->type_name("PATH");
  command.add_option("--branch", filter.branch, "Only runs on this branch")->type_name("NAME");
  if (places_only) return;
  add_typed_option(command, "--runner", filter.runner,
                   OptionType<std::optional<RunnerKind>>{
                       [](std::string_view text) -> Result<std::optional<RunnerKind>> {
                         if (auto kind = parse_runner_kind(text)) return kind;
                         return make_error(ExitCode::usage,
                                           "'" + std::string(text) + "' is not a runner: " +
                                               one_of({"ci", "local", "github", "gitlab",
                                                       "buildkite", "jenkins"}));
                       },
                       [](const std::optional<RunnerKind>& kind) {
                         return std::string(kind ? to_string(*kind) : "");
                       }},
                   "Only runs in CI, outside it, or in this CI provider")
      ->type_name("KIND");
}

RenderContext render_context(const ToolSession& session, std::int64_t now_us) {
  return {stdout, session.format, unicode_charts(stdout), now_us};
}

std::string plural(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void print_summary(const ToolSession& session, const Table& summary, const std::string& text) {
  if (session.format == Format::json || session.format == Format::jsonl) {
    // A summary has no rows to list: the object itself is the json document too.
    write_table(stdout, Format::jsonl, summary, "");
  } else if (!session.options.quiet) {
    std::printf("%s\n", text.c_str());
  }
}

}  // namespace perfguard::baseline_tool
