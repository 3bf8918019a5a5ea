#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/result.h"

namespace perfguard {

// A command the user configured (restart, health check, notifier). An array runs without a
// shell; a string runs under `/bin/sh -c`.
struct CommandSpec {
  std::vector<std::string> argv;  // for a string: {"/bin/sh", "-c", text}
  bool shell = false;
};

struct Thresholds {
  Duration commit = Duration::seconds(1);
  Duration rollback = Duration::seconds(2);
  Duration validate = Duration::seconds(5);
  Duration recover = Duration::seconds(10);
};

// Hard limits: a step still running at its timeout is killed (exit 124). Unset: no limit.
struct Timeouts {
  std::optional<Duration> commit, rollback, validate, recover;
  Duration kill_grace = Duration::seconds(2);  // SIGTERM, then SIGKILL after this long
};

struct Config {
  Thresholds thresholds;
  Timeouts timeouts;
  std::optional<std::filesystem::path> store_path;          // [store] path / PERFGUARD_DB
  Duration busy_timeout = Duration::seconds(5);             // [store] busy_timeout
  std::vector<std::filesystem::path> trusted_repositories;  // [trust] repositories
  std::optional<CommandSpec> restart;                       // [recover] restart
  std::optional<CommandSpec> health_check;                  // [recover] health_check
  std::optional<CommandSpec> notify;                        // [alerts] notify

  // One line each, for stderr: command keys ignored in an untrusted repository file, …
  std::vector<std::string> warnings;
  // The files that were read, lowest precedence first.
  std::vector<std::filesystem::path> files_read;
};

// Where configuration comes from. Precedence, lowest first: built-in defaults, user file,
// repository file, explicit file (--config), environment (PERFGUARD_*). Command-line flags
// come last and are applied by the tool.
struct ConfigSources {
  std::optional<std::filesystem::path> user_file;      // missing file: skipped
  std::optional<std::filesystem::path> repo_file;      // missing file: skipped
  std::optional<std::filesystem::path> explicit_file;  // missing file: an error
  std::optional<std::filesystem::path> repo_root;      // the work tree, for the trust rule
  std::map<std::string, std::string> env;              // PERFGUARD_* variables
};

// The user file's default place: $XDG_CONFIG_HOME/perfguard/config.toml, else
// $HOME/.config/perfguard/config.toml.
std::optional<std::filesystem::path> default_user_config_file(
    const std::map<std::string, std::string>& env);

// The PERFGUARD_*, XDG_CONFIG_HOME and HOME variables of this process.
std::map<std::string, std::string> config_environment();

// Loads and validates. Unknown keys, wrong types and bad values are usage errors (exit 2)
// naming file, line and key: `.perfguard.toml:3: thresholds.comit: unknown key`.
// Trust: the repository file may set numbers but never commands or the store path; those
// keys are ignored with a warning unless the user file lists the repository under
// [trust] repositories.
Result<Config> load_config(const ConfigSources& sources);

}  // namespace perfguard
