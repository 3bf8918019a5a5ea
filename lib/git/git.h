#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "git/repository.h"
#include "process/runner.h"

namespace perfguard {

// A `git` command line run in a repository's work tree (or git dir when bare), with the
// pager off. Everything perfguard asks of the git executable goes through here.
ChildCommand git_command(const Repository& repo, std::vector<std::string> args);

// Runs git, capturing its output; a non-zero exit is an Error (ExitCode::step_failed)
// carrying git's own message.
Result<std::string> git_output(const Repository& repo, std::vector<std::string> args,
                               const std::map<std::string, std::string>& env = {});

// The same, with `input` on git's standard input (paths for `--stdin`, `--index-info`).
Result<std::string> git_output_of(const Repository& repo, std::vector<std::string> args,
                                  std::string input);

// The commit `rev` names, or nothing when it names none.
std::optional<std::string> rev_parse_commit(const Repository& repo, const std::string& rev);

// The version of the git on PATH ("2.39.5"); `cache_key` identifies the binary (path, size,
// mtime) so callers can cache the answer.
std::string git_version();
std::string git_binary_key();

// What git said went wrong: its first "fatal:" or "error:" line without the prefix, else
// its last non-empty line ("nothing to commit, working tree clean").
std::string git_message(const std::string& output);

std::string trim_right(std::string s);

}  // namespace perfguard
