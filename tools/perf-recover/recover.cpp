// The recovery: preflight (the pause mark of --emergency, the target, the plan, the
// confirmation), then lib/recover's run, the record and the result. What to do when it did
// not end healthy is printed as the escalation path.
#include "recover.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "alerts/channels.h"
#include "alerts/pause_mark.h"
#include "core/clock.h"
#include "core/file_lock.h"
#include "output/json.h"
#include "output/table.h"
#include "recover/auto_decision.h"
#include "recover/recovery.h"

namespace perfguard::recover_tool {

namespace {

std::string command_text(const CommandSpec& spec) {
  if (spec.shell && spec.argv.size() == 3) return spec.argv[2];
  std::string text;
  for (const auto& a : spec.argv) text += (text.empty() ? "" : " ") + a;
  return text;
}

std::string short_oid(const std::string& oid) {
  return oid.substr(0, 12);
}

std::string count_text(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The plan for people, printed before anything changes. `changes` says what the snapshot
// holds besides HEAD: the local changes `git status` counts for --dry-run, else (no git
// process before the recovery) the tracked files the rollback's own scan found changed, or,
// when that scan runs alongside the reset, that it holds whatever local changes it finds.
std::string plan_text(const RecoveryOptions& o, const RollbackPlan& p, const std::string& changes,
                      bool emergency) {
  std::ostringstream out;
  out << "recovery plan\n";
  out << "  target    " << short_oid(o.target.oid) << " (" << printable(o.target.why) << ")\n";
  out << "  snapshot  HEAD " << short_oid(p.head.oid)
      << (p.head.detached() ? " (detached)" : " on " + printable(p.head.branch())) << changes
      << ", kept under refs/perfguard/snapshots/ (perf-recover undo puts it back)\n";
  out << "  rollback  git";
  for (const auto& a : p.git_args) out << ' ' << printable(a);
  out << "\n  validate  git status; git log --oneline -5"
      << (o.verify ? "; git fsck --connectivity-only" : "") << "\n";
  if (o.restart) {
    out << "  restart   " << printable(command_text(*o.restart)) << " (timeout "
        << format_duration(o.restart_timeout) << ")\n";
  }
  if (o.health) {
    out << "  health    " << printable(command_text(*o.health)) << " (every "
        << format_duration(o.health_interval) << ", up to "
        << (o.health_timeout ? format_duration(*o.health_timeout)
                             : "what is left of " + format_duration(o.threshold))
        << ")\n";
  }
  if (emergency) out << "  mode      emergency: monitoring paused until `perf-recover resume`\n";
  return out.str();
}

// The plan for scripts (--dry-run in a machine format): one record.
void write_plan(const RecoveryOptions& o, const RollbackPreview& p, Format format) {
  std::string command = "git";
  for (const auto& a : p.git_args) command += " " + a;
  Table table;
  table.columns = {"action",     "head", "branch",  "local_changes", "target",
                   "target_oid", "why",  "command", "restart",       "health"};
  table.rows.push_back({"recover", p.head.oid, p.head.branch(),
                        static_cast<std::int64_t>(p.local_changes), o.target.ref, o.target.oid,
                        o.target.why, command, o.restart ? Cell(command_text(*o.restart)) : Cell(),
                        o.health ? Cell(command_text(*o.health)) : Cell()});
  write_table(stdout, format == Format::json ? Format::jsonl : format, table, "plan");
}

// Asks on the terminal; without one, --yes is the only way to go on.
Status confirm(const RecoveryTarget& target) {
  if (!::isatty(STDIN_FILENO) || !::isatty(STDERR_FILENO)) {
    return make_error(ExitCode::refused,
                      "no terminal to confirm the recovery on: add --yes to recover (or "
                      "--dry-run to see the plan); nothing was changed");
  }
  std::fprintf(stderr, "Recover to %s? [y/N] ", short_oid(target.oid).c_str());
  std::fflush(stderr);
  std::string answer;
  if (!std::getline(std::cin, answer) || (answer != "y" && answer != "Y" && answer != "yes")) {
    return make_error(ExitCode::refused, "not confirmed; nothing was changed");
  }
  return {};
}

// What a person does next when the recovery did not end healthy.
void print_escalation(const RecoveryRun& run) {
  const std::string id = run.snapshot ? run.snapshot->id : "";
  std::fprintf(stderr,
               "escalation:\n"
               "  1. automated recovery: done, and it did not end healthy (%s)\n"
               "  2. manual assessment: the service's output is kept with the record "
               "(perf-recover list --json); look at git status and the service\n"
               "  3. full restoration: perf-recover undo %s puts HEAD, the index and every "
               "file back as they were before\n"
               "  4. integrity recovery: perf-recover verify, then git fsck --full; the "
               "snapshots are under refs/perfguard/snapshots/\n",
               printable(run.failure).c_str(), id.c_str());
}

// The store's verdicts on the repository's commits, for the last known good. A missing
// store says nothing; one that cannot be read (corrupt, locked) is said in the plan. In an
// emergency it is not waited for.
Result<std::vector<HeadVerdict>> read_verdicts(const ToolSession& session, bool emergency) {
  if (!std::filesystem::exists(session.store_path())) return std::vector<HeadVerdict>{};
  Duration wait = emergency ? Duration{} : session.config.busy_timeout;
  auto store = Store::open({session.store_path(), wait, false});
  if (!store) return store.error();
  return store->head_verdicts(session.context.repo);
}

// --auto: whether to act, from the store's alerts and runs ([recover.auto]). Nothing to do,
// a person to decide, or a hold: said on one line, and no recovery (nothing is recorded, so
// asking again costs the cooldown nothing). The decision goes to the alerts too
// (manual_recovery_finding): a person to decide is told through the alerts' channels. Which
// alert that is, when one is open.
struct Decided {
  AutoDecision decision;
  std::optional<std::int64_t> waiting_alert;
};

Result<Decided> decide(const ToolSession& session) {
  Decided out;
  if (!std::filesystem::exists(session.store_path())) {
    out.decision.reason = "no trigger: nothing has been recorded in this repository";
    return out;
  }
  auto store = Store::open({session.store_path(), session.config.busy_timeout, false});
  if (!store) return store.error();
  const std::int64_t now = now_unix_us();
  auto decision = decide_auto(*store, session.config.recover, session.context, now);
  if (!decision) return decision.error();
  out.decision = std::move(*decision);
  if (session.paused || !session.config.alerts.enabled) return out;
  auto finding = manual_recovery_finding(out.decision, session.context, now);
  if (!finding) return out;
  auto changes =
      store->apply_findings({*finding}, apply_options(session.config, session.context.host, now));
  if (!changes) {
    // A store that can be read but not written still decides.
    session.warn(changes.error().message + "; the decision was not told to the alerts");
    return out;
  }
  for (const AlertChange& c : *changes) {
    if (c.kind != AlertChange::Kind::resolved) out.waiting_alert = c.alert.id;
  }
  send_notifications_later(session, *changes);
  return out;
}

// --emergency: the pause mark, before anything else, so that from here on nothing blocks
// whatever else goes wrong; and the store is not waited for when the record is kept.
void pause_monitoring(ToolSession& session, std::int64_t now_us) {
  const std::string by = session.context.user.empty() ? "unknown" : session.context.user;
  if (auto marked = write_pause_mark(session.repository.perfguard_dir(),
                                     {now_us, by, "perf-recover --emergency"});
      !marked) {
    session.warn(marked.error().message + "; recovering all the same");
  }
  session.paused = true;
  session.config.busy_timeout = Duration::millis(100);
}

// --auto: whether to recover now; says why not when not.
Result<bool> decide_to_act(const ToolSession& session) {
  auto decided = decide(session);
  if (!decided) return decided.error();
  const AutoDecision& decision = decided->decision;
  const bool manual = decision.action == RecoverAction::manual;
  if (decision.action == RecoverAction::automatic) {
    std::printf("recovering: %s\n", printable(decision.reason).c_str());
    return true;
  }
  if (!session.options.quiet || manual) {
    std::printf("%s: %s\n",
                manual               ? "not recovering, a person decides"
                : decision.held_back ? "not recovering now"
                                     : "not recovering",
                printable(decision.reason).c_str());
  }
  if (manual && decided->waiting_alert) {
    std::printf("to recover: perf-recover --yes (alert #%lld tells the alerts' channels)\n",
                static_cast<long long>(*decided->waiting_alert));
  } else if (manual) {
    std::printf("to recover: perf-recover --yes\n");
  }
  return false;
}

// One recovery at a time in a repository: two cron jobs deciding at once must not both
// recover. The lock is held from the decision to the record; a recovery that finds it taken
// changes nothing. A lock file that cannot be made (a read-only .git) does not stop a
// recovery: it goes on unguarded, and says so.
struct RecoveryGuard {
  std::optional<FileLock> lock;
  bool taken_by_another = false;
  std::string holder;  // "pid 1234", or "" when unknown
};

RecoveryGuard guard_recovery(const ToolSession& session) {
  RecoveryGuard guard;
  const std::filesystem::path dir = session.repository.perfguard_dir();
  std::error_code ec;
  if (std::filesystem::create_directories(dir, ec)) ::chmod(dir.c_str(), 0700);
  const std::filesystem::path path = dir / "recover.lock";
  auto lock = FileLock::try_take(path);
  if (!lock) {
    session.warn(lock.error().message +
                 ": recovering without the guard against a second "
                 "recovery at the same time");
    return guard;
  }
  if (*lock) {
    guard.lock = std::move(*lock);
    return guard;
  }
  guard.taken_by_another = true;
  if (auto pid = FileLock::holder(path)) guard.holder = "pid " + std::to_string(*pid);
  return guard;
}

std::string running_text(const RecoveryGuard& guard) {
  return "another recovery is running in this repository" +
         (guard.holder.empty() ? std::string() : " (" + guard.holder + ")");
}

// --dry-run: the plan, with the local changes git status counts; nothing changes.
void print_dry_run(const ToolSession& session, const RecoveryOptions& options,
                   const RollbackPlan& plan) {
  const RollbackPreview preview = preview_rollback(session.repository, plan, options.rollback);
  if (session.format != Format::text) {
    write_plan(options, preview, session.format);
    return;
  }
  const std::size_t n = preview.local_changes;
  const std::string changes =
      n ? " with " + count_text(n, "local change", "local changes") : ", clean";
  std::fputs(plan_text(options, plan, changes, options.mode == "emergency").c_str(), stdout);
}

// The record (with the snapshot and the command that undoes it), and when the recovery did
// not end healthy, which part failed and the escalation path.
void print_result(const ToolSession& session, const RecoveryRun& run,
                  const std::vector<StepRecord>& records, ExitCode code) {
  if (run.snapshot) {
    print_steps(session, records, code, *run.snapshot, "perf-recover undo " + run.snapshot->id);
  } else {
    print_steps(session, records, code);
  }
  if (run.outcome != RecoveryOutcome::healthy) {
    session.error(run.failure);
    print_escalation(run);
  }
}

}  // namespace

void Recover::add_options(CLI::App& app) {
  app.add_option("--to", to, "The commit to recover to (default: the last known good one)")
      ->type_name("REF");
  app.add_option("--restart", restart,
                 "Restart the service with this command (/bin/sh -c; default [recover] restart)")
      ->type_name("CMD");
  app.add_option("--health", health,
                 "Check the service's health with this command until it passes (/bin/sh -c; "
                 "default [recover] health_check)")
      ->type_name("CMD");
  app.add_option("--restart-timeout", restart_timeout, "Kill the restart after this long (5s)")
      ->type_name("DURATION");
  app.add_option("--health-timeout", health_timeout,
                 "Give up on the health check after this long (default: what is left of 10s)")
      ->type_name("DURATION");
  app.add_option("--threshold", threshold, "The recovery's threshold (default 10s)")
      ->type_name("DURATION");
  app.add_option("--timeout", timeout, "Kill a part at this hard limit of the whole (exit 124)")
      ->type_name("DURATION");
  app.add_flag("-y,--yes", yes, "Recover without asking");
  app.add_flag("--dry-run", dry_run, "Print the plan and change nothing");
  app.add_flag("--emergency", emergency,
               "Monitoring off until `perf-recover resume`: nothing blocks, no rule runs, and the "
               "store is never waited for");
  app.add_flag("--auto", automatic,
               "Recover only when a trigger holds ([recover.auto]: open alerts, breaches in a "
               "row), outside the cooldown and under the hourly limit; for cron and CI");
  app.add_flag("--verify", verify, "Also run `git fsck --connectivity-only` after the rollback");
  app.add_flag("--force", force, "Run over a merge, rebase, cherry-pick, revert or bisect");
  app.add_flag("--warn-only", warn_only, "Report a breach but exit 0");
}

Result<RecoveryOptions> Recover::options_from(const ToolSession& session,
                                              const CLI::App& app) const {
  const Config& config = session.config;
  RecoveryOptions options;
  options.threshold = config.thresholds.recover;
  options.timeout = config.timeouts.recover;
  options.restart = config.restart;
  options.health = config.health_check;
  options.restart_timeout = config.recover.restart_timeout;
  options.health_timeout = config.recover.health_timeout;
  options.health_interval = config.recover.health_interval;
  options.verify = verify;
  options.warn_only = warn_only || session.paused || emergency;
  options.mode = emergency ? "emergency" : automatic ? "auto" : "manual";
  options.service_output = session.options.verbose ? StreamMode::tee : StreamMode::capture;
  if (!restart.empty()) options.restart = CommandSpec{{"/bin/sh", "-c", restart}, true};
  if (!health.empty()) options.health = CommandSpec{{"/bin/sh", "-c", health}, true};
  for (auto [flag, text, field] :
       {std::tuple{"--threshold", threshold, &options.threshold},
        std::tuple{"--restart-timeout", restart_timeout, &options.restart_timeout}}) {
    auto d = limit_flag_if_given(app, flag, text);
    if (!d) return d.error();
    if (*d) *field = **d;
  }
  for (auto [flag, text, field] :
       {std::tuple{"--timeout", timeout, &options.timeout},
        std::tuple{"--health-timeout", health_timeout, &options.health_timeout}}) {
    auto d = limit_flag_if_given(app, flag, text);
    if (!d) return d.error();
    if (*d) *field = **d;
  }

  RollbackOptions& rollback = options.rollback;
  rollback = rollback_options(session);
  rollback.force = force;
  rollback.warn_only = true;  // the recovery's own threshold is the one enforced
  return options;
}

Result<RollbackPlan> Recover::plan(const ToolSession& session, RecoveryOptions& options) const {
  auto head = session.repository.head();
  if (!head) return head.error();
  if (head->unborn()) {
    return make_error(ExitCode::refused,
                      "HEAD has no commit yet: there is nothing to recover to (commit first)");
  }
  auto verdicts = to.empty() ? read_verdicts(session, emergency)
                             : Result<std::vector<HeadVerdict>>(std::vector<HeadVerdict>{});
  auto target = choose_target(session.repository, *head, to, verdicts);
  if (!target) return target.error();
  options.target = *target;
  options.rollback.target = target->oid;
  options.rollback.snapshot_reason = "before recovery to " + target->ref;
  // Nobody to ask: the tracked files are scanned while the reset runs, where they can be.
  return plan_rollback(session.repository, options.rollback,
                       yes && !dry_run ? TreeScan::alongside_reset : TreeScan::now);
}

Result<ExitCode> Recover::run(ToolSession& session, const CLI::App& app,
                              std::chrono::steady_clock::time_point started,
                              std::int64_t started_us) {
  // Every flag is read before anything is done: a bad one changes nothing, the pause mark
  // included.
  auto options = options_from(session, app);
  if (!options) return options.error();
  if (emergency && !dry_run) pause_monitoring(session, started_us);
  RecoveryGuard guard;
  if (!dry_run) guard = guard_recovery(session);
  if (guard.taken_by_another && automatic) {
    if (!session.options.quiet)
      std::printf("not recovering now: %s\n", running_text(guard).c_str());
    return ExitCode::ok;
  }
  if (guard.taken_by_another) {
    return make_error(ExitCode::refused, running_text(guard) +
                                             "; nothing was changed (wait for it to end, then "
                                             "see perf-recover list)");
  }
  if (automatic) {
    auto act = decide_to_act(session);
    if (!act) return act.error();
    if (!*act) return ExitCode::ok;
    yes = true;  // made for cron, CI and timers: nobody to ask
  }

  // The target, and the plan: everything perf-rollback checks first, nothing changed yet.
  auto plan = this->plan(session, *options);
  if (!plan) return plan.error();
  if (dry_run) {
    print_dry_run(session, *options, *plan);
    return ExitCode::ok;
  }
  if (session.format == Format::text && !session.options.quiet) {
    const std::size_t n = plan->scope.scan.unproven.size();
    const std::string changes =
        plan->scope.before_scan ? " with any local changes"
        : n ? " with " + count_text(n, "changed tracked file", "changed tracked files")
            : "";
    std::fputs(plan_text(*options, *plan, changes, emergency).c_str(), stdout);
    std::fflush(stdout);
  }
  // Asked: the tree may change while the question waits, so the rollback scans it again.
  // Not asked: the plan of a moment ago is the snapshot's.
  if (yes) {
    options->plan = std::move(*plan);
  } else if (auto ok = confirm(options->target); !ok) {
    return ok.error();
  }

  options->rollback.on_git_started = [&] { session.open_store_early(); };
  auto run = run_recovery(session.repository, std::move(*options), started, started_us);
  if (!run) return run.error();
  std::vector<StepRecord> records = {run->record};
  ExitCode code = record_steps(session, records, ExitCode{run->record.exit_code}, run->snapshot,
                               [&] { close_record_span(*run, records.front()); });
  // The wait for the store may have taken the recovery past its threshold.
  code = most_severe(code, ExitCode{records.front().exit_code});
  print_result(session, *run, records, code);
  ship_later(session);
  return code;
}

}  // namespace perfguard::recover_tool
