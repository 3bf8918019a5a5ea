// perf-baseline prune: removes the steps (and their spans) that started before an age.
#include "commands.h"
#include "core/clock.h"
#include "output/progress.h"

namespace perfguard::baseline_tool {

Prune::Prune() : Command("prune", "Remove recorded steps (and their spans) older than an age") {}

void Prune::add_options(CLI::App& command) {
  add_typed_option(command, "--older-than", older_than, positive_duration(),
                   "Remove steps started before now less this")
      ->type_name("DURATION")
      ->required();
  command.add_flag("--dry-run", dry_run, "Only count what would be removed");
}

Result<ExitCode> Prune::run(ToolSession& session) {
  const std::int64_t before = now_unix_us() - older_than.us;
  auto store = Store::open(session.store_options(/*create=*/false));
  if (!store) return store.error();
  auto counts = [&] {
    Progress progress(session.options.quiet);
    progress.begin(dry_run ? "counting the steps to prune" : "pruning the recorded steps");
    if (progress.on()) store->while_working([&] { progress.tick(); });
    auto pruned = store->prune_steps(before, dry_run);
    store->while_working({});
    return pruned;
  }();  // the line cleared before anything is said
  if (!counts) return counts.error();
  const Table summary{{"dry_run", "before", "steps", "spans"},
                      {{dry_run, format_timestamp(before), counts->steps, counts->spans}}};
  print_summary(session, summary,
                (dry_run ? "would remove " : "removed ") +
                    plural(static_cast<std::size_t>(counts->steps), "step", "steps") + " and " +
                    plural(static_cast<std::size_t>(counts->spans), "child span", "child spans") +
                    " that started before " + format_timestamp(before) + " (older than " +
                    format_duration(older_than) + ")");
  return ExitCode::ok;
}

}  // namespace perfguard::baseline_tool
