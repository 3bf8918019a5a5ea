#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/duration.h"
#include "core/exit_code.h"
#include "process/runner.h"
#include "trace/record.h"

namespace perfguard {

// Times one step as a root span whose children are its parts. Parts share the step's
// hard timeout: each child gets what remains of it.
class StepTimer {
 public:
  StepTimer(std::string step, std::optional<Duration> timeout, Duration kill_grace);

  // Runs one timed part. A part that fails, times out or is interrupted stops the step:
  // `stopped()` turns true and the step's status says why.
  Result<ChildOutcome> run(const std::string& part, ChildCommand command);
  // The same in two halves, for a caller that works while the part runs.
  Result<RunningChild> start(ChildCommand command);
  ChildOutcome finish_part(const std::string& part, RunningChild& child);
  // A part the caller has another way to do when it fails: timed like the others, and a
  // timeout or interrupt stops the step, but a nonzero exit does not.
  ChildOutcome finish_attempt(const std::string& part, RunningChild& child);

  // Times an in-process part (for example the safety snapshot, which runs its own children).
  template <class F>
  auto time(const std::string& part, F&& body) {
    auto start_wall = now_us();
    auto start = std::chrono::steady_clock::now();
    auto result = body();
    Span span;
    span.name = part;
    span.start_us = start_wall;
    span.duration = since(start);
    root_.children.push_back(span);
    return result;
  }

  // Marks the step failed by something other than a child's exit (e.g. no snapshot).
  void fail() { status_ = StepStatus::failed; }
  bool stopped() const { return status_ != StepStatus::ok; }
  std::optional<Duration> remaining() const;

  // Closes the root span and decides the status: the parts' outcome, else a breach when
  // the whole step took longer than `threshold`.
  // `warn_only`: a breach is recorded as such but exits 0.
  StepRecord finish(std::optional<Duration> threshold, bool warn_only = false);

 private:
  static std::int64_t now_us();
  static Duration since(std::chrono::steady_clock::time_point t);
  ChildOutcome close_part(const std::string& part, RunningChild& child, bool failure_stops);

  Span root_;
  std::chrono::steady_clock::time_point start_;
  std::optional<Duration> timeout_;
  Duration kill_grace_;
  StepStatus status_ = StepStatus::ok;
};

// The exit code a step's status calls for; `warn_only` turns a breach into success.
ExitCode exit_code_for(StepStatus status, bool warn_only = false);

}  // namespace perfguard
