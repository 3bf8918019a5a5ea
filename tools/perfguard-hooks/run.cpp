// perfguard-hooks run HOOK [ARGS…]: perfguard's part of a hook. The commit hooks stamp the
// moments of a person's `git commit` and post-commit records it; post-merge, post-checkout and
// post-rewrite record what git did, timed from its start; pre-push runs the alert gate. Only
// the gate may fail (exit 1, while a critical alert is open); everything else exits 0, with
// at most one warning line, whatever happens to the timing, the config or the store.

#include <algorithm>
#include <cstdio>
#include <exception>

#include "alerts/pause_mark.h"
#include "cli/external.h"
#include "hooks.h"
#include "hooks/commit_stamps.h"
#include "hooks/git_process.h"
#include "hooks/hook_names.h"
#include "hooks/hook_records.h"

namespace fs = std::filesystem;

namespace perfguard::hooks_tool {

namespace {

// A store locked by another writer holds the commit up for no longer than this.
constexpr Duration kHookBusyTimeout = Duration::seconds(1);
constexpr Duration kGateTimeout = Duration::seconds(30);

void warn(const std::string& message) {
  std::fprintf(stderr, "%s: warning: %s\n", kTool.c_str(), message.c_str());
}

Result<Repository> repository_here() {
  std::error_code ec;
  const fs::path here = fs::current_path(ec);
  if (ec) return make_error(ExitCode::usage, "cannot find the current directory");
  return Repository::discover(here);
}

// pre-commit, prepare-commit-msg, commit-msg: a stamp, nothing else (no config, no store).
void stamp(const std::string& hook, const GitProcess& git) {
  const Stamp now = stamp_now();
  auto repo = repository_here();
  if (!repo) return;
  Status done;
  if (hook == "pre-commit") {
    auto head = repo->head();
    done = start_commit_stamps(repo->perfguard_dir(), git, head ? head->oid : "", now);
  } else {
    done = add_commit_stamp(repo->perfguard_dir(), git,
                            hook == "prepare-commit-msg" ? "before-editor" : "after-editor", now);
  }
  if (!done) warn(done.error().message + ": this commit is not timed");
}

// Appends the record through the tools' own path (the journal when the store cannot be
// written); the step is never failed by it.
void record(ToolSession& session, StepRecord record) {
  if (auto head = session.repository.head()) record.head_after = head->oid;
  session.config.busy_timeout = std::min(session.config.busy_timeout, kHookBusyTimeout);
  std::vector<StepRecord> records = {std::move(record)};
  (void)record_steps(session, records, ExitCode::ok);
  ship_later(session);
}

void record_commit(const CommonOptions& common, const GitProcess& git) {
  const Stamp now = stamp_now();
  auto repo = repository_here();
  if (!repo) return;
  auto stamps = take_commit_stamps(repo->perfguard_dir(), git);
  if (!stamps) return;  // --no-verify, a rebase's pick, a cherry-pick: not a timed commit
  auto session = open_session(kTool, common);
  if (!session) {
    warn(session.error().message + ": this commit was not recorded");
    return;
  }
  auto commit = commit_record(*stamps, now, session->config.thresholds.commit);
  if (!commit) return;
  const bool breached = commit->status == StepStatus::breach;
  const Duration took = commit->root.duration;
  record(*session, std::move(*commit));
  if (breached && !session->paused) {
    warn("commit took " + format_duration(took) + ", over its " +
         format_duration(session->config.thresholds.commit) +
         " threshold (not counting the editor)");
  }
}

void record_git_step(const CommonOptions& common, const std::string& hook,
                     const std::vector<std::string>& args, const GitProcess& git) {
  const Stamp now = stamp_now();
  auto step = step_closed_by(hook, args, git);
  if (!step) return;
  auto session = open_session(kTool, common);
  if (!session) {
    warn(session.error().message + ": this " + *step + " was not recorded");
    return;
  }
  StepRecord r = git_process_record(*step, git, now);
  if (hook == "post-checkout") r.head_before = args[0];
  record(*session, std::move(r));
}

int gate_push(const CommonOptions& common) {
  if (auto repo = repository_here(); repo && read_pause_mark(repo->perfguard_dir())) {
    return 0;  // an emergency: nothing blocks
  }
  auto perf_alerts = locate_program("perf-alerts");
  if (!perf_alerts) {
    warn("perf-alerts is not installed: the push goes on without the alert gate");
    return 0;
  }
  ChildCommand check;
  check.argv = {perf_alerts->string()};
  if (!common.db.empty()) check.argv.insert(check.argv.end(), {"--db", common.db});
  if (!common.config_file.empty()) {
    check.argv.insert(check.argv.end(), {"--config", common.config_file});
  }
  check.argv.insert(check.argv.end(), {"check", "--fail-on", "critical", "-q"});
  check.stdin_data = "";  // the hook's stdin is the chained pre-push hook's
  check.out = StreamMode::to_stderr;
  check.timeout = kGateTimeout;
  auto outcome = run_child(check);
  if (!outcome) {
    warn(outcome.error().message + ": the push goes on without the alert gate");
    return 0;
  }
  if (outcome->exit_code == to_int(ExitCode::breach) && !outcome->timed_out) {
    std::fprintf(stderr,
                 "%s: push blocked: a critical alert is open (perf-alerts list; ack or snooze it, "
                 "or push with --no-verify)\n",
                 kTool.c_str());
    return 1;
  }
  if (!outcome->success()) {
    warn("perf-alerts check failed (exit " + std::to_string(outcome->exit_code) +
         "): the push goes on without the alert gate");
  }
  return 0;
}

}  // namespace

int run(const CommonOptions& common, const std::string& hook, const std::vector<std::string>& args,
        bool inside_tool) {
  if (find_hook_name(hook) == nullptr) {
    return report_error(
        kTool, make_error(ExitCode::usage, "'" + hook + "' is not a hook perfguard runs (see " +
                                               kTool + " --help)"));
  }
  if (inside_tool) return 0;  // perf-commit and the others record their own steps
  try {
    if (hook == "pre-push") return gate_push(common);
    auto git = find_git_process();
    if (!git) return 0;  // not run by git (by hand, or from a test): nothing to time
    if (hook == "pre-commit" || hook == "prepare-commit-msg" || hook == "commit-msg") {
      stamp(hook, *git);
    } else if (hook == "post-commit") {
      record_commit(common, *git);
    } else {
      record_git_step(common, hook, args, *git);
    }
  } catch (const std::exception& e) {
    warn(std::string(e.what()) + ": " + hook + " went on without perfguard");
  }
  return 0;
}

}  // namespace perfguard::hooks_tool
