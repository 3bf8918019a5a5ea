#pragma once

namespace perfguard {

// The exit codes every tool shares (DESIGN.md, "Command-line conventions").
enum class ExitCode : int {
  ok = 0,
  step_failed = 1,   // the git step or a user command failed
  usage = 2,         // usage or configuration error; nothing was changed
  breach = 3,        // threshold breached
  store = 4,         // the metrics store could not be read or written
  refused = 5,       // refused for safety: a precondition failed
  timeout = 124,     // a step was killed at its hard --timeout
  interrupted = 130  // interrupted by the user
};

constexpr int to_int(ExitCode code) {
  return static_cast<int>(code);
}

// How severe a code is when one run has several outcomes (a breached step whose record
// could not be stored exits 3, not 4): the step's own result outranks the store's.
constexpr int severity(ExitCode code) {
  switch (code) {
    case ExitCode::ok:
      return 0;
    case ExitCode::store:
      return 1;
    case ExitCode::breach:
      return 2;
    case ExitCode::refused:
      return 3;
    case ExitCode::usage:
      return 4;
    case ExitCode::step_failed:
      return 5;
    case ExitCode::timeout:
      return 6;
    case ExitCode::interrupted:
      return 7;
  }
  return 0;
}

constexpr ExitCode most_severe(ExitCode a, ExitCode b) {
  return severity(a) >= severity(b) ? a : b;
}

}  // namespace perfguard
