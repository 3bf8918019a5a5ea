#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "process/runner.h"
#include "support.h"

using namespace perfguard;
using perfguard::test::TempDir;

namespace {

ChildCommand cmd(std::vector<std::string> argv) {
  ChildCommand c;
  c.argv = std::move(argv);
  return c;
}

ChildCommand sh(const std::string& script) {
  return cmd({"/bin/sh", "-c", script});
}

ChildCommand captured(ChildCommand c) {
  c.out = StreamMode::capture;
  c.err = StreamMode::capture;
  return c;
}

ChildOutcome run_ok(const ChildCommand& c) {
  auto r = run_child(c);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return *r;
}

// True once `pid` has ended: gone, or a zombie nobody has reaped yet (not ours to reap).
bool process_ended(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  return paren == std::string::npos || line.size() < paren + 3 || line[paren + 2] == 'Z' ||
         line[paren + 2] == 'X';
}

bool ends_within(pid_t pid, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!process_ended(pid)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Points our fd 2 at a file for the lifetime of the object (to see what children wrote there).
class StderrToFile {
 public:
  explicit StderrToFile(const std::filesystem::path& file) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~StderrToFile() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
  }

 private:
  int saved_ = -1;
};

std::string repeat(char c, size_t n) {
  return std::string(n, c);
}

}  // namespace

TEST_CASE("the child's exit code is passed through") {
  auto o = run_ok(sh("exit 7"));
  CHECK(o.exit_code == 7);
  CHECK_FALSE(o.signal.has_value());
  CHECK_FALSE(o.success());
  CHECK(run_ok(sh("exit 0")).success());
}

TEST_CASE("a child killed by a signal reports 128+signal") {
  auto o = run_ok(sh("kill -USR1 $$"));
  CHECK(o.exit_code == 128 + SIGUSR1);
  REQUIRE(o.signal.has_value());
  CHECK(*o.signal == SIGUSR1);
  CHECK_FALSE(o.timed_out);
}

TEST_CASE("stdout and stderr are captured separately") {
  auto o = run_ok(captured(sh("printf 'to out\\n'; printf 'to err\\n' >&2; printf more")));
  CHECK(o.out == "to out\nmore");
  CHECK(o.err == "to err\n");
}

TEST_CASE("more than 1 MiB on stdout and stderr at once is captured without deadlock") {
  auto c =
      captured(sh("head -c 3000000 /dev/zero | tr '\\0' o & "
                  "head -c 2500000 /dev/zero | tr '\\0' e >&2; wait"));
  c.timeout = Duration::seconds(60);  // a deadlock fails the test instead of hanging it
  auto o = run_ok(c);
  CHECK_FALSE(o.timed_out);
  CHECK(o.exit_code == 0);
  CHECK(o.out.size() == 3000000);
  CHECK(o.err.size() == 2500000);
  CHECK(o.out == repeat('o', 3000000));
  CHECK(o.err == repeat('e', 2500000));
}

TEST_CASE("stdin_data is delivered to the child, then end of input") {
  auto c = captured(cmd({"cat"}));
  c.stdin_data = "line one\nline two\n";
  CHECK(run_ok(c).out == "line one\nline two\n");

  c.stdin_data = "";
  CHECK(run_ok(c).out.empty());
}

TEST_CASE("large stdin with large output does not deadlock") {
  std::string data;
  for (int i = 0; data.size() < 3 * 1024 * 1024; ++i) data += std::to_string(i) + "\n";
  // cat echoes stdin on stdout and stderr: the child blocks on its output pipes unless we
  // read them while we are still writing its input.
  auto c = captured(sh("tee /dev/stderr"));
  c.stdin_data = data;
  c.timeout = Duration::seconds(60);
  auto o = run_ok(c);
  CHECK_FALSE(o.timed_out);
  CHECK(o.exit_code == 0);
  CHECK(o.out == data);
  CHECK(o.err == data);
}

TEST_CASE("a child that does not read its stdin does not kill us with SIGPIPE") {
  auto c = sh("exit 3");
  c.stdin_data = repeat('x', 4 * 1024 * 1024);
  auto o = run_ok(c);
  CHECK(o.exit_code == 3);
}

TEST_CASE("cwd, env_set and env_unset are applied") {
  TempDir tmp;
  ::setenv("PERFGUARD_TEST_KEEP", "kept", 1);
  ::setenv("PERFGUARD_TEST_GONE", "still here", 1);
  ::setenv("PERFGUARD_TEST_REPLACED", "old", 1);
  auto c =
      captured(sh("pwd -P; echo \"$PERFGUARD_TEST_KEEP\"; echo \"${PERFGUARD_TEST_GONE-unset}\";"
                  " echo \"$PERFGUARD_TEST_REPLACED\"; echo \"$PERFGUARD_TEST_NEW\""));
  c.cwd = tmp.path();
  c.env_set = {{"PERFGUARD_TEST_REPLACED", "new"}, {"PERFGUARD_TEST_NEW", "a b=c"}};
  c.env_unset = {"PERFGUARD_TEST_GONE"};
  auto o = run_ok(c);
  ::unsetenv("PERFGUARD_TEST_KEEP");
  ::unsetenv("PERFGUARD_TEST_GONE");
  ::unsetenv("PERFGUARD_TEST_REPLACED");
  CHECK(o.out == std::filesystem::canonical(tmp.path()).string() + "\nkept\nunset\nnew\na b=c\n");
}

TEST_CASE("a missing program fails with an error naming it") {
  auto r = run_child(cmd({"perfguard-no-such-program", "--version"}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ExitCode::step_failed);
  CHECK(r.error().message ==
        "perfguard-no-such-program: not found on PATH: install it or fix PATH");
  CHECK_FALSE(find_program("perfguard-no-such-program").has_value());
}

TEST_CASE("a program that cannot be executed fails with an error naming it, leaving no zombie") {
  TempDir tmp;
  auto script = tmp / "not-executable";
  perfguard::test::write_file(script, "#!/bin/sh\necho hi\n");
  auto r = run_child(cmd({script.string()}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ExitCode::step_failed);
  CHECK(r.error().message == script.string() + ": cannot start: Permission denied");
  // Boost forked a child for the failed exec; it must have been reaped.
  errno = 0;
  CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("a missing working directory fails with an error naming it") {
  TempDir tmp;
  auto c = sh("true");
  c.cwd = tmp / "missing";
  auto r = run_child(c);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "/bin/sh: cannot start in " + (tmp / "missing").string() + ": No such file or directory");
}

TEST_CASE("find_program returns an absolute executable path") {
  auto sh_path = find_program("sh");
  REQUIRE(sh_path.has_value());
  CHECK(sh_path->is_absolute());
  CHECK(::access(sh_path->c_str(), X_OK) == 0);
}

namespace {

// PATH set for a test, and given back when it ends, however it ends.
class PathForTest {
 public:
  explicit PathForTest(const std::string& path) {
    if (const char* was = std::getenv("PATH")) saved_ = was;
    set(path);
  }
  ~PathForTest() {
    if (saved_) {
      ::setenv("PATH", saved_->c_str(), 1);
    } else {
      ::unsetenv("PATH");
    }
  }
  PathForTest(const PathForTest&) = delete;
  PathForTest& operator=(const PathForTest&) = delete;
  void set(const std::string& path) { ::setenv("PATH", path.c_str(), 1); }

 private:
  std::optional<std::string> saved_;
};

}  // namespace

TEST_CASE("a shell command of one plain word is run without the shell, anything else with it") {
  using Argv = std::vector<std::string>;
  auto shell = [](const std::string& text) { return Argv{"/bin/sh", "-c", text}; };
  // A PATH of absolute directories, whatever PATH the tests were started with (one with a
  // relative entry keeps the shell for every word).
  const std::string path = "/usr/bin:/bin";
  PathForTest path_for_test(path);
  const std::string true_path = find_program("true")->string();
  CHECK(without_needless_shell(shell("true")) == Argv{true_path});
  CHECK(without_needless_shell(shell(true_path)) == Argv{true_path});
  for (const char* kept :
       {"true 1",  // arguments: the shell splits them
        "true;", "true|cat", "$X", "~", "a=b", "*", "'true'", "tru\\e",  // the shell reads them
        ":",                                                             // a builtin only
        "perfguard-no-such-program",  // the shell says it is not found
        "./run.sh", "bin/run",        // relative to the child's directory
        "/no/such/program", ""}) {
    CAPTURE(kept);
    CHECK(without_needless_shell(shell(kept)) == shell(kept));
  }
  CHECK(without_needless_shell({"true"}) == Argv{"true"});  // an array is run as it is
  CHECK(without_needless_shell({"/bin/bash", "-c", "true"}) == Argv{"/bin/bash", "-c", "true"});

  // A relative PATH entry would be the child's directory, not ours: the shell finds it there.
  path_for_test.set(path + ":bin");
  CHECK(without_needless_shell(shell("true")) == shell("true"));
  path_for_test.set("::" + path);
  CHECK(without_needless_shell(shell("true")) == shell("true"));
  path_for_test.set(path);

  // Run either way, the same outcome.
  for (const char* text : {"false", "exit 3", ":"}) {
    CAPTURE(text);
    auto direct = run_child(cmd(without_needless_shell(shell(text))));
    auto through_shell = run_child(cmd(shell(text)));
    REQUIRE(direct.ok());
    REQUIRE(through_shell.ok());
    CHECK(direct->exit_code == through_shell->exit_code);
  }
}

TEST_CASE("git --version runs through PATH lookup") {
  auto c = cmd({"git", "--version"});
  c.out = StreamMode::capture;
  auto o = run_ok(c);
  CHECK(o.exit_code == 0);
  CHECK(o.out.rfind("git version ", 0) == 0);
}

TEST_CASE("wall time covers the child's run, start_us is the wall clock at spawn") {
  using namespace std::chrono;
  const auto before = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  auto o = run_ok(sh("sleep 0.2"));
  const auto after = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  CHECK(o.wall >= Duration::millis(200));
  CHECK(o.wall < Duration::seconds(2));
  CHECK(o.start_us >= before);
  CHECK(o.start_us <= after);
}

TEST_CASE("rusage reports the child's cpu time and peak memory") {
  auto o = run_ok(sh("i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"));
  CHECK(o.exit_code == 0);
  CHECK(o.usage.cpu_user_us > 0);
  CHECK(o.usage.max_rss_kb > 0);
  CHECK(o.usage.cpu_user_us + o.usage.cpu_sys_us <= o.wall.us + 100000);
}

TEST_CASE("the child runs in its own process group") {
  auto c = sh("ps -o pgid= -p $$; echo $$");
  c.out = StreamMode::capture;
  auto child = spawn(c);
  REQUIRE(child.ok());
  const int pid = child->pid();
  auto o = child->wait();
  const auto newline = o.out.find('\n');
  REQUIRE(newline != std::string::npos);
  const int pgid = std::stoi(o.out.substr(0, newline));
  CHECK(pgid != ::getpgrp());
  CHECK(pgid == pid);
  CHECK(std::stoi(o.out.substr(newline + 1)) == pid);
}

TEST_CASE("timeout ends the child's whole process group") {
  TempDir tmp;
  auto pidfile = tmp / "grandchild.pid";
  auto c = sh("sleep 30 & echo $! > '" + pidfile.string() + "'; wait");
  c.timeout = Duration::millis(300);
  auto o = run_ok(c);
  CHECK(o.timed_out);
  CHECK_FALSE(o.success());
  REQUIRE(o.signal.has_value());
  CHECK(*o.signal == SIGTERM);
  CHECK(o.exit_code == 128 + SIGTERM);
  CHECK(o.wall >= Duration::millis(300));
  CHECK(o.wall < Duration::seconds(5));
  const pid_t grandchild = std::stoi(perfguard::test::read_file(pidfile));
  CHECK(ends_within(grandchild, std::chrono::seconds(2)));
}

TEST_CASE("a child that ignores SIGTERM is SIGKILLed after kill_grace") {
  auto c = sh("trap '' TERM; echo ready; sleep 30; echo survived");
  c.out = StreamMode::capture;
  c.timeout = Duration::millis(200);
  c.kill_grace = Duration::millis(300);
  auto o = run_ok(c);
  CHECK(o.out == "ready\n");
  CHECK(o.timed_out);
  REQUIRE(o.signal.has_value());
  CHECK(*o.signal == SIGKILL);
  CHECK(o.exit_code == 128 + SIGKILL);
  CHECK(o.wall >= Duration::millis(500));
  CHECK(o.wall < Duration::seconds(5));
}

TEST_CASE("a timeout longer than the clock can hold is no deadline, not one already past") {
  // steady_clock counts nanoseconds in 64 bits: 200000 days and more do not fit.
  auto long_timeout = parse_duration("200000d");
  REQUIRE(long_timeout.ok());
  for (Duration timeout : {*long_timeout, Duration::micros(INT64_MAX)}) {
    CAPTURE(timeout.us);
    auto c = sh("exit 3");
    c.timeout = timeout;
    auto o = run_ok(c);
    CHECK_FALSE(o.timed_out);
    CHECK_FALSE(o.signal.has_value());
    CHECK(o.exit_code == 3);
  }
}

TEST_CASE("a kill_grace longer than the clock can hold never SIGKILLs, SIGTERM still goes") {
  // The child ignores SIGTERM from its first instruction (SIG_IGN is inherited across
  // exec), so only a SIGKILL could end it before it reads its input and exits 7.
  struct sigaction ignore {
  }, saved{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  REQUIRE(::sigaction(SIGTERM, &ignore, &saved) == 0);
  auto c = sh("read line; exit 7");
  c.stdin_data = "go\n";
  c.timeout = Duration::micros(1);
  c.kill_grace = Duration::micros(INT64_MAX);
  auto r = run_child(c);
  ::sigaction(SIGTERM, &saved, nullptr);
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  CHECK_FALSE(r->signal.has_value());
  CHECK(r->exit_code == 7);
}

TEST_CASE("a grandchild holding the output pipe does not keep wait() waiting") {
  auto c = sh("sleep 5 & echo $!");
  c.out = StreamMode::capture;
  const auto started = std::chrono::steady_clock::now();
  auto o = run_ok(c);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  CHECK(o.exit_code == 0);
  CHECK(o.wall < Duration::seconds(2));
  const pid_t grandchild = std::stoi(o.out);
  CHECK(grandchild > 0);
  ::kill(grandchild, SIGKILL);
}

TEST_CASE("SIGINT received while waiting is forwarded to the child") {
  install_interrupt_forwarding();
  clear_received_interrupt();
  std::thread interrupter([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::raise(SIGINT);
  });
  auto r = run_child(cmd({"sleep", "30"}));
  interrupter.join();
  REQUIRE(r.ok());
  CHECK(r->interrupted);
  CHECK_FALSE(r->timed_out);
  CHECK_FALSE(r->success());
  REQUIRE(r->signal.has_value());
  CHECK(*r->signal == SIGINT);
  CHECK(r->exit_code == 130);
  CHECK(r->wall < Duration::seconds(5));
  CHECK(received_interrupt() == SIGINT);
  clear_received_interrupt();
  CHECK(received_interrupt() == 0);
}

TEST_CASE("SIGHUP received while waiting is forwarded to the child's group and remembered") {
  install_interrupt_forwarding();
  clear_received_interrupt();
  // The child hangs up on us itself: the signal surely comes while it runs.
  auto r = run_child(sh("kill -HUP $PPID; sleep 30"));
  REQUIRE(r.ok());
  CHECK(r->interrupted);
  CHECK_FALSE(r->success());
  REQUIRE(r->signal.has_value());
  CHECK(*r->signal == SIGHUP);
  CHECK(r->wall < Duration::seconds(20));
  CHECK(received_interrupt() == SIGHUP);
  clear_received_interrupt();
}

TEST_CASE("SIGHUP that was ignored when forwarding was installed stays ignored (nohup)") {
  struct sigaction ignore {
  }, saved{}, now{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  REQUIRE(::sigaction(SIGHUP, &ignore, &saved) == 0);
  install_interrupt_forwarding();
  REQUIRE(::sigaction(SIGHUP, nullptr, &now) == 0);
  CHECK((now.sa_handler == SIG_IGN));
  ::sigaction(SIGHUP, &saved, nullptr);
}

TEST_CASE("an interrupt that arrives while no child runs is remembered, not forwarded") {
  install_interrupt_forwarding();
  clear_received_interrupt();
  ::raise(SIGTERM);
  CHECK(received_interrupt() == SIGTERM);
  auto o = run_ok(sh("exit 0"));
  CHECK_FALSE(o.interrupted);
  CHECK(o.success());
  clear_received_interrupt();
}

TEST_CASE("tee mode collects output and copies it live to our stderr") {
  TempDir tmp;
  auto c = sh("printf 'out line\\n'; printf 'err line\\n' >&2");
  c.out = StreamMode::tee;
  c.err = StreamMode::tee;
  ChildOutcome o;
  {
    StderrToFile redirect(tmp / "stderr");
    o = run_ok(c);
  }
  CHECK(o.out == "out line\n");
  CHECK(o.err == "err line\n");
  const auto copied = perfguard::test::read_file(tmp / "stderr");
  CHECK(copied.find("out line\n") != std::string::npos);
  CHECK(copied.find("err line\n") != std::string::npos);
}

TEST_CASE("to_stderr sends the child's stdout to our stderr; discard drops it") {
  TempDir tmp;
  auto c = sh("echo to-our-stderr");
  c.out = StreamMode::to_stderr;
  ChildOutcome o;
  {
    StderrToFile redirect(tmp / "stderr");
    o = run_ok(c);
    auto d = sh("echo dropped; echo dropped too >&2");
    d.out = StreamMode::discard;
    d.err = StreamMode::discard;
    auto dropped = run_ok(d);
    CHECK(dropped.out.empty());
    CHECK(dropped.err.empty());
  }
  CHECK(o.out.empty());
  CHECK(perfguard::test::read_file(tmp / "stderr") == "to-our-stderr\n");
}

TEST_CASE("the child starts with no blocked signals and default SIGPIPE") {
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &old);
  struct sigaction ignore {
  }, old_pipe{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old_pipe);

  auto c = cmd({"cat", "/proc/self/status"});
  c.out = StreamMode::capture;
  auto o = run_ok(c);

  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  auto field = [&](const std::string& name) {
    const auto at = o.out.find("\n" + name + ":\t");
    REQUIRE(at != std::string::npos);
    const auto begin = at + name.size() + 3;
    return std::stoull(o.out.substr(begin, o.out.find('\n', begin) - begin), nullptr, 16);
  };
  CHECK(field("SigBlk") == 0);
  CHECK((field("SigIgn") & (1ULL << (SIGPIPE - 1))) == 0);
}

TEST_CASE("a child that was never waited for is killed and reaped") {
  pid_t pid;
  {
    auto child = spawn(cmd({"sleep", "30"}));
    REQUIRE(child.ok());
    pid = child->pid();
    auto moved = std::move(*child);  // ownership moves with the object
    CHECK(moved.pid() == pid);
  }
  CHECK(::kill(pid, 0) == -1);
  CHECK(errno == ESRCH);
}

namespace {

// The process group and the terminal's foreground process group of the child that prints
// its /proc/PID/stat (fields 5 and 8; the command name before them is in parentheses).
struct ChildView {
  pid_t pgrp = -1, tpgid = -1;
};
ChildView parse_stat(const std::string& stat) {
  ChildView v;
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return v;
  std::istringstream rest(stat.substr(paren + 2));
  std::string state;
  long ppid = 0, pgrp = 0, session = 0, tty = 0, tpgid = 0;
  rest >> state >> ppid >> pgrp >> session >> tty >> tpgid;
  v.pgrp = static_cast<pid_t>(pgrp);
  v.tpgid = static_cast<pid_t>(tpgid);
  return v;
}

// Runs `body` in a forked process that leads a new session whose controlling terminal is a
// fresh pseudo-terminal (fd passed to it), and returns that process's exit status: the body
// reports through it, since doctest cannot be used across fork.
// When no pseudo-terminal can be made (a chroot without /dev/pts, say), kNoTerminal.
constexpr int kNoTerminal = -1;
int with_own_terminal(int (*body)(int tty)) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return kNoTerminal;
  REQUIRE(::grantpt(master) == 0);
  REQUIRE(::unlockpt(master) == 0);
  const std::string slave_name = ::ptsname(master);
  const pid_t helper = ::fork();
  REQUIRE(helper >= 0);
  if (helper == 0) {
    if (::setsid() < 0) ::_exit(90);
    const int tty = ::open(slave_name.c_str(), O_RDWR);  // becomes the controlling terminal
    if (tty < 0 || ::tcgetpgrp(tty) != ::getpgrp()) ::_exit(91);
    ::_exit(body(tty));
  }
  int status = 0;
  while (::waitpid(helper, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(master);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ChildCommand stat_printer() {
  return captured(sh("read -r stat </proc/$$/stat; echo \"$stat\""));
}

// A terminal case passed (0), or could not run here, which is said rather than failed.
void check_terminal_case(int code) {
  if (code == kNoTerminal) {
    MESSAGE("skipped: no pseudo-terminal can be made here (is /dev/pts mounted?)");
    return;
  }
  CHECK(code == 0);
}

}  // namespace

TEST_CASE("in the terminal's foreground group, the child's group gets the terminal, then we") {
  const int code = with_own_terminal([](int tty) {
    auto r = run_child(stat_printer());
    if (!r.ok() || r->exit_code != 0) return 10;
    const ChildView v = parse_stat(r->out);
    if (v.pgrp == ::getpgrp()) return 11;            // not in a group of its own
    if (v.tpgid != v.pgrp) return 12;                // the terminal was not the child's
    if (::tcgetpgrp(tty) != ::getpgrp()) return 13;  // not given back
    return 0;
  });
  check_terminal_case(code);
}

TEST_CASE("in the background, the terminal is left to whoever has it") {
  const int code = with_own_terminal([](int tty) {
    // Another process group of the session takes the foreground: we are a background job.
    const pid_t other = ::fork();
    if (other == 0) {
      ::setpgid(0, 0);
      ::pause();
      ::_exit(0);
    }
    ::setpgid(other, other);
    if (::tcsetpgrp(tty, other) != 0) return 20;
    auto r = run_child(stat_printer());
    ::kill(other, SIGKILL);
    ::waitpid(other, nullptr, 0);
    if (!r.ok() || r->exit_code != 0) return 21;
    const ChildView v = parse_stat(r->out);
    if (v.tpgid != other) return 22;  // the child's group took the terminal
    if (::tcgetpgrp(tty) != other) return 23;
    return 0;
  });
  check_terminal_case(code);
}

TEST_CASE("a child that has the terminal and dies of SIGINT counts as an interrupt") {
  const int code = with_own_terminal([](int) {
    install_interrupt_forwarding();
    clear_received_interrupt();
    // Ctrl-C reaches only the foreground group, the child's: it does what the terminal would.
    auto r = run_child(sh("kill -INT 0; sleep 30"));
    if (!r.ok()) return 30;
    if (!r->interrupted || r->signal != SIGINT) return 31;
    if (received_interrupt() != SIGINT) return 32;
    return 0;
  });
  check_terminal_case(code);
}
