#include "baseline/measure.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

#include "git/git.h"
#include "process/runner.h"
#include "steps/commit_step.h"
#include "steps/rollback_step.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

// The throwaway clone's directory, removed with everything in it when this goes out of
// scope: at the end, on any error return and after an interrupt. A SIGKILL can leave it
// behind, so each one has a lock file beside it, taken before the directory is made and
// held for its life: the next measure removes every directory whose lock it can take,
// since the kernel let go of it when its owner died.
class ThrowawayDir {
 public:
  static Result<ThrowawayDir> make(const fs::path& parent) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    ::chmod(parent.c_str(), 0700);
    remove_abandoned(parent);
    std::string lock = (parent / "measure-XXXXXX.lock").string();
    int fd = ::mkstemps(lock.data(), 5);
    if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      return make_error(ExitCode::step_failed, "cannot make a throwaway clone in " +
                                                   parent.string() + ": " + std::strerror(err));
    }
    const fs::path dir = lock.substr(0, lock.size() - 5);
    if (::mkdir(dir.c_str(), 0700) != 0) {
      const int err = errno;
      ::unlink(lock.c_str());
      ::close(fd);
      return make_error(ExitCode::step_failed, "cannot make a throwaway clone in " +
                                                   parent.string() + ": " + std::strerror(err));
    }
    return ThrowawayDir(dir, fd);
  }
  ThrowawayDir(ThrowawayDir&& o) noexcept
      : path_(std::exchange(o.path_, {})), lock_fd_(std::exchange(o.lock_fd_, -1)) {}
  ThrowawayDir& operator=(ThrowawayDir&&) = delete;
  ~ThrowawayDir() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
    ::unlink((path_.string() + ".lock").c_str());
    ::close(lock_fd_);
  }
  const fs::path& path() const { return path_; }

 private:
  ThrowawayDir(fs::path p, int lock_fd) : path_(std::move(p)), lock_fd_(lock_fd) {}

  // Removes the clones (and lone lock files) of measures that no longer run.
  static void remove_abandoned(const fs::path& parent) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("measure-", 0) != 0) continue;
      const bool is_lock = name.size() > 5 && name.compare(name.size() - 5, 5, ".lock") == 0;
      const std::string lock = is_lock ? entry.path().string() : entry.path().string() + ".lock";
      int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
      if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);  // its measure still runs
        continue;
      }
      // Nobody holds it (or a clone has no lock at all: an older version's leftover).
      std::error_code ignored;
      fs::remove_all(lock.substr(0, lock.size() - 5), ignored);
      ::unlink(lock.c_str());
      if (fd >= 0) ::close(fd);
    }
  }

  fs::path path_;
  int lock_fd_ = -1;
};

bool wants(const std::vector<std::string>& steps, const std::string& name) {
  return std::find(steps.begin(), steps.end(), name) != steps.end();
}

// Runs git quietly in `dir` (no repository of ours yet) and says what failed.
Status git_in(const fs::path& dir, std::vector<std::string> args) {
  ChildCommand cmd;
  cmd.argv = {"git"};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.cwd = dir;
  cmd.out = StreamMode::capture;
  cmd.err = StreamMode::capture;
  auto run = run_child(cmd);
  if (!run) return run.error();
  if (run->interrupted) return make_error(ExitCode::interrupted, "interrupted");
  if (!run->success()) {
    return make_error(ExitCode::step_failed, "git " + args.front() +
                                                 " failed in the throwaway clone: " +
                                                 git_message(run->err + "\n" + run->out));
  }
  return {};
}

}  // namespace

Result<std::vector<std::string>> parse_measure_steps(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const std::string& n : names) {
    if (n.empty()) continue;
    if (std::find(std::begin(kMeasureSteps), std::end(kMeasureSteps), n) ==
        std::end(kMeasureSteps)) {
      return make_error(ExitCode::usage, "--steps: '" + n +
                                             "' is not a step measure runs: commit, rollback or "
                                             "validate");
    }
    if (!wants(out, n)) out.push_back(n);
  }
  if (out.empty()) {
    return make_error(ExitCode::usage, "--steps: name at least one of commit, rollback, validate");
  }
  return out;
}

fs::path measure_parent(const Repository& repo) {
  return repo.perfguard_dir();
}

Result<MeasureResult> run_measure(const Repository& repo, const MeasureOptions& options) {
  auto head = repo.head();
  if (!head) return head.error();
  if (head->unborn()) {
    return make_error(ExitCode::refused,
                      "measure needs a commit to start from: HEAD is unborn; commit once first");
  }
  // The clone's git must not be pointed back at the user's repository or index.
  for (const char* var : {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR",
                          "GIT_OBJECT_DIRECTORY", "GIT_PREFIX"}) {
    ::unsetenv(var);
  }

  auto dir = ThrowawayDir::make(measure_parent(repo));
  if (!dir) return dir.error();
  const fs::path work = dir->path() / "work";
  MeasureResult result;
  auto stop = [&](const Error& e) -> Result<MeasureResult> {
    if (e.code == ExitCode::interrupted || received_interrupt()) {
      result.code = ExitCode::interrupted;
      return result;
    }
    return e;
  };

  // --shared borrows the objects through alternates; nothing is written to the original.
  if (Status s = git_in(dir->path(), {"clone", "--shared", "--no-checkout", "--quiet", "--",
                                      repo.common_dir().string(), work.string()});
      !s) {
    return stop(s.error());
  }
  std::vector<std::vector<std::string>> setup = {
      {"checkout", "--quiet", "-B", "perfguard-measure", head->oid}};
  // The identity the user's repository commits with (its local config is not cloned).
  for (const char* key : {"user.name", "user.email"}) {
    auto value = git_output(repo, {"config", "--get", key});
    if (value && !trim_right(*value).empty()) {
      setup.push_back({"config", "--local", key, trim_right(*value)});
    }
  }
  for (auto& args : setup) {
    if (Status s = git_in(work, args); !s) return stop(s.error());
  }
  auto clone = Repository::discover(work);
  if (!clone) return clone.error();

  const bool rollback = wants(options.steps, "rollback") || wants(options.steps, "validate");
  for (int run = 1; run <= options.runs; ++run) {
    if (received_interrupt()) break;
    std::vector<StepRecord> records;
    std::string git_error;

    // The trivial change: one tracked file, different every run.
    {
      std::ofstream f(work / ".perfguard-measure", std::ios::trunc);
      f << "perfguard measure run " << run << "\n";
      if (!f) return make_error(ExitCode::step_failed, "cannot write in the throwaway clone");
    }
    CommitOptions commit;
    commit.message = {"-m", "perfguard measure run " + std::to_string(run)};
    commit.threshold = options.thresholds.commit;
    commit.timeout = options.timeouts.commit;
    commit.kill_grace = options.timeouts.kill_grace;
    commit.warn_only = options.warn_only;
    commit.git_output = StreamMode::capture;
    auto committed = run_commit_step(*clone, commit);
    if (!committed) return stop(committed.error());
    if (wants(options.steps, "commit")) records.push_back(committed->record);
    bool stopped = committed->record.status != StepStatus::ok &&
                   committed->record.status != StepStatus::breach;
    git_error = committed->git_error;

    if (!stopped && rollback) {
      RollbackOptions back;
      back.target = head->oid;  // where the clone started: every run starts from there
      back.validate = wants(options.steps, "validate");
      back.rollback_threshold = options.thresholds.rollback;
      back.validate_threshold = options.thresholds.validate;
      back.rollback_timeout = options.timeouts.rollback;
      back.validate_timeout = options.timeouts.validate;
      back.kill_grace = options.timeouts.kill_grace;
      back.warn_only = options.warn_only;
      back.git_output = StreamMode::capture;
      back.tool = options.tool;
      auto rolled = run_rollback(*clone, back);
      if (!rolled) return stop(rolled.error());
      for (StepRecord& r : rolled->records) {
        stopped = stopped || (r.status != StepStatus::ok && r.status != StepStatus::breach);
        if (wants(options.steps, r.step)) records.push_back(std::move(r));
      }
      if (!rolled->git_error.empty()) git_error = rolled->git_error;
    }

    ExitCode code = ExitCode::ok;
    for (StepRecord& r : records) {
      // The snapshot a rollback took lives, and goes, with the clone: no label points at it.
      std::erase_if(r.labels, [](const auto& label) { return label.first == "snapshot"; });
      r.labels.emplace_back("synthetic", "true");
      code = most_severe(code, ExitCode{r.exit_code});
    }
    if (options.record) code = most_severe(code, options.record(records));
    result.records.insert(result.records.end(), records.begin(), records.end());
    result.code = most_severe(result.code, code);
    result.runs_done = run;
    if (options.progress) options.progress(run, options.runs);
    if (stopped) {
      result.git_error = git_error;
      break;
    }
  }
  if (received_interrupt()) result.code = ExitCode::interrupted;
  return result;
}

}  // namespace perfguard
