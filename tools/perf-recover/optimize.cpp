// perf-recover optimize: the recommendations of diagnose shown, or applied (--apply) with the
// steps timed before and after, and maintenance scheduled (--schedule).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "baseline/measure.h"
#include "commands.h"
#include "git/git.h"
#include "inspect.h"
#include "output/progress.h"
#include "output/table.h"
#include "recover/diagnosis.h"
#include "recover/maintenance.h"
#include "recover/recommendations.h"
#include "stats/statistics.h"

namespace perfguard::recover_tool {

namespace {

// The four steps optimize times: perf-baseline measure's three in a throwaway clone, and
// git status in the work tree itself (its untracked cache and index are the real ones).
constexpr const char* kTimedSteps[] = {"commit", "rollback", "validate", "status"};

using Timings = std::map<std::string, std::vector<std::int64_t>>;  // step → durations (µs)

// Settings given to every git the measurement starts, as the repository's config gives them
// to git in the work tree: a `git clone --shared` does not copy the repository's config.
class ConfigEnvironment {
 public:
  explicit ConfigEnvironment(const std::vector<std::pair<std::string, std::string>>& settings) {
    if (settings.empty()) return;
    const char* had = std::getenv("GIT_CONFIG_COUNT");
    if (had) saved_ = had;
    int n = had ? std::atoi(had) : 0;
    for (const auto& [key, value] : settings) {
      const std::string i = std::to_string(n++);
      set("GIT_CONFIG_KEY_" + i, key);
      set("GIT_CONFIG_VALUE_" + i, value);
    }
    set("GIT_CONFIG_COUNT", std::to_string(n));
    active_ = true;
  }
  ~ConfigEnvironment() {
    if (!active_) return;
    for (const std::string& name : added_) ::unsetenv(name.c_str());
    if (saved_) ::setenv("GIT_CONFIG_COUNT", saved_->c_str(), 1);
  }
  ConfigEnvironment(const ConfigEnvironment&) = delete;
  ConfigEnvironment& operator=(const ConfigEnvironment&) = delete;

 private:
  void set(const std::string& name, const std::string& value) {
    ::setenv(name.c_str(), value.c_str(), 1);
    added_.push_back(name);
  }
  bool active_ = false;
  std::optional<std::string> saved_;
  std::vector<std::string> added_;
};

// Times the steps `runs` times each; `when` is "before" or "after" for the progress line.
Result<Timings> time_steps(ToolSession& session, int runs, const char* when,
                           const std::vector<std::pair<std::string, std::string>>& settings,
                           Progress& progress) {
  ConfigEnvironment environment(settings);
  MeasureOptions options;
  options.runs = runs;
  options.steps = {"commit", "rollback", "validate"};
  options.thresholds = session.config.thresholds;
  options.timeouts = session.config.timeouts;
  options.tool = session.tool;
  options.progress = [&](int done, int) { progress.update(static_cast<std::uint64_t>(done)); };
  progress.begin(std::string("timing the steps ") + when + " in a throwaway clone", "runs",
                 static_cast<std::uint64_t>(runs));
  auto measured = run_measure(session.repository, options);
  if (!measured) return measured.error();
  if (measured->code == ExitCode::interrupted) {
    return make_error(ExitCode::interrupted, std::string("interrupted while timing the steps ") +
                                                 when + "; the throwaway clone is removed");
  }
  if (!measured->git_error.empty()) {
    return make_error(ExitCode::step_failed,
                      std::string("timing the steps ") + when +
                          ", in the throwaway clone: " + measured->git_error);
  }
  Timings timings;
  for (const StepRecord& r : measured->records) timings[r.step].push_back(r.root.duration.us);

  // git status where the user runs it: a first run brings the untracked cache and the
  // index's stat data up to date, as the user's next status would.
  progress.begin(std::string("timing git status ") + when, "runs",
                 static_cast<std::uint64_t>(runs) + 1);
  for (int i = 0; i <= runs; ++i) {
    progress.update(static_cast<std::uint64_t>(i));
    ChildCommand status = git_command(session.repository, {"status", "--porcelain"});
    status.out = StreamMode::discard;
    status.err = StreamMode::capture;
    auto outcome = run_child(status);
    if (!outcome) return outcome.error();
    if (!outcome->success()) {
      return make_error(ExitCode::step_failed, "git status failed: " + git_message(outcome->err));
    }
    if (i > 0) timings["status"].push_back(outcome->wall.us);
  }
  return timings;
}

std::optional<double> median(std::vector<std::int64_t> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  return percentile_cont(v, 0.5);
}

std::string duration_text(std::optional<double> us) {
  return us ? format_duration(Duration{static_cast<std::int64_t>(*us)}) : "-";
}

std::string change_text(std::optional<double> before, std::optional<double> after) {
  if (!before || !after || *before <= 0) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", 100.0 * (*after - *before) / *before);
  return buf;
}

}  // namespace

Result<ExitCode> Optimize::run(ToolSession& session) {
  auto work_tree = inspected_work_tree(session, "optimize");
  if (!work_tree) return work_tree.error();
  const Repository& repo = session.repository;
  if (apply) {
    // Refused before anything changes: the steps could not be timed, and the settings and
    // maintenance are better left until git's own operation is over.
    if (const RepoState state = repo.state(); state != RepoState::none) {
      return make_error(ExitCode::refused,
                        std::string("a ") + to_string(state) + " is in progress in " +
                            work_tree->string() +
                            ": finish or abort it before optimize --apply; nothing was changed");
    }
    if (repo.index_locked()) {
      return make_error(ExitCode::refused,
                        repo.index_lock().string() +
                            " is held (is git running?): try again when it is done; nothing "
                            "was changed");
    }
    auto head = repo.head();
    if (!head) return head.error();
    if (head->unborn()) {
      return make_error(ExitCode::refused,
                        "HEAD has no commit yet, so the steps cannot be timed: commit first, "
                        "then optimize --apply; nothing was changed");
    }
  }
  auto facts = gather_facts(*work_tree);
  if (!facts) return facts.error();
  const std::vector<Recommendation> recommendations = recommend(*facts);
  Progress progress(session.options.quiet);

  ExitCode code = ExitCode::ok;
  std::vector<AppliedRecommendation> applied;
  Timings before, after;
  if (apply && !recommendations.empty()) {
    auto timed = time_steps(session, runs, "before", {}, progress);
    if (!timed) {
      progress.clear();
      return make_error(timed.error().code, timed.error().message + "; nothing was changed");
    }
    before = std::move(*timed);
    std::uint64_t n = 0;
    progress.begin("applying the recommendations", "commands", recommendations.size());
    auto done = apply_recommendations(repo, recommendations,
                                      [&](const Recommendation&) { progress.update(n++); });
    if (!done) {
      progress.clear();
      return done.error();
    }
    applied = std::move(*done);
    for (const AppliedRecommendation& a : applied) {
      if (!a.ok) code = ExitCode::step_failed;
    }
    timed = time_steps(session, runs, "after", recommended_settings(recommendations), progress);
    if (timed) {
      after = std::move(*timed);
    } else {
      progress.clear();
      session.error(timed.error().message);
      code = most_severe(code, timed.error().code);
    }
  }
  std::optional<MaintenanceSchedule> scheduled;
  if (schedule) {
    progress.begin("registering maintenance (git maintenance start)");
    scheduled = schedule_maintenance(repo);
  }
  progress.clear();

  const auto applied_of = [&](const Recommendation& r) -> const AppliedRecommendation* {
    for (const AppliedRecommendation& a : applied) {
      if (a.recommendation.rank == r.rank) return &a;
    }
    return nullptr;
  };

  if (session.format != Format::text) {
    Table t;
    t.columns = {"section", "rank",    "name",      "value",   "command",
                 "detail",  "applied", "before_us", "after_us"};
    for (const Recommendation& r : recommendations) {
      const AppliedRecommendation* a = applied_of(r);
      t.rows.push_back({"recommendation", r.rank, r.name, r.value.empty() ? Cell() : Cell(r.value),
                        r.command, a && !a->ok ? a->error : r.reason, a ? Cell(a->ok) : Cell(),
                        Cell(), Cell()});
    }
    if (!applied.empty()) {
      for (const char* step : kTimedSteps) {
        auto b = median(before[step]), a = median(after[step]);
        t.rows.push_back({"timing", Cell(), step, Cell(), "", "median", Cell(),
                          b ? Cell(*b) : Cell(), a ? Cell(*a) : Cell()});
      }
    }
    if (scheduled) {
      t.rows.push_back({"schedule", Cell(), "git maintenance start", Cell(),
                        "git maintenance start", scheduled->why_not, scheduled->registered, Cell(),
                        Cell()});
      for (const std::string& line : scheduled->crontab) {
        t.rows.push_back({"crontab", Cell(), "", Cell(), line, "", Cell(), Cell(), Cell()});
      }
    }
    write_table(stdout, session.format, t, "items",
                {{"repo", session.context.repo}, {"apply", apply}, {"runs", runs}});
    return code;
  }

  if (recommendations.empty()) {
    std::printf("nothing to do: diagnose recommends nothing here\n");
  } else if (!apply) {
    std::printf("would run, in this order (perf-recover optimize --apply runs them):\n");
    for (const Recommendation& r : recommendations) {
      std::printf("  %d. %s\n     %s\n", r.rank, printable(r.command).c_str(),
                  printable(r.reason).c_str());
    }
  } else {
    std::vector<std::vector<std::string>> lines;
    for (const AppliedRecommendation& a : applied) {
      lines.push_back({"  " + std::to_string(a.recommendation.rank) + ".", a.recommendation.command,
                       a.ok ? "done" : "FAILED: " + a.error, format_duration(a.took)});
    }
    std::printf("applied:\n%s", aligned_columns(lines, {false, false, false, true}).c_str());
    if (applied.size() < recommendations.size()) {
      std::printf("  (interrupted: the rest were not run)\n");
    }
    lines = {{"STEP", "BEFORE", "AFTER", "CHANGE"}};
    for (const char* step : kTimedSteps) {
      auto b = median(before[step]), a = median(after[step]);
      lines.push_back({step, duration_text(b), duration_text(a), change_text(b, a)});
    }
    std::printf("\n%s", aligned_columns(lines, {false, true, true, true}).c_str());
    std::printf(
        "(medians of %d runs: commit, rollback and validate in a throwaway clone, "
        "status in the work tree)\n",
        runs);
  }
  if (scheduled) {
    if (scheduled->registered) {
      std::printf(
          "\nbackground maintenance registered with `git maintenance start` (undo it "
          "with `git maintenance unregister`)\n");
    } else {
      session.error("git maintenance start could not register maintenance (" + scheduled->why_not +
                    "): add these lines with `crontab -e` instead");
      std::printf("\n");
      for (const std::string& line : scheduled->crontab) {
        std::printf("%s\n", printable(line).c_str());
      }
    }
  }
  return code;
}

}  // namespace perfguard::recover_tool
