#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/result.h"
#include "trace/span.h"

namespace perfguard {

// What happens to one of the child's output streams.
enum class StreamMode {
  inherit,    // the child writes to our stream directly
  to_stderr,  // the child's stream goes to our stderr (keeps our stdout clean for data)
  capture,    // collected into ChildOutcome::out / err only
  tee,        // collected, and copied live to our stderr
  discard     // /dev/null
};

// The one way perfguard starts a child process (git, restart and health commands,
// notifiers): an argument vector, never a shell string.
struct ChildCommand {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH when it has no slash
  std::optional<std::filesystem::path> cwd;
  std::map<std::string, std::string> env_set;  // added to (or replacing) our environment
  std::vector<std::string> env_unset;
  StreamMode out = StreamMode::inherit;
  StreamMode err = StreamMode::inherit;
  std::optional<std::string> stdin_data;  // fed to the child's stdin; otherwise inherited
  std::optional<Duration> timeout;        // SIGTERM to the process group, then SIGKILL
  Duration kill_grace = Duration::seconds(2);
};

struct ChildOutcome {
  int exit_code = 0;          // exit status, or 128+signal when killed by a signal
  std::optional<int> signal;  // the signal that ended it, if any
  bool timed_out = false;     // killed by us at its timeout
  bool interrupted = false;   // we forwarded a SIGINT/SIGTERM/SIGHUP we received to it, or
                              // it had the terminal and Ctrl-C or a hang-up there ended it
  std::int64_t start_us = 0;  // wall clock (Unix epoch µs) when it was started
  Duration wall;              // monotonic, from spawn to reaped
  ResourceUsage usage;        // rusage of the child (and its waited-for descendants)
  std::string out, err;       // with StreamMode::capture / tee

  bool success() const { return exit_code == 0 && !timed_out && !interrupted; }
};

// A started child. It runs in its own process group, so a timeout can end the whole tree
// (a hook and what it started) and Ctrl-C is forwarded to it rather than lost. When we are
// the terminal's foreground process group, the child's group is made the foreground one
// until it ends (a hook or editor can read the terminal; Ctrl-Z stops it and us, `fg` goes
// on), and the terminal is given back to us after it, also after a timeout or interrupt.
// In the background, or without a terminal, the terminal is left alone.
class RunningChild {
 public:
  RunningChild(RunningChild&&) noexcept;
  RunningChild& operator=(RunningChild&&) noexcept;
  ~RunningChild();  // kills and reaps a child that was never waited for

  // Waits for the child to exit, pumping its pipes without risk of deadlock and enforcing
  // the timeout.
  ChildOutcome wait();
  int pid() const;

  struct State;

 private:
  friend Result<RunningChild> spawn(const ChildCommand& command);
  explicit RunningChild(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Starts the child. Fails (ExitCode::step_failed) when the program cannot be found or
// started; the message names the program.
Result<RunningChild> spawn(const ChildCommand& command);

// spawn + wait.
Result<ChildOutcome> run_child(const ChildCommand& command);

// Installs SIGINT/SIGTERM/SIGHUP handlers that forward the signal to running children and
// remember it (SIGHUP stays ignored when it was, as under nohup), and a SIGCHLD handler
// that lets wait() see a child stopped at the terminal; call once at start-up in every tool.
void install_interrupt_forwarding();
// The signal we received (SIGINT, SIGTERM, SIGHUP; also SIGINT, SIGQUIT or SIGHUP when it
// ended a child that had the terminal), or 0.
int received_interrupt();
// Forgets it (tests; a tool that handled it and carries on).
void clear_received_interrupt();

// Starts `argv` (argv[0] a path) detached: in a session of its own, its output to /dev/null,
// no other descriptor of ours open in it, not our child (so nothing waits for it and it
// outlives us), for work that must never delay
// or fail the step that asked for it (sending alert notifications, shipping records). Costs
// the caller one fork and nothing more. Fails only when it cannot be started at all.
Status start_detached(const std::vector<std::string>& argv);

// The full path of a program on PATH, or nothing.
std::optional<std::filesystem::path> find_program(const std::string& name);

// `/bin/sh -c TEXT` as the program TEXT names, when TEXT is one word with nothing in it a shell
// would read (git's own rule: run-command.c) and names a program by an absolute path or on a
// PATH of absolute directories: the same command without the shell's start. Anything else,
// `argv` as it is (a builtin, a relative path, whatever the shell must do).
std::vector<std::string> without_needless_shell(std::vector<std::string> argv);

}  // namespace perfguard
