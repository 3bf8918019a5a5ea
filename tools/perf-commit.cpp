// perf-commit: times `git add -A && git commit` and enforces the commit threshold.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/common.h"
#include "steps/commit_step.h"

using namespace perfguard;

namespace {

// -F FILE is read by git only after `git add -A` has staged everything: a file git cannot
// read must be refused before that, or a typo in its name leaves the index changed. A
// relative name is taken from the directory git runs in, which -C has made this one.
Status check_message_file(const std::string& name) {
  if (name == "-") return {};
  struct stat st {};
  if (::stat(name.c_str(), &st) != 0 ||
      (!S_ISDIR(st.st_mode) && ::access(name.c_str(), R_OK) != 0)) {
    return make_error(ExitCode::usage, "-F: cannot read " + name + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    return make_error(ExitCode::usage, "-F: cannot read " + name + ": it is a directory");
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string tool = "perf-commit";
  CLI::App app{"Time `git add -A && git commit`, enforce a threshold, record the result."};
  CommonOptions common;
  add_common_options(app, common);

  std::string message, message_file, threshold, timeout;
  bool no_add = false, warn_only = false;
  std::vector<std::string> pathspecs, git_args;
  auto* m = app.add_option("-m,--message", message, "The commit message")->type_name("MSG");
  app.add_option("-F,--file", message_file, "Take the message from FILE ('-' for stdin)")
      ->type_name("FILE")
      ->excludes(m);
  app.add_flag("--no-add", no_add, "Commit what is staged; do not run `git add -A`");
  app.add_option("--threshold", threshold, "Fail (exit 3) when the commit takes longer")
      ->type_name("DURATION");
  app.add_flag("--warn-only", warn_only, "Report a breach but exit 0");
  app.add_option("--timeout", timeout, "Kill the step at this hard limit (exit 124)")
      ->type_name("DURATION");
  app.add_option("pathspec", pathspecs, "Stage only these paths (instead of everything)");
  app.add_option("--git-arg", git_args, "Pass ARG to `git commit` (repeatable)")
      ->type_name("ARG")
      ->allow_extra_args(false);

  return run_tool(tool, app, argc, argv, [&]() -> int {
    auto session = open_session(tool, common);
    if (!session) return report_error(tool, session.error());

    CommitOptions options;
    if (!message.empty() || app.count("--message")) {
      options.message = {"-m", message};
    } else if (!message_file.empty()) {
      if (auto readable = check_message_file(message_file); !readable)
        return report_error(tool, readable.error());
      options.message = {"-F", message_file};
    } else {
      return report_error(tool,
                          make_error(ExitCode::usage, "no commit message: pass -m MSG or -F FILE"));
    }
    options.stage = !no_add;
    options.warn_only = warn_only || session->paused;  // an emergency: nothing blocks
    options.pathspecs = pathspecs;
    options.git_args = git_args;
    options.threshold = session->config.thresholds.commit;
    options.timeout = session->config.timeouts.commit;
    options.kill_grace = session->config.timeouts.kill_grace;
    options.git_output = session->child_output();
    if (app.count("--threshold")) {
      auto d = parse_limit_flag("--threshold", threshold);
      if (!d) return report_error(tool, d.error());
      options.threshold = *d;
    }
    if (app.count("--timeout")) {
      auto d = parse_limit_flag("--timeout", timeout);
      if (!d) return report_error(tool, d.error());
      options.timeout = *d;
    }

    options.on_git_started = [&] { session->open_store_early(); };
    auto run = run_commit_step(session->repository, options);
    if (!run) return report_error(tool, run.error());

    std::vector<StepRecord> records = {run->record};
    ExitCode code = ExitCode{run->record.exit_code};
    if (!run->git_error.empty() && common.quiet)
      session->error("git commit failed: " + run->git_error);
    code = record_steps(*session, records, code);
    print_steps(*session, records, code);
    ship_later(*session);
    return to_int(code);
  });
}
