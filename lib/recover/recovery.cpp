#include "recover/recovery.h"

#include <algorithm>
#include <thread>

#include "core/clock.h"
#include "git/git.h"
#include "process/runner.h"
#include "steps/step_timer.h"

namespace perfguard {

namespace {

using Clock = std::chrono::steady_clock;

// At most this much of the service's output is kept with the record.
constexpr std::size_t kOutputKept = 2048;

std::string tail(const std::string& text) {
  if (text.size() <= kOutputKept) return text;
  return "…" + text.substr(text.size() - kOutputKept);
}

Span span_of(const std::string& name, const ChildOutcome& outcome) {
  Span span;
  span.name = name;
  span.start_us = outcome.start_us;
  span.duration = outcome.wall;
  span.exit_code = outcome.exit_code;
  span.usage = outcome.usage;
  return span;
}

// The status a part's child left the recovery in; ok when it succeeded.
StepStatus status_of(const ChildOutcome& outcome) {
  if (outcome.interrupted) return StepStatus::interrupted;
  if (outcome.timed_out) return StepStatus::timeout;
  return outcome.exit_code == 0 ? StepStatus::ok : StepStatus::failed;
}

std::string exit_text(const ChildOutcome& outcome, Duration timeout) {
  if (outcome.timed_out) return "killed at its " + format_duration(timeout) + " timeout";
  if (outcome.interrupted) return "interrupted";
  if (outcome.signal) return "killed by signal " + std::to_string(*outcome.signal);
  return "exited " + std::to_string(outcome.exit_code);
}

ChildCommand service_command(const Repository& repo, const CommandSpec& spec,
                             const RecoveryOptions& options, Duration timeout) {
  ChildCommand cmd;
  cmd.argv = without_needless_shell(spec.argv);
  cmd.cwd = repo.work_tree() ? *repo.work_tree() : repo.git_dir();
  cmd.out = cmd.err = options.service_output;
  cmd.timeout = timeout;
  cmd.kill_grace = options.rollback.kill_grace;
  return cmd;
}

// What is left of `budget` since `started`, never less than a millisecond.
Duration left_of(Duration budget, Clock::time_point started) {
  return Duration::micros(std::max<std::int64_t>(budget.us - elapsed_since(started).us, 1000));
}

}  // namespace

const char* to_string(RecoveryOutcome outcome) {
  switch (outcome) {
    case RecoveryOutcome::rollback_failed:
      return "rollback failed";
    case RecoveryOutcome::restart_failed:
      return "restart failed";
    case RecoveryOutcome::health_failed:
      return "health check failed";
    case RecoveryOutcome::healthy:
      break;
  }
  return "healthy";
}

Result<RecoveryRun> run_recovery(const Repository& repo, RecoveryOptions options,
                                 Clock::time_point started, std::int64_t started_us) {
  RecoveryRun run;
  Span root;
  root.name = "recover";
  root.start_us = started_us;
  Span preflight;
  preflight.name = "preflight";
  preflight.start_us = started_us;
  preflight.duration = elapsed_since(started);

  // A part's hard limit: its own, within what is left of the recovery's.
  auto within = [&](std::optional<Duration> own) -> std::optional<Duration> {
    if (!options.timeout) return own;
    Duration left = left_of(*options.timeout, started);
    return own ? std::min(*own, left) : left;
  };

  RollbackOptions rollback = options.rollback;
  rollback.target = options.target.oid;
  rollback.validate = true;
  rollback.rollback_timeout = within(rollback.rollback_timeout);
  rollback.validate_timeout = within(rollback.validate_timeout);
  auto rolled = options.plan ? run_rollback(repo, std::move(*options.plan), rollback)
                             : run_rollback(repo, rollback);
  if (!rolled) return rolled.error();  // refused or failed before anything changed
  run.snapshot = rolled->snapshot;
  root.children.push_back(preflight);

  StepStatus status = StepStatus::ok;
  // perf-rollback's two steps become parts: its snapshot, the reset, the validation.
  const StepRecord& rolled_back = rolled->records.front();
  Span reset;
  reset.name = "rollback";
  for (const Span& part : rolled_back.root.children) {
    if (part.name == "snapshot") {
      root.children.push_back(part);
    } else {
      if (reset.children.empty()) reset.start_us = part.start_us;
      reset.duration = reset.duration + part.duration;
      reset.children.push_back(part);
    }
  }
  root.children.push_back(reset);
  if (rolled_back.status != StepStatus::ok && rolled_back.status != StepStatus::breach) {
    status = rolled_back.status;
    run.outcome = RecoveryOutcome::rollback_failed;
    run.failure = "the rollback to " + options.target.ref + " failed" +
                  (rolled->git_error.empty() ? "" : ": " + rolled->git_error);
  }
  if (rolled->records.size() > 1) {
    const StepRecord& validated = rolled->records[1];
    Span validate = validated.root;
    if (status == StepStatus::ok && options.verify && validated.status == StepStatus::ok) {
      auto fsck = git_command(repo, {"fsck", "--connectivity-only", "--no-progress"});
      fsck.out = fsck.err = options.rollback.git_output;
      fsck.timeout = within(options.rollback.validate_timeout);
      fsck.kill_grace = options.rollback.kill_grace;
      auto outcome = run_child(fsck);
      if (!outcome) return outcome.error();
      validate.children.push_back(span_of("fsck", *outcome));
      validate.duration = validate.duration + outcome->wall;
      if (!outcome->success()) {
        status = status_of(*outcome);
        run.outcome = RecoveryOutcome::rollback_failed;
        run.failure = "git fsck --connectivity-only " + exit_text(*outcome, Duration{}) +
                      ": the repository is missing objects";
      }
    }
    root.children.push_back(validate);
    if (status == StepStatus::ok && validated.status != StepStatus::ok &&
        validated.status != StepStatus::breach) {
      status = validated.status;
      run.outcome = RecoveryOutcome::rollback_failed;
      run.failure = "the validation after the rollback failed" +
                    (rolled->git_error.empty() ? "" : ": " + rolled->git_error);
    }
  }

  std::string output;
  if (status == StepStatus::ok && options.restart && received_interrupt() == 0) {
    const Duration timeout = within(options.restart_timeout).value_or(options.restart_timeout);
    auto outcome = run_child(service_command(repo, *options.restart, options, timeout));
    if (!outcome) return outcome.error();
    root.children.push_back(span_of("restart", *outcome));
    output += outcome->out + outcome->err;
    if (!outcome->success()) {
      status = status_of(*outcome);
      run.outcome = RecoveryOutcome::restart_failed;
      run.failure = "the restart command " + exit_text(*outcome, timeout);
    }
  }

  if (status == StepStatus::ok && options.health && received_interrupt() == 0) {
    // Tried until it passes or its time is up: by default, what is left of the threshold.
    const Clock::time_point health_started = Clock::now();
    const Duration budget = options.health_timeout.value_or(left_of(options.threshold, started));
    const std::optional<Duration> hard = within(budget);
    const Duration limit = hard.value_or(budget);
    Span health;
    health.name = "health";
    health.start_us = now_unix_us();
    std::optional<ChildOutcome> last;
    for (;;) {
      ++run.health_tries;
      auto outcome = run_child(
          service_command(repo, *options.health, options, left_of(limit, health_started)));
      if (!outcome) return outcome.error();
      health.exit_code = outcome->exit_code;
      last = std::move(*outcome);
      if (last->success() || last->interrupted) break;
      const Duration left = Duration::micros(limit.us - elapsed_since(health_started).us);
      if (left.us <= 0) break;
      std::this_thread::sleep_for(
          std::chrono::microseconds(std::min(options.health_interval.us, left.us)));
      if (received_interrupt() != 0) break;
    }
    health.duration = elapsed_since(health_started);
    root.children.push_back(health);
    output += last->out + last->err;
    if (last->interrupted || received_interrupt() != 0) {
      status = StepStatus::interrupted;
      run.outcome = RecoveryOutcome::health_failed;
      run.failure = "the health check was interrupted";
    } else if (!last->success()) {
      status = StepStatus::failed;
      run.outcome = RecoveryOutcome::health_failed;
      run.failure = "the health check did not pass in " + format_duration(limit) + " (" +
                    std::to_string(run.health_tries) + (run.health_tries == 1 ? " try" : " tries") +
                    ", the last " + exit_text(*last, limit) + ")";
    }
  }
  if (status == StepStatus::ok && received_interrupt() != 0) status = StepStatus::interrupted;

  root.duration = elapsed_since(started);
  if (status == StepStatus::ok && root.duration.us > options.threshold.us) {
    status = StepStatus::breach;
  }
  run.service_output = tail(output);

  StepRecord& record = run.record;
  record.step = "recover";
  record.root = std::move(root);
  record.status = status;
  record.threshold = options.threshold;
  record.exit_code = to_int(exit_code_for(status, options.warn_only));
  record.head_before = rolled_back.head_before;
  record.head_after = rolled->records.back().head_after;
  if (auto after = repo.head()) record.head_after = after->oid;
  record.labels = {
      {"target", options.target.ref}, {"target_oid", options.target.oid},
      {"why", options.target.why},    {"snapshot", run.snapshot ? run.snapshot->id : ""},
      {"mode", options.mode},         {"outcome", to_string(run.outcome)}};
  if (!run.failure.empty()) record.labels.emplace_back("failure", run.failure);
  if (run.health_tries > 0)
    record.labels.emplace_back("health_tries", std::to_string(run.health_tries));
  if (!run.service_output.empty()) record.labels.emplace_back("service_output", run.service_output);
  run.started = started;
  run.warn_only = options.warn_only;
  return run;
}

void close_record_span(const RecoveryRun& run, StepRecord& record) {
  Span& root = record.root;
  const Duration total = elapsed_since(run.started);
  Span span;
  span.name = "record";
  span.start_us = root.start_us + root.duration.us;
  span.duration = Duration::micros(std::max<std::int64_t>(total.us - root.duration.us, 0));
  root.children.push_back(std::move(span));
  root.duration = std::max(root.duration, total);
  if (record.status == StepStatus::ok && record.threshold &&
      root.duration.us > record.threshold->us) {
    record.status = StepStatus::breach;
    record.exit_code = to_int(exit_code_for(record.status, run.warn_only));
  }
}

}  // namespace perfguard
