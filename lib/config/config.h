#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "core/duration.h"
#include "core/result.h"
#include "notify/channel.h"

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

// A rule of [alerts]: whether it runs and the severity of what it raises.
struct AlertRuleSettings {
  bool enabled = true;
  Severity severity = Severity::warning;
};

// [alerts]: the rules perf-alerts evaluates (perf-alerts(1) says what each fires on) and
// where their alerts go.
struct AlertsConfig {
  bool enabled = true;             // false: no rule is evaluated, on record or by scan
  std::int64_t resolve_after = 3;  // runs clear of its condition before an alert resolves
  AlertRuleSettings threshold{true, Severity::critical};
  AlertRuleSettings baseline;  // its multiplier is the baseline's own (perf-baseline compute)
  struct : AlertRuleSettings {
    double z = 3.0;                 // robust z-score above which a run is an anomaly
    std::int64_t samples = 30;      // the recent runs it is compared with
    std::int64_t min_samples = 10;  // fewer: no verdict
  } anomaly;
  struct : AlertRuleSettings {
    double percent = 20;  // median of the last window above the one before by more than this
    Duration window = Duration::seconds(7 * 24 * 3600);
    std::int64_t min_samples = 10;  // in each window
  } degradation;
  struct : AlertRuleSettings {
    Duration lookback = Duration::seconds(14 * 24 * 3600);  // daily p95s fitted
    Duration horizon = Duration::seconds(14 * 24 * 3600);   // warn when the line crosses within
    std::int64_t min_days = 7;                              // days with runs needed for a fit
  } prediction;
  struct : AlertRuleSettings {
    std::int64_t runs = 3;
  } consecutive;
  struct : AlertRuleSettings {
    std::int64_t max = 5;  // rollbacks and recoveries; more than this in the window fires
    Duration window = Duration::seconds(3600);
  } rollback_rate;
  struct FailureRule : AlertRuleSettings {
    std::int64_t commit = 3, rollback = 1, validate = 1, recover = 1;  // failures in a row
  } failure;
  struct : AlertRuleSettings {
    std::int64_t max_size = 100 * 1000 * 1000;  // bytes of objects, loose and packed
    std::int64_t max_commits = 1000;            // on HEAD
  } health;
  Duration notify_timeout = Duration::seconds(10);
  // [[alerts.webhook]]: where alerts are POSTed. Trusted config only (a cloned repository
  // must not be able to send your alerts elsewhere).
  std::vector<Webhook> webhooks;

  AlertsConfig() {
    baseline.severity = anomaly.severity = degradation.severity = Severity::warning;
    prediction.severity = Severity::info;
    consecutive.severity = Severity::critical;
    rollback_rate.severity = failure.severity = health.severity = Severity::warning;
  }
};

// What `perf-recover --auto` does about a trigger of a given severity ([recover.auto]):
// recover at once, tell people and leave it to them, or nothing.
enum class RecoverAction { none, manual, automatic };
const char* to_string(RecoverAction action);  // "none", "manual", "auto"
std::optional<RecoverAction> parse_recover_action(std::string_view text);

// [recover]: perf-recover's service commands (Config::restart, Config::health_check) are
// timed with these, and --auto decides with the rest.
struct RecoverConfig {
  Duration restart_timeout = Duration::seconds(5);   // the restart command is killed after
  std::optional<Duration> health_timeout;            // unset: what is left of the recover budget
  Duration health_interval = Duration::millis(250);  // between tries of the health check
  struct {
    RecoverAction critical = RecoverAction::automatic;
    RecoverAction warning = RecoverAction::manual;
    RecoverAction info = RecoverAction::none;
    Duration cooldown = Duration::seconds(600);  // since the last recovery
    std::int64_t max_per_hour = 5;               // recoveries in the last hour
    std::int64_t consecutive = 3;                // breaches in a row of a step: a trigger
  } automatic;
};

struct Config {
  Thresholds thresholds;
  Timeouts timeouts;
  std::optional<std::filesystem::path> store_path;          // [store] path / PERFGUARD_DB
  Duration busy_timeout = Duration::seconds(5);             // [store] busy_timeout
  std::optional<std::string> shared;                        // [store] shared / PERFGUARD_SHARED
  std::vector<std::filesystem::path> trusted_repositories;  // [trust] repositories
  std::optional<CommandSpec> restart;                       // [recover] restart
  std::optional<CommandSpec> health_check;                  // [recover] health_check
  std::optional<CommandSpec> notify;                        // [alerts] notify
  AlertsConfig alerts;
  RecoverConfig recover;

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
// Trust: the repository file may set numbers but never commands, the store path or the
// shared store (whose connection string may also hold a password, never printed); those keys
// are ignored with a warning unless the user file lists the repository under [trust]
// repositories.
Result<Config> load_config(const ConfigSources& sources);

}  // namespace perfguard
