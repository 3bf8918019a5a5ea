// perf-recover diagnose: why git is slow here. The health figures (lib/health), the index,
// the commit-graph, the settings that matter, the machine, the slowest recent steps, then
// what would help, ranked, each with the command that applies it (lib/recover).
#include <cmath>
#include <cstdio>

#include "commands.h"
#include "core/clock.h"
#include "health/git_settings.h"
#include "inspect.h"
#include "output/table.h"
#include "recover/diagnosis.h"
#include "recover/recommendations.h"

namespace perfguard::recover_tool {

namespace {

constexpr std::int64_t kRecentUs = 7LL * 24 * 3600 * 1000000;  // the slowest of the last week
constexpr int kSlowSteps = 5;

struct Row {
  std::string section, name;
  Cell value;
  std::string unit, level;
  std::optional<int> rank;
  std::string command, detail;
};

std::string figure_text(double value, const std::string& unit) {
  if (unit == "bytes") return format_size(std::llround(value));
  if (unit == "load") {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", value);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", value);
  return buf;
}

// The figures: health's, then the index, the commit-graph and the machine.
std::vector<HealthFigure> figures_of(const RepositoryFacts& facts) {
  std::vector<HealthFigure> figures = facts.health.figures;
  auto info = [&](const char* name, double value, const char* unit) {
    HealthFigure f;
    f.name = name;
    f.value = value;
    f.unit = unit;
    figures.push_back(std::move(f));
  };
  if (facts.index_version) info("index_version", *facts.index_version, "version");
  info("commit_graph_layers", static_cast<double>(facts.commit_graph_layers), "count");
  if (facts.disk_free) info("disk_free", static_cast<double>(*facts.disk_free), "bytes");
  if (facts.load) {
    info("load_1m", facts.load->one, "load");
    info("cpus", facts.cpus, "count");
  }
  return figures;
}

std::string children_text(const SlowStep& s) {
  std::string text;
  for (const Span& c : s.children) {
    if (!text.empty()) text += ", ";
    text += c.name + " " + format_duration(c.duration);
  }
  return text;
}

}  // namespace

Result<ExitCode> Diagnose::run(ToolSession& session) {
  auto work_tree = inspected_work_tree(session, "diagnose");
  if (!work_tree) return work_tree.error();
  auto facts = gather_facts(*work_tree);
  if (!facts) return facts.error();

  ExitCode code = ExitCode::ok;
  std::vector<SlowStep> slowest;
  bool have_store = false;
  if (auto store = existing_store(session); !store) {
    session.warn(store.error().message + "; the recorded steps are left out");
    code = ExitCode::store;
  } else if (*store) {
    have_store = true;
    auto steps = (*store)->slowest_steps(now_unix_us() - kRecentUs, kSlowSteps, "", 3);
    if (!steps) {
      session.warn(steps.error().message + "; the recorded steps are left out");
      code = ExitCode::store;
    } else {
      slowest = std::move(*steps);
    }
  }
  const std::vector<Recommendation> recommendations = recommend(*facts);
  const std::vector<std::string> notes = platform_notes(*facts);
  const std::vector<HealthFigure> figures = figures_of(*facts);

  std::vector<Row> rows;
  for (const HealthFigure& f : figures) {
    rows.push_back({"figure", f.name, f.value, f.unit, to_string(f.level), {}, f.fix, f.advice});
  }
  rows.push_back({"figure", "commit_graph", facts->commit_graph, "boolean", "info", {}, "", ""});
  for (const char* key : health::kSpeedSettings) {
    auto it = facts->settings.find(key);
    rows.push_back({"setting",
                    key,
                    it == facts->settings.end() ? Cell() : Cell(it->second),
                    "",
                    "info",
                    {},
                    "",
                    it == facts->settings.end() ? "unset" : ""});
  }
  for (const SlowStep& s : slowest) {
    rows.push_back({"step",
                    s.step,
                    s.duration.us,
                    "us",
                    to_string(s.status),
                    {},
                    "",
                    format_timestamp(s.started_us) + " " + children_text(s)});
  }
  for (const Recommendation& r : recommendations) {
    rows.push_back({"recommendation", r.name, r.value.empty() ? Cell() : Cell(r.value), "", r.kind,
                    r.rank, r.command, r.reason});
  }
  for (const std::string& n : notes) rows.push_back({"note", "", Cell(), "", "info", {}, "", n});

  if (session.format != Format::text) {
    Table t;
    t.columns = {"section", "name", "value", "unit", "level", "rank", "command", "detail"};
    for (Row& r : rows) {
      t.rows.push_back({r.section, r.name, r.value, r.unit, r.level,
                        r.rank ? Cell(*r.rank) : Cell(), r.command, r.detail});
    }
    write_table(stdout, session.format, t, "items",
                {{"repo", session.context.repo}, {"git_version", facts->git_version}});
    return code;
  }

  std::printf("%s (git %s, index v%s, commit-graph %s)\n\n", printable(work_tree->string()).c_str(),
              facts->git_version.empty() ? "?" : facts->git_version.c_str(),
              facts->index_version ? std::to_string(*facts->index_version).c_str() : "-",
              facts->commit_graph ? "present" : "absent");
  std::vector<std::vector<std::string>> lines = {{"FIGURE", "VALUE", "LIMIT", "LEVEL"}};
  for (const HealthFigure& f : figures) {
    lines.push_back({f.name, (f.lower_bound ? ">=" : "") + figure_text(f.value, f.unit),
                     f.limit ? figure_text(*f.limit, f.unit) : "", to_string(f.level)});
  }
  std::fputs(aligned_columns(lines, {false, true, true, false}).c_str(), stdout);

  std::printf("\nsettings:\n");
  lines.clear();
  for (const char* key : health::kSpeedSettings) {
    auto it = facts->settings.find(key);
    lines.push_back(
        {"  " + std::string(key), it == facts->settings.end() ? "(unset)" : it->second});
  }
  std::fputs(aligned_columns(lines, {false, false}).c_str(), stdout);

  std::printf("\nslowest steps of the last 7 days:\n");
  if (slowest.empty()) {
    std::printf("  %s\n", have_store ? "none recorded" : "none: nothing is recorded here yet");
  } else {
    lines.clear();
    for (const SlowStep& s : slowest) {
      lines.push_back({"  " + s.step, format_duration(s.duration), to_string(s.status),
                       format_timestamp(s.started_us), children_text(s)});
    }
    std::fputs(aligned_columns(lines, {false, true, false, false, false}).c_str(), stdout);
  }

  std::printf("\nrecommendations:\n");
  if (recommendations.empty()) std::printf("  none: nothing here would make git faster\n");
  for (const Recommendation& r : recommendations) {
    std::printf("  %d. %s\n     %s\n", r.rank, printable(r.command).c_str(),
                printable(r.reason).c_str());
  }
  if (!recommendations.empty()) {
    std::printf(
        "  (perf-recover optimize --apply runs them and times the steps before and "
        "after)\n");
  }
  if (!notes.empty()) {
    std::printf("\nnotes:\n");
    for (const std::string& n : notes) std::printf("  %s\n", printable(n).c_str());
  }
  return code;
}

}  // namespace perfguard::recover_tool
