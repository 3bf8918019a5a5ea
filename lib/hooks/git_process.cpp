#include "hooks/git_process.h"

#include <time.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace perfguard {

namespace {

struct ProcStat {
  std::string comm;
  int ppid = 0;
  std::uint64_t start_ticks = 0;
};

std::string read_proc(int pid, const char* file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// /proc/<pid>/stat: "pid (comm) state ppid … starttime …"; the command name may hold spaces
// and parentheses, so the fields are counted from its last ')'.
std::optional<ProcStat> read_stat(int pid) {
  const std::string text = read_proc(pid, "stat");
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return {};
  ProcStat stat;
  stat.comm = text.substr(open + 1, close - open - 1);
  std::istringstream fields(text.substr(close + 1));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
  // f[0] is field 3 (state): ppid is field 4, starttime field 22.
  if (f.size() < 20) return {};
  std::from_chars(f[1].data(), f[1].data() + f[1].size(), stat.ppid);
  std::from_chars(f[19].data(), f[19].data() + f[19].size(), stat.start_ticks);
  return stat;
}

// The first argument after git's own options: `git -C dir -c k=v commit -m x` → "commit".
std::string subcommand_of(int pid) {
  const std::string cmdline = read_proc(pid, "cmdline");
  std::vector<std::string> args;
  for (std::size_t at = 0; at < cmdline.size();) {
    auto end = cmdline.find('\0', at);
    if (end == std::string::npos) end = cmdline.size();
    args.push_back(cmdline.substr(at, end - at));
    at = end + 1;
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-C" || a == "-c" || a == "--git-dir" || a == "--work-tree" || a == "--namespace" ||
        a == "--config-env") {
      ++i;
      continue;
    }
    if (!a.starts_with("-")) return a;
  }
  return "";
}

}  // namespace

std::optional<GitProcess> find_git_process() {
  int pid = static_cast<int>(::getppid());
  for (int depth = 0; pid > 1 && depth < 32; ++depth) {
    auto stat = read_stat(pid);
    if (!stat) return {};
    if (stat->comm == "git") return GitProcess{pid, stat->start_ticks, subcommand_of(pid)};
    pid = stat->ppid;
  }
  return {};
}

bool is_running(const GitProcess& git) {
  auto stat = read_stat(git.pid);
  return stat && stat->start_ticks == git.start_ticks;
}

Duration git_process_age(const GitProcess& git) {
  // starttime counts from boot on the clock that includes suspend (CLOCK_BOOTTIME).
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const std::int64_t now_us = std::int64_t{now.tv_sec} * 1000000 + now.tv_nsec / 1000;
  const std::int64_t start_us =
      static_cast<std::int64_t>(git.start_ticks) * 1000000 / (ticks > 0 ? ticks : 100);
  return Duration::micros(std::max<std::int64_t>(0, now_us - start_us));
}

std::int64_t monotonic_now_us() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return std::int64_t{now.tv_sec} * 1000000 + now.tv_nsec / 1000;
}

}  // namespace perfguard
