// perf-recover verify: every snapshot whole, and the store agreeing with the refs; what an
// integrity recovery starts with.
#include <cstdio>

#include "commands.h"
#include "inspect.h"
#include "output/table.h"
#include "recover/snapshot_check.h"
#include "safety/snapshot.h"

namespace perfguard::recover_tool {

namespace {

std::string count_of(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

Result<ExitCode> Verify::run(ToolSession& session) {
  auto work_tree = inspected_work_tree(session, "verify");
  if (!work_tree) return work_tree.error();

  // The store's records, when there is a store; one that cannot be read leaves the refs to
  // verify alone, and exit 4.
  ExitCode code = ExitCode::ok;
  std::optional<std::vector<StoredSnapshot>> stored;
  std::string store_note;
  auto store = existing_store(session);
  if (!store) {
    session.warn(store.error().message + "; only the refs were verified");
    code = ExitCode::store;
    store_note = "the store could not be read";
  } else if (!*store) {
    store_note = "the store has no records (there is none at " + session.store_path().string() +
                 "): only the refs were verified";
  } else {
    auto records = (*store)->stored_snapshots();
    if (!records) {
      session.warn(records.error().message + "; only the refs were verified");
      code = ExitCode::store;
      store_note = "the store could not be read";
    } else {
      stored = std::move(*records);
    }
  }

  auto check = check_snapshots(*work_tree, stored);
  if (!check) return check.error();
  if (!check->problems.empty()) code = most_severe(code, ExitCode::step_failed);

  if (session.format != Format::text) {
    Table t;
    t.columns = {"kind", "snapshot", "object", "path", "message"};
    for (const SnapshotProblem& p : check->problems) {
      t.rows.push_back({p.kind, p.snapshot, p.object, p.path, p.message});
    }
    write_table(stdout, session.format, t, "problems",
                {{"snapshots", static_cast<std::int64_t>(check->snapshots)},
                 {"objects", static_cast<std::int64_t>(check->objects)},
                 {"store", check->store},
                 {"stored", static_cast<std::int64_t>(check->stored)},
                 {"ok", check->problems.empty()}});
  } else {
    for (const SnapshotProblem& p : check->problems) {
      std::printf("%s\n", printable(p.message).c_str());
    }
  }
  if (check->snapshots == 0 && check->stored == 0 && check->problems.empty()) {
    session.error(std::string("no snapshots to verify: ") + kSnapshotRefPrefix + " is empty" +
                  (check->store ? " and the store records none" : "; " + store_note));
    return code;
  }
  if (session.format == Format::text && !session.options.quiet) {
    std::string line = "verified " + count_of(check->snapshots, "snapshot", "snapshots") + " (" +
                       count_of(check->objects, "object", "objects") + " read)";
    if (check->store) {
      line += "; the store records " + count_of(check->stored, "snapshot", "snapshots");
    } else {
      line += "; " + store_note;
    }
    line += check->problems.empty()
                ? ": all present and readable" + std::string(check->store ? ", in agreement" : "")
                : ": " + count_of(check->problems.size(), "problem", "problems");
    std::printf("%s\n", line.c_str());
  }
  return code;
}

}  // namespace perfguard::recover_tool
