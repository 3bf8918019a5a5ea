// perf-recover list: the snapshots of this work tree, newest first, each with the recovery
// that took it (its reason, target and outcome) when a recovery did.
#include <map>

#include "commands.h"
#include "core/clock.h"
#include "output/table.h"

namespace perfguard::recover_tool {

namespace {

// The recoveries recorded in this repository, by their snapshot's id.
std::map<std::string, StepRecord> recoveries_by_snapshot(const ToolSession& session) {
  std::map<std::string, StepRecord> out;
  if (!std::filesystem::exists(session.store_path())) return out;
  auto store = Store::open({session.store_path(), session.config.busy_timeout, false});
  if (!store) {
    session.warn(store.error().message + "; listing the snapshots alone");
    return out;
  }
  StepQuery q;
  q.step = "recover";
  q.newest_first = true;
  auto read = store->for_each_step(q, [&](StepRecord& r) -> Status {
    if (r.context.repo != session.context.repo) return {};
    for (const auto& [key, value] : r.labels) {
      if (key == "snapshot" && !value.empty()) out.emplace(value, r);
    }
    return {};
  });
  if (!read) session.warn(read.error().message + "; listing the snapshots alone");
  return out;
}

std::string label(const StepRecord& r, const std::string& key) {
  for (const auto& [k, v] : r.labels) {
    if (k == key) return v;
  }
  return "";
}

}  // namespace

List::List() : Command("list", "The recoveries and snapshots, newest first") {}

void List::add_options(CLI::App&) {}

Result<ExitCode> List::run(ToolSession& session) {
  auto snapshots = find_snapshots(session);
  if (!snapshots) return snapshots.error();
  const auto recoveries = recoveries_by_snapshot(session);
  Table table;
  table.columns = {"id",    "created_at", "tool",    "reason", "head",     "branch",
                   "dirty", "target",     "outcome", "mode",   "duration", "undo"};
  std::vector<std::vector<std::string>> lines;
  for (const Snapshot& s : *snapshots) {
    auto found = recoveries.find(s.id);
    const StepRecord* r = found == recoveries.end() ? nullptr : &found->second;
    const std::string branch = s.branch.empty() ? "" : Head{s.branch, ""}.branch();
    const std::string undo = "perf-recover undo " + s.id;
    table.rows.push_back({s.id, format_timestamp(s.created_us), s.tool, s.reason, s.head, branch,
                          s.dirty, r ? Cell(label(*r, "target_oid")) : Cell(),
                          r ? Cell(label(*r, "outcome")) : Cell(),
                          r ? Cell(label(*r, "mode")) : Cell(),
                          r ? Cell(r->root.duration.seconds_f()) : Cell(), undo});
    std::string held = "HEAD " + s.head.substr(0, 12) + " " +
                       (branch.empty() ? "(detached)" : branch) +
                       (s.dirty ? " +local changes" : "");
    std::string what = r ? "recovery to " + label(*r, "target_oid").substr(0, 12) + ": " +
                               label(*r, "outcome") + " in " + format_duration(r->root.duration)
                         : s.reason + " (" + s.tool + ")";
    lines.push_back({s.id, format_timestamp(s.created_us), held, what});
  }
  if (session.format != Format::text) {
    write_table(stdout, session.format, table, "snapshots");
    return ExitCode::ok;
  }
  if (lines.empty()) {
    if (!session.options.quiet) std::printf("no snapshots in this work tree\n");
    return ExitCode::ok;
  }
  std::fputs(aligned_columns(lines, {false, false, false, false}).c_str(), stdout);
  return ExitCode::ok;
}

}  // namespace perfguard::recover_tool
