// perf-recover prune --older-than 30d: deletes this work tree's snapshots taken before then.
// Nothing else ever deletes one.
#include "commands.h"
#include "core/clock.h"
#include "output/table.h"

namespace perfguard::recover_tool {

Prune::Prune() : Command("prune", "Delete this work tree's snapshots older than --older-than") {}

void Prune::add_options(CLI::App& command) {
  add_typed_option(command, "--older-than", older_than, positive_duration(),
                   "Delete the snapshots taken longer ago than this")
      ->type_name("DURATION");
  command.add_flag("--dry-run", dry_run, "List what would be deleted and delete nothing");
}

Result<ExitCode> Prune::run(ToolSession& session) {
  auto snapshots = find_snapshots(session);
  if (!snapshots) return snapshots.error();
  const std::int64_t now = now_unix_us();
  const std::int64_t before = now - older_than.us;
  int deleted = 0;
  std::vector<std::string> forgotten;
  // The store forgets them after their refs are gone (so that verify agrees): a store that
  // cannot be written leaves them known there, and says so.
  auto forget = [&]() -> Status {
    if (forgotten.empty() || !std::filesystem::exists(session.store_path())) return {};
    auto store = Store::open({session.store_path(), session.config.busy_timeout, false});
    if (!store) return store.error();
    return store->forget_snapshots(forgotten, now);
  };
  for (const Snapshot& s : *snapshots) {
    if (s.created_us >= before) continue;
    if (!dry_run) {
      if (auto done = delete_snapshot(session.repository, s); !done) {
        (void)forget();
        return done.error();
      }
      forgotten.push_back(s.id);
    }
    ++deleted;
    if (!session.options.quiet) {
      std::printf("%s %s  %s  %s\n", dry_run ? "would delete" : "deleted", s.id.c_str(),
                  format_timestamp(s.created_us).c_str(), printable(s.reason).c_str());
    }
  }
  if (auto forgot = forget(); !forgot) {
    session.warn(forgot.error().message +
                 "; the store still lists the deleted snapshots (perf-recover verify says so)");
  }
  if (!session.options.quiet) {
    std::printf("%s%d snapshot%s older than %s\n", dry_run ? "would delete " : "deleted ", deleted,
                deleted == 1 ? "" : "s", format_duration(older_than).c_str());
  }
  return ExitCode::ok;
}

}  // namespace perfguard::recover_tool
