#include "git/git.h"

#include <sys/stat.h>

#include <sstream>

namespace perfguard {

std::string trim_right(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

ChildCommand git_command(const Repository& repo, std::vector<std::string> args) {
  ChildCommand cmd;
  cmd.argv = {"git", "--no-pager"};
  cmd.argv.insert(cmd.argv.end(), std::make_move_iterator(args.begin()),
                  std::make_move_iterator(args.end()));
  cmd.cwd = repo.work_tree() ? repo.start_dir() : repo.git_dir();
  return cmd;
}

namespace {

Result<std::string> captured_git(ChildCommand cmd) {
  cmd.out = StreamMode::capture;
  cmd.err = StreamMode::capture;
  auto run = run_child(cmd);
  if (!run) return run.error();
  if (!run->success()) {
    std::string what = cmd.argv.size() > 2 ? "git " + cmd.argv[2] : "git";
    return make_error(ExitCode::step_failed, what + " failed: " + git_message(run->err));
  }
  return std::move(run->out);
}

}  // namespace

Result<std::string> git_output(const Repository& repo, std::vector<std::string> args,
                               const std::map<std::string, std::string>& env) {
  ChildCommand cmd = git_command(repo, std::move(args));
  cmd.env_set = env;
  return captured_git(std::move(cmd));
}

Result<std::string> git_output_of(const Repository& repo, std::vector<std::string> args,
                                  std::string input) {
  ChildCommand cmd = git_command(repo, std::move(args));
  cmd.stdin_data = std::move(input);
  return captured_git(std::move(cmd));
}

std::optional<std::string> rev_parse_commit(const Repository& repo, const std::string& rev) {
  auto out =
      git_output(repo, {"rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"});
  if (!out) return std::nullopt;
  std::string oid = trim_right(*out);
  if (!is_hex_oid(oid)) return std::nullopt;
  return oid;
}

std::string git_binary_key() {
  auto path = find_program("git");
  if (!path) return "";
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0) return path->string();
  return path->string() + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtime);
}

std::string git_version() {
  ChildCommand cmd;
  cmd.argv = {"git", "--version"};
  cmd.out = StreamMode::capture;
  cmd.err = StreamMode::discard;
  auto run = run_child(cmd);
  if (!run || !run->success()) return "";
  std::string out = trim_right(run->out);  // "git version 2.39.5"
  auto pos = out.rfind(' ');
  return pos == std::string::npos ? out : out.substr(pos + 1);
}

std::string git_message(const std::string& output) {
  std::istringstream in(output);
  std::string line, last;
  while (std::getline(in, line)) {
    line = trim_right(line);
    for (const char* prefix : {"fatal: ", "error: "}) {
      if (line.rfind(prefix, 0) == 0) return line.substr(std::string(prefix).size());
    }
    if (!line.empty()) last = line;
  }
  return last.empty() ? "git gave no message" : last;
}

}  // namespace perfguard
