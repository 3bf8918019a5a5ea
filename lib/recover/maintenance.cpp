#include "recover/maintenance.h"

#include <algorithm>
#include <utility>

#include "git/git.h"
#include "process/runner.h"

namespace perfguard {

namespace {

// Only the shapes recommend() makes: `git config KEY VALUE` and `git config --unset KEY`
// (the repository's own config: git writes there unless told --global or --system), and
// maintenance that neither writes the index nor resets.
bool allowed(const Recommendation& r) {
  const auto& a = r.argv;
  if (a.size() < 2 || a[0] != "git") return false;
  if (a[1] == "config") {
    const bool set = a.size() == 4 && !a[2].starts_with("-");
    const bool unset = a.size() == 4 && a[2] == "--unset" && !a[3].starts_with("-");
    return r.kind == "config" && (set || unset);
  }
  if (r.kind != "maintenance") return false;
  return (a[1] == "maintenance" && a.size() >= 3 && a[2] == "run") ||
         (a[1] == "commit-graph" && a.size() >= 3 && a[2] == "write") || (a[1] == "pack-refs");
}

}  // namespace

Result<std::vector<AppliedRecommendation>> apply_recommendations(
    const Repository& repo, const std::vector<Recommendation>& recommendations,
    const std::function<void(const Recommendation&)>& progress) {
  for (const Recommendation& r : recommendations) {
    if (!allowed(r)) {
      return make_error(ExitCode::usage, "will not run `" + r.command +
                                             "`: only the repository's git config and git "
                                             "maintenance are applied");
    }
  }
  std::vector<AppliedRecommendation> applied;
  for (const Recommendation& r : recommendations) {
    if (progress) progress(r);
    ChildCommand command = git_command(repo, {r.argv.begin() + 1, r.argv.end()});
    command.out = StreamMode::capture;
    command.err = StreamMode::capture;
    AppliedRecommendation a{r, false, "", Duration()};
    auto outcome = run_child(command);
    if (!outcome) {
      a.error = outcome.error().message;
    } else {
      a.ok = outcome->success();
      a.took = outcome->wall;
      if (!a.ok) {
        a.error = git_message(outcome->err.empty() ? outcome->out : outcome->err);
        if (a.error.empty()) a.error = "exit " + std::to_string(outcome->exit_code);
      }
    }
    applied.push_back(std::move(a));
    if (received_interrupt()) break;
  }
  return applied;
}

std::vector<std::pair<std::string, std::string>> recommended_settings(
    const std::vector<Recommendation>& recommendations) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Recommendation& r : recommendations) {
    if (r.kind == "config" && !r.value.empty()) out.emplace_back(r.name, r.value);
  }
  return out;
}

std::vector<std::string> crontab_lines(const std::filesystem::path& dir) {
  const std::string git = shell_line({"git", "-C", dir.string()});
  return {
      "# perfguard: maintenance of " + dir.string(),
      "17 3 * * * " + git + " gc --auto --quiet",
      "27 4 * * 0 " + git + " repack -ad --quiet",
      "37 5 1 * * " + git + " fsck --full --no-progress",
  };
}

MaintenanceSchedule schedule_maintenance(const Repository& repo) {
  MaintenanceSchedule schedule;
  ChildCommand command = git_command(repo, {"maintenance", "start"});
  command.out = StreamMode::capture;
  command.err = StreamMode::capture;
  auto outcome = run_child(command);
  if (outcome && outcome->success()) {
    schedule.registered = true;
    return schedule;
  }
  schedule.why_not = outcome ? git_message(outcome->err) : outcome.error().message;
  if (schedule.why_not.empty()) schedule.why_not = "git maintenance start failed";
  schedule.crontab = crontab_lines(repo.work_tree().value_or(repo.git_dir()));
  return schedule;
}

}  // namespace perfguard
