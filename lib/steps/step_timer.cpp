#include "steps/step_timer.h"

#include <algorithm>

#include "core/clock.h"

namespace perfguard {

StepTimer::StepTimer(std::string step, std::optional<Duration> timeout, Duration kill_grace)
    : start_(std::chrono::steady_clock::now()), timeout_(timeout), kill_grace_(kill_grace) {
  root_.name = std::move(step);
  root_.start_us = now_us();
}

std::int64_t StepTimer::now_us() {
  return now_unix_us();
}

Duration StepTimer::since(std::chrono::steady_clock::time_point t) {
  return elapsed_since(t);
}

std::optional<Duration> StepTimer::remaining() const {
  if (!timeout_) return std::nullopt;
  return std::max(Duration::micros(1), *timeout_ - since(start_));
}

Result<ChildOutcome> StepTimer::run(const std::string& part, ChildCommand command) {
  auto child = start(std::move(command));
  if (!child) return child.error();
  return finish_part(part, *child);
}

Result<RunningChild> StepTimer::start(ChildCommand command) {
  if (received_interrupt() != 0) {  // Ctrl-C between two parts: start no more
    status_ = StepStatus::interrupted;
    return make_error(ExitCode::interrupted, "interrupted");
  }
  command.timeout = remaining();
  command.kill_grace = kill_grace_;
  auto child = spawn(command);
  if (!child) status_ = StepStatus::failed;
  return child;
}

ChildOutcome StepTimer::finish_part(const std::string& part, RunningChild& child) {
  return close_part(part, child, true);
}

ChildOutcome StepTimer::finish_attempt(const std::string& part, RunningChild& child) {
  return close_part(part, child, false);
}

ChildOutcome StepTimer::close_part(const std::string& part, RunningChild& child,
                                   bool failure_stops) {
  ChildOutcome outcome = child.wait();
  Span span;
  span.name = part;
  span.start_us = outcome.start_us;
  span.duration = outcome.wall;
  span.exit_code = outcome.exit_code;
  span.usage = outcome.usage;
  root_.children.push_back(span);
  if (outcome.timed_out) {
    status_ = StepStatus::timeout;
  } else if (outcome.interrupted) {
    status_ = StepStatus::interrupted;
  } else if (outcome.exit_code != 0 && failure_stops) {
    status_ = StepStatus::failed;
  }
  return outcome;
}

StepRecord StepTimer::finish(std::optional<Duration> threshold, bool warn_only) {
  root_.duration = since(start_);
  for (const auto& child : root_.children) {
    root_.usage.cpu_user_us += child.usage.cpu_user_us;
    root_.usage.cpu_sys_us += child.usage.cpu_sys_us;
    root_.usage.max_rss_kb = std::max(root_.usage.max_rss_kb, child.usage.max_rss_kb);
  }
  StepRecord record;
  record.step = root_.name;
  record.threshold = threshold;
  record.status = status_;
  if (status_ == StepStatus::ok && threshold && root_.duration > *threshold) {
    record.status = StepStatus::breach;
  }
  record.exit_code = to_int(exit_code_for(record.status, warn_only));
  record.root = std::move(root_);
  return record;
}

ExitCode exit_code_for(StepStatus status, bool warn_only) {
  switch (status) {
    case StepStatus::ok:
      return ExitCode::ok;
    case StepStatus::breach:
      return warn_only ? ExitCode::ok : ExitCode::breach;
    case StepStatus::failed:
      return ExitCode::step_failed;
    case StepStatus::timeout:
      return ExitCode::timeout;
    case StepStatus::interrupted:
      // 130 whichever signal it was (SIGINT, SIGTERM, a hang-up's SIGHUP): the code says
      // what became of the step (stopped, recorded as interrupted, nothing left running),
      // the same in every tool, so a script tests one number; 128+SIGHUP would say only
      // how the news came.
      return ExitCode::interrupted;
  }
  return ExitCode::step_failed;
}

}  // namespace perfguard
