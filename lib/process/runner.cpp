#include "process/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

// Boost.Process 1.74 leaves vfork() out wherever _POSIX_C_SOURCE >= 200809 (POSIX 2008 took
// vfork out of the standard; glibc and every Linux keep it). With it, starting git does not
// copy our page tables first: 0.76 ms less a perf-commit, which starts two (median of 80
// pairs, interleaved). The child side (ChildSetup::on_exec_setup) is written for it.
#define BOOST_POSIX_HAS_VFORK 1
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/posix.hpp>

#include "core/clock.h"
#include "process/sigpipe.h"

extern char** environ;

namespace perfguard {

namespace bp = boost::process;

namespace {

using Clock = std::chrono::steady_clock;

// --- Interrupt forwarding ----------------------------------------------------------------
// Written by the signal handler, read by wait(): lock-free atomics are async-signal-safe.
std::atomic<int> g_received_signal{0};  // last SIGINT/SIGTERM/SIGHUP, 0 when none (or cleared)
std::atomic<int> g_signal_count{0};     // how many arrived: wait() forwards only new ones
std::atomic<bool> g_handlers_installed{false};
int g_wake_read = -1;  // self-pipe: the handler writes a byte so poll() in wait() wakes up
int g_wake_write = -1;
static_assert(std::atomic<int>::is_always_lock_free);

void wake_waiter() {
  if (g_wake_write >= 0) {
    const char byte = 0;
    [[maybe_unused]] ssize_t n = ::write(g_wake_write, &byte, 1);
  }
}

void note_interrupt(int sig) {
  g_received_signal.store(sig, std::memory_order_relaxed);
  g_signal_count.fetch_add(1, std::memory_order_release);
}

void on_interrupt(int sig) {
  const int saved_errno = errno;
  note_interrupt(sig);
  wake_waiter();
  errno = saved_errno;
}

// A child stopped or ended: wait() looks at it (pidfd alone does not report a stop).
void on_child_event(int) {
  const int saved_errno = errno;
  wake_waiter();
  errno = saved_errno;
}

void drain_wake_pipe() {
  char buf[64];
  while (::read(g_wake_read, buf, sizeof buf) > 0) {
  }
}

// --- Small helpers ---------------------------------------------------------------------------

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  UniqueFd read, write;
};

// Both ends close-on-exec; the child's end is dup2()ed onto 0/1/2, which clears the flag.
// The end we keep is non-blocking so one poll() loop can serve every stream.
bool make_pipe(Pipe& p, bool parent_reads) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  p.read.reset(fds[0]);
  p.write.reset(fds[1]);
  const int ours = parent_reads ? fds[0] : fds[1];
  return ::fcntl(ours, F_SETFL, ::fcntl(ours, F_GETFL) | O_NONBLOCK) == 0;
}

std::int64_t micros(const struct timeval& tv) {
  return static_cast<std::int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
}

bool is_executable_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

Error cannot_start(const std::string& program, int err) {
  return make_error(ExitCode::step_failed, program + ": cannot start: " + std::strerror(err));
}

// Writes all of [data, data+size) to a blocking fd (our stderr, for tee), giving up on errors:
// a closed stderr must not stop us collecting the child's output.
void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Blocks every signal in this thread while the child is forked, so that none of our handlers
// runs in the child between fork and exec (it resets them and unblocks before exec).
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_{};
};

// --- The terminal ------------------------------------------------------------------------
// A child runs in its own process group. When we are the terminal's foreground group, that
// group must become the foreground one for the child's lifetime, as a job-control shell does
// for a job: otherwise a hook's `read </dev/tty` or an editor is stopped by SIGTTIN/SIGTTOU
// and the step hangs, and Ctrl-C/Ctrl-Z reach us instead of the program the user sees.

// Our controlling terminal, when our process group is its foreground one; else nothing (no
// terminal, as in CI, or we are a background job, whose terminal is not ours to give).
// /dev/tty rather than fd 0 or 2: a hook reads the terminal even when our stdin is a pipe.
UniqueFd foreground_terminal() {
  UniqueFd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!tty || ::tcgetpgrp(tty.get()) != ::getpgrp()) return {};
  return tty;
}

// SIGTTOU blocked in this thread for the object's lifetime: tcsetpgrp() and tcsetattr() from
// a background group, and our own writes to the terminal under `stty tostop` while the child
// has it, would otherwise stop us.
class TtouBlocked {
 public:
  explicit TtouBlocked(bool active = true) : active_(active) {
    if (!active_) return;
    sigset_t ttou;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    pthread_sigmask(SIG_BLOCK, &ttou, &old_);
  }
  ~TtouBlocked() {
    if (active_) pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  TtouBlocked(const TtouBlocked&) = delete;
  TtouBlocked& operator=(const TtouBlocked&) = delete;

 private:
  bool active_;
  sigset_t old_{};
};

bool give_terminal(int tty, pid_t pgrp) {
  TtouBlocked blocked;
  return ::tcsetpgrp(tty, pgrp) == 0;
}

// Everything that happens around vfork/exec, as a Boost.Process initializer. The child side
// (on_exec_setup) runs between vfork and exec, in our memory and on our stack while this
// thread waits: async-signal-safe calls only, no allocation, nothing of ours written but
// its own locals (the signal handlers, file descriptors and working directory it changes
// are the child's own copies).
struct ChildSetup : bp::extend::handler {
  char* const* argv = nullptr;  // argv[0] as the caller wrote it, not the resolved path
  char** envp = nullptr;        // null: our environment unchanged
  const char* cwd = nullptr;
  int stdin_fd = -1;  // -1: inherit
  int stdout_fd = -1;
  int stderr_fd = -1;
  int tty_fd = -1;  // our terminal, to be handed to the child's group; -1: leave it alone
  bool stdout_to_stderr = false;

  template <class Executor>
  void on_setup(Executor& exec) const {
    exec.cmd_line = argv;
    if (envp != nullptr) exec.env = envp;
  }

  // Boost 1.74 returns an empty child when exec fails but never reaps the forked process.
  template <class Executor>
  void on_error(Executor& exec, const std::error_code&) const {
    if (exec.pid > 0) {
      while (::waitpid(exec.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }

  template <class Executor>
  void on_exec_setup(Executor& exec) const {
    // Boost carries on to execve after set_error(), so leave right away. The message fits
    // std::string's own buffer: set_error() copies it into our memory, and must not allocate.
    auto fail = [&exec] {
      exec.set_error(std::error_code(errno, std::system_category()), "set-up failed");
      ::_exit(127);
    };
    if (::setpgid(0, 0) != 0) fail();
    // Here as well as in the parent, as a shell does: whichever runs first, the child's group
    // has the terminal before the program starts. Every signal is still blocked, so the call
    // from what is now a background group raises no SIGTTOU.
    if (tty_fd >= 0) ::tcsetpgrp(tty_fd, ::getpid());

    // Our fds 0-2 may have been closed, so a pipe end could sit on 0-2: move it out of the
    // way before any dup2() onto 0-2 can clobber it.
    int in = stdin_fd, out = stdout_fd, err = stderr_fd;
    for (int* fd : {&in, &out, &err}) {
      if (*fd >= 0 && *fd < 3) {
        *fd = ::fcntl(*fd, F_DUPFD_CLOEXEC, 3);
        if (*fd < 0) fail();
      }
    }
    // stdout first: to_stderr means our stderr, before the child's stderr is redirected.
    if (stdout_to_stderr) {
      if (::dup2(2, 1) < 0) ::close(1);  // our stderr is closed: so is the child's stdout
    } else if (out >= 0 && ::dup2(out, 1) < 0) {
      fail();
    }
    if (err >= 0 && ::dup2(err, 2) < 0) fail();
    if (in >= 0 && ::dup2(in, 0) < 0) fail();

    if (cwd != nullptr && ::chdir(cwd) != 0) fail();

    // Handlers we installed go back to the default (exec would do that too, but a signal
    // arriving before exec must not run our handler in the child). SIG_IGN inherited from
    // whoever started us (nohup) is kept, except SIGPIPE and SIGCHLD, which tools ignore
    // for themselves and which break children that inherit them.
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      struct sigaction current;
      if (::sigaction(sig, nullptr, &current) != 0) continue;  // e.g. glibc-reserved
      if (current.sa_handler == SIG_DFL) continue;
      if (current.sa_handler == SIG_IGN && sig != SIGPIPE && sig != SIGCHLD) continue;
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(sig, &dfl, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
  }
};

int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

void kill_group(pid_t pgid, int sig) {
  ::kill(-pgid, sig);
}

}  // namespace

// --- RunningChild ------------------------------------------------------------------------

struct RunningChild::State {
  bp::child child;  // detached once reaped: Boost must never wait for or kill it itself
  pid_t pid = -1;   // also the process group id
  UniqueFd pidfd;
  UniqueFd stdin_pipe, stdout_pipe, stderr_pipe;  // our ends
  StreamMode out_mode = StreamMode::inherit;
  StreamMode err_mode = StreamMode::inherit;
  std::string stdin_data;
  size_t stdin_written = 0;
  std::optional<Duration> timeout;
  Duration kill_grace;
  int signals_seen = 0;  // g_signal_count at spawn: later ones are forwarded
  Clock::time_point started;
  bool reaped = false;
  ChildOutcome outcome;

  // Job control, when we were the terminal's foreground group at spawn (see above).
  UniqueFd tty;
  bool tty_handed = false;  // the child's group is (meant to be) the foreground one
  bool have_our_modes = false, have_child_modes = false;
  struct termios our_modes {};    // to put back if the child dies without restoring them
  struct termios child_modes {};  // saved when it is stopped, restored when it goes on
  std::optional<int> stopped_by;  // a stop signal reported by try_reap, not yet handled

  bool job_control() const { return static_cast<bool>(tty); }

  void hand_terminal() {
    if (!tty) return;
    tty_handed = give_terminal(tty.get(), pid) || ::tcgetpgrp(tty.get()) == pid;
  }

  // Gives the terminal back to our group, if the child's group still has it (after a
  // hang-up nobody has it). `restore_modes`: also our terminal modes, which a killed or
  // stopped editor leaves raw.
  void take_terminal_back(bool restore_modes) {
    if (!tty_handed) return;
    tty_handed = false;
    if (::tcgetpgrp(tty.get()) != pid) return;
    TtouBlocked blocked;
    ::tcsetpgrp(tty.get(), ::getpgrp());
    if (restore_modes && have_our_modes) ::tcsetattr(tty.get(), TCSADRAIN, &our_modes);
  }

  // The child's group was stopped (Ctrl-Z went to it alone, since it has the terminal). Like
  // a shell, take the terminal back and stop ourselves with the same signal, so that whoever
  // runs us sees its job stopped; once continued, give the terminal to the child again if we
  // are in the foreground (`fg`, not `bg`) and let it go on.
  void on_stopped(int sig) {
    if (tty_handed) {
      have_child_modes = ::tcgetattr(tty.get(), &child_modes) == 0;
      take_terminal_back(true);
    }
    const int ours = sig == SIGSTOP ? SIGTSTP : sig;  // SIGSTOP came from a kill, not the tty
    sigset_t one, old;
    sigemptyset(&one);
    sigaddset(&one, ours);
    pthread_sigmask(SIG_UNBLOCK, &one, &old);
    ::kill(0, ours);  // returns once we are continued (at once in an orphaned group)
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (::tcgetpgrp(tty.get()) == ::getpgrp()) {
      if (have_child_modes) {
        TtouBlocked blocked;
        ::tcsetattr(tty.get(), TCSADRAIN, &child_modes);
      }
      hand_terminal();
    }
    kill_group(pid, SIGCONT);
  }

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  ~State() {
    if (pid > 0 && !reaped) {
      kill_group(pid, SIGKILL);
      int status;
      while (::wait4(pid, &status, 0, nullptr) < 0 && errno == EINTR) {
      }
      take_terminal_back(true);
    }
    child.detach();
  }

  // One non-blocking reap attempt; fills the outcome when the child has ended. Under job
  // control a stop is reported too, in `stopped_by`.
  bool try_reap() {
    int status = 0;
    struct rusage usage {};
    pid_t r;
    const int flags = WNOHANG | (job_control() ? WUNTRACED : 0);
    do {
      r = ::wait4(pid, &status, flags, &usage);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return false;
    if (r > 0 && WIFSTOPPED(status)) {
      stopped_by = WSTOPSIG(status);
      return false;
    }
    outcome.wall = elapsed_since(started);
    reaped = true;
    child.detach();
    if (r < 0) {  // ECHILD: reaped behind our back (SIGCHLD set to SIG_IGN); status lost
      outcome.exit_code = 1;
      return true;
    }
    if (WIFEXITED(status)) {
      outcome.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      outcome.signal = WTERMSIG(status);
      outcome.exit_code = 128 + WTERMSIG(status);
    }
    const bool had_terminal = tty_handed;
    take_terminal_back(outcome.signal.has_value());
    if (had_terminal && !outcome.interrupted &&
        (outcome.signal == SIGINT || outcome.signal == SIGQUIT || outcome.signal == SIGHUP)) {
      // Ctrl-C (or the terminal's hang-up) went to the child's group alone, since it had the
      // terminal. As a shell does, take its death by that signal as ours too: the step stops,
      // is recorded as interrupted, and received_interrupt() tells the caller.
      outcome.interrupted = true;
      note_interrupt(*outcome.signal);
    }
    outcome.usage.cpu_user_us = micros(usage.ru_utime);
    outcome.usage.cpu_sys_us = micros(usage.ru_stime);
    outcome.usage.max_rss_kb = usage.ru_maxrss;  // kilobytes on Linux
    return true;
  }

  // Reads what the pipe holds now. False at end of stream (or on an error): close it.
  bool pump(UniqueFd& fd, std::string& sink, bool tee) {
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n > 0) {
        sink.append(buf, static_cast<size_t>(n));
        if (tee) write_all(STDERR_FILENO, buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      return false;
    }
  }

  // Writes as much of stdin_data as the pipe takes now. False when done (or the child
  // closed its end): close it so the child sees end of input.
  bool feed() {
    while (stdin_written < stdin_data.size()) {
      ssize_t n = ::write(stdin_pipe.get(), stdin_data.data() + stdin_written,
                          stdin_data.size() - stdin_written);
      if (n > 0) {
        stdin_written += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      return false;  // EPIPE: the child does not want the rest
    }
    return false;
  }
};

RunningChild::RunningChild(std::unique_ptr<State> state) : state_(std::move(state)) {}
RunningChild::RunningChild(RunningChild&&) noexcept = default;
RunningChild& RunningChild::operator=(RunningChild&&) noexcept = default;
RunningChild::~RunningChild() = default;

int RunningChild::pid() const {
  return state_ ? state_->pid : -1;
}

ChildOutcome RunningChild::wait() {
  State& s = *state_;
  if (s.reaped) return s.outcome;

  const bool tee_out = s.out_mode == StreamMode::tee;
  const bool tee_err = s.err_mode == StreamMode::tee;
  // While wait() writes to pipes (the child's stdin, our stderr for tee).
  SigpipeBlock no_sigpipe(static_cast<bool>(s.stdin_pipe) || tee_out || tee_err);
  TtouBlocked no_ttou(s.job_control());  // we write to stderr while the child has the terminal
  if (s.stdin_pipe && !s.feed()) s.stdin_pipe.reset();

  const std::optional<Clock::time_point> deadline =
      s.timeout ? std::optional(deadline_after(s.started, *s.timeout)) : std::nullopt;
  std::optional<Clock::time_point> kill_at;  // SIGKILL the group then, unless it is gone
  bool forwarded = false, term_sent = false, kill_sent = false;
  // After the reap, output still in the pipes is read; a grandchild that keeps a pipe open
  // gets this long, then we stop listening.
  constexpr auto kDrainAfterExit = std::chrono::milliseconds(100);
  Clock::time_point drain_until;

  for (;;) {
    const auto now = Clock::now();
    if (!s.reaped) {
      if (!forwarded && g_signal_count.load(std::memory_order_acquire) != s.signals_seen) {
        const int sig = g_received_signal.load(std::memory_order_relaxed);
        kill_group(s.pid, sig != 0 ? sig : SIGINT);
        forwarded = term_sent = true;
        s.outcome.interrupted = true;
        if (!kill_at) kill_at = deadline_after(now, s.kill_grace);
      }
      if (deadline && !s.outcome.timed_out && now >= *deadline) {
        kill_group(s.pid, SIGTERM);
        term_sent = true;
        s.outcome.timed_out = true;
        if (!kill_at) kill_at = deadline_after(now, s.kill_grace);
      }
      if (kill_at && !kill_sent && now >= *kill_at) {
        kill_group(s.pid, SIGKILL);
        kill_sent = true;
      }
    } else if ((!s.stdout_pipe && !s.stderr_pipe) || now >= drain_until) {
      break;
    }

    int timeout_ms = -1;
    auto wake_at = [&](Clock::time_point t) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(t - now).count();
      const int ms = static_cast<int>(std::clamp<std::int64_t>(left, 0, 60 * 60 * 1000));
      timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
    };
    if (!s.reaped) {
      if (deadline && !s.outcome.timed_out) wake_at(*deadline);
      if (kill_at && !kill_sent) wake_at(*kill_at);
      if (!s.pidfd) wake_at(now + std::chrono::milliseconds(1));  // no pidfd: poll waitpid
      // Handlers without a self-pipe: poll() is still interrupted (no SA_RESTART) when the
      // signal hits this thread; the cap covers one that hits another thread.
      if (g_handlers_installed.load() && g_wake_read < 0) {
        wake_at(now + std::chrono::milliseconds(10));
      }
      // A stop is only seen by waitpid; without our SIGCHLD handler nothing else wakes us.
      if (s.job_control() && (!g_handlers_installed.load() || g_wake_read < 0)) {
        wake_at(now + std::chrono::milliseconds(50));
      }
    } else {
      wake_at(drain_until);
    }

    struct pollfd fds[5];
    nfds_t n = 0;
    int i_out = -1, i_err = -1, i_in = -1, i_pid = -1, i_wake = -1;
    if (s.stdout_pipe) fds[i_out = static_cast<int>(n++)] = {s.stdout_pipe.get(), POLLIN, 0};
    if (s.stderr_pipe) fds[i_err = static_cast<int>(n++)] = {s.stderr_pipe.get(), POLLIN, 0};
    if (s.stdin_pipe) fds[i_in = static_cast<int>(n++)] = {s.stdin_pipe.get(), POLLOUT, 0};
    if (!s.reaped && s.pidfd) fds[i_pid = static_cast<int>(n++)] = {s.pidfd.get(), POLLIN, 0};
    if (!s.reaped && g_wake_read >= 0)
      fds[i_wake = static_cast<int>(n++)] = {g_wake_read, POLLIN, 0};

    const int ready = ::poll(fds, n, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      // Not expected with valid fds (ENOMEM): pace the loop and fall back to waitpid polling.
      s.pidfd.reset();
      ::usleep(1000);
    }
    auto fired = [&](int i) { return ready > 0 && i >= 0 && fds[i].revents != 0; };
    if (fired(i_out) && !s.pump(s.stdout_pipe, s.outcome.out, tee_out)) s.stdout_pipe.reset();
    if (fired(i_err) && !s.pump(s.stderr_pipe, s.outcome.err, tee_err)) s.stderr_pipe.reset();
    if (fired(i_in) && !s.feed()) s.stdin_pipe.reset();
    if (fired(i_wake)) drain_wake_pipe();
    const bool look =
        !s.pidfd || fired(i_pid) || (s.job_control() && (fired(i_wake) || ready == 0));
    if (!s.reaped && look && s.try_reap()) {
      s.pidfd.reset();
      s.stdin_pipe.reset();
      drain_until = Clock::now() + kDrainAfterExit;
    }
    if (s.stopped_by) {
      const int sig = *std::exchange(s.stopped_by, std::nullopt);
      s.on_stopped(sig);
    }
  }
  s.stdout_pipe.reset();
  s.stderr_pipe.reset();

  // A killed step leaves nothing behind: whatever of its group outlived the leader goes too.
  if (term_sent && !kill_sent && ::kill(-s.pid, 0) == 0) kill_group(s.pid, SIGKILL);
  return s.outcome;
}

// --- spawn -------------------------------------------------------------------------------

Result<RunningChild> spawn(const ChildCommand& command) {
  if (command.argv.empty()) {
    return make_error(ExitCode::step_failed, "cannot start a child process: the command is empty");
  }
  const std::string& program = command.argv[0];
  std::string exe_path;
  if (program.find('/') != std::string::npos) {
    exe_path = program;
  } else if (auto found = find_program(program)) {
    exe_path = found->string();
  } else {
    return make_error(ExitCode::step_failed,
                      program + ": not found on PATH: install it or fix PATH");
  }
  std::string cwd;
  if (command.cwd) {
    cwd = command.cwd->string();
    struct stat st;
    const int err = ::stat(cwd.c_str(), &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (err != 0) {
      return make_error(ExitCode::step_failed,
                        program + ": cannot start in " + cwd + ": " + std::strerror(err));
    }
  }

  auto state = std::make_unique<RunningChild::State>();
  state->out_mode = command.out;
  state->err_mode = command.err;
  state->timeout = command.timeout;
  state->kill_grace = command.kill_grace;

  // argv and the environment as exec wants them, built before fork.
  std::vector<char*> argv;
  argv.reserve(command.argv.size() + 1);
  for (const auto& arg : command.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  std::vector<std::string> env_entries;
  std::vector<char*> envp;
  if (!command.env_set.empty() || !command.env_unset.empty()) {
    auto overridden = [&](std::string_view entry) {
      const auto name = entry.substr(0, entry.find('='));
      return command.env_set.count(std::string(name)) > 0 ||
             std::find(command.env_unset.begin(), command.env_unset.end(), name) !=
                 command.env_unset.end();
    };
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      if (!overridden(*e)) env_entries.emplace_back(*e);
    }
    for (const auto& [name, value] : command.env_set) {
      if (std::find(command.env_unset.begin(), command.env_unset.end(), name) ==
          command.env_unset.end()) {
        env_entries.push_back(name + "=" + value);
      }
    }
    envp.reserve(env_entries.size() + 1);
    for (auto& entry : env_entries) envp.push_back(entry.data());
    envp.push_back(nullptr);
  }

  // Streams: the child's ends live until the child has them; ours go into the state.
  Pipe in_pipe, out_pipe, err_pipe;
  UniqueFd dev_null;
  auto plumb = [&](StreamMode mode, Pipe& pipe, UniqueFd& ours) -> std::optional<int> {
    switch (mode) {
      case StreamMode::capture:
      case StreamMode::tee:
        if (!make_pipe(pipe, true)) return std::nullopt;
        ours = std::move(pipe.read);
        return pipe.write.get();
      case StreamMode::discard:
        if (!dev_null) dev_null.reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
        if (!dev_null) return std::nullopt;
        return dev_null.get();
      case StreamMode::inherit:
      case StreamMode::to_stderr:
        return -1;
    }
    return -1;
  };
  ChildSetup setup;
  setup.argv = argv.data();
  setup.envp = envp.empty() ? nullptr : envp.data();
  setup.cwd = command.cwd ? cwd.c_str() : nullptr;
  setup.stdout_to_stderr = command.out == StreamMode::to_stderr;
  const auto out_fd = plumb(command.out, out_pipe, state->stdout_pipe);
  const auto err_fd = plumb(command.err, err_pipe, state->stderr_pipe);
  if (!out_fd || !err_fd) return cannot_start(program, errno);
  setup.stdout_fd = *out_fd;
  setup.stderr_fd = *err_fd;
  if (command.stdin_data) {
    if (!make_pipe(in_pipe, false)) return cannot_start(program, errno);
    state->stdin_pipe = std::move(in_pipe.write);
    state->stdin_data = *command.stdin_data;
    setup.stdin_fd = in_pipe.read.get();
  }

  state->tty = foreground_terminal();
  if (state->tty) {
    state->have_our_modes = ::tcgetattr(state->tty.get(), &state->our_modes) == 0;
    setup.tty_fd = state->tty.get();
  }

  std::error_code ec;
  state->signals_seen = g_signal_count.load(std::memory_order_acquire);
  state->outcome.start_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  state->started = Clock::now();
  {
    SignalsBlocked blocked;
    state->child = bp::child(bp::exe = exe_path, setup, bp::posix::use_vfork, ec);
    if (!ec) {
      state->pid = state->child.id();
      state->hand_terminal();
    } else if (state->tty && ::tcgetpgrp(state->tty.get()) != ::getpgrp()) {
      give_terminal(state->tty.get(), ::getpgrp());  // the child took it, then failed to exec
    }
  }
  if (ec) return cannot_start(program, ec.value());
  state->pidfd.reset(pidfd_open(state->pid));  // -1 (old kernel, seccomp): waitpid polling
  return RunningChild(std::move(state));
}

Result<ChildOutcome> run_child(const ChildCommand& command) {
  auto child = spawn(command);
  if (!child) return child.error();
  return child->wait();
}

// --- Signals and PATH ----------------------------------------------------------------------

void install_interrupt_forwarding() {
  if (g_wake_read < 0) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
      g_wake_read = fds[0];
      g_wake_write = fds[1];
    }
  }
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sa.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR and the caller notices
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaddset(&sa.sa_mask, SIGHUP);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  // A closed terminal or ssh session: without this we would die and leave git to finish
  // the step unrecorded. Under nohup (SIGHUP ignored) it stays ignored, for us and the child.
  struct sigaction hup {};
  if (::sigaction(SIGHUP, nullptr, &hup) == 0 && hup.sa_handler != SIG_IGN) {
    ::sigaction(SIGHUP, &sa, nullptr);
  }
  struct sigaction chld {};
  chld.sa_handler = on_child_event;
  chld.sa_flags = SA_RESTART;  // only wakes wait(); nothing else need see EINTR for it
  sigemptyset(&chld.sa_mask);
  ::sigaction(SIGCHLD, &chld, nullptr);
  g_handlers_installed.store(true);
}

int received_interrupt() {
  return g_received_signal.load(std::memory_order_relaxed);
}

void clear_received_interrupt() {
  g_received_signal.store(0, std::memory_order_relaxed);
}

std::optional<std::filesystem::path> find_program(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (!is_executable_file(name)) return std::nullopt;
    std::error_code ec;
    auto abs = std::filesystem::absolute(name, ec);
    return ec ? std::filesystem::path(name) : abs;
  }
  const char* path_env = std::getenv("PATH");
  const std::string_view search = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  size_t begin = 0;
  for (;;) {
    const size_t end = std::min(search.find(':', begin), search.size());
    std::string dir(search.substr(begin, end - begin));
    if (dir.empty()) dir = ".";  // an empty PATH entry means the current directory
    std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate)) {
      if (candidate.front() == '/') return std::filesystem::path(candidate);
      std::error_code ec;
      auto abs = std::filesystem::absolute(candidate, ec);
      return ec ? std::filesystem::path(candidate) : abs;
    }
    if (end == search.size()) break;
    begin = end + 1;
  }
  return std::nullopt;
}

std::vector<std::string> without_needless_shell(std::vector<std::string> argv) {
  if (argv.size() != 3 || argv[0] != "/bin/sh" || argv[1] != "-c") return argv;
  const std::string& word = argv[2];
  if (word.empty() || word.find_first_of("|&;<>()$`\\\"' \t\n*?[#~=%") != std::string::npos) {
    return argv;
  }
  if (word.front() == '/') {
    if (!is_executable_file(word)) return argv;
    return {word};
  }
  if (word.find('/') != std::string::npos) return argv;  // relative to the child's directory
  const char* path_env = std::getenv("PATH");
  if (path_env == nullptr) return argv;
  for (std::string_view rest = path_env;;) {  // a relative entry: the child's directory again
    const std::string_view dir = rest.substr(0, rest.find(':'));
    if (dir.empty() || dir.front() != '/') return argv;
    if (dir.size() == rest.size()) break;
    rest.remove_prefix(dir.size() + 1);
  }
  auto found = find_program(word);
  if (!found) return argv;
  return {found->string()};
}

Status start_detached(const std::vector<std::string>& argv) {
  if (argv.empty()) return make_error(ExitCode::step_failed, "nothing to start");
  // Everything the children need is made before fork: after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    return make_error(ExitCode::step_failed,
                      "cannot start " + argv[0] + ": " + std::strerror(errno));
  }
  if (pid == 0) {
    // Our output let go first, so that a reader of it (a pipe, `$(…)`) sees its end when we
    // exit, not when this child has been scheduled to fork.
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    // And every other descriptor we inherited: one left open outlives us in the grandchild,
    // and whoever waits for its end (a CI runner's pipe, a script's lock) waits for the
    // grandchild too.
    if (::close_range(3, ~0U, 0) != 0) {
      for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    }
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // the grandchild is adopted by init
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGHUP, SIG_DFL);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  // Not waited for: on a busy machine the first child waits milliseconds for a CPU before it
  // can fork and end, and the step would wait with it (measured: 7 ms of a perf-commit at a
  // load of 4 on two cores, bench/ship.sh). Until we exit it stays a zombie, which costs
  // nothing; the tools that start it exit soon after.
  return {};
}

}  // namespace perfguard
