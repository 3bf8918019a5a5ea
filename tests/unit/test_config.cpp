#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "config/config.h"
#include "support.h"

namespace fs = std::filesystem;
using perfguard::CommandSpec;
using perfguard::Config;
using perfguard::ConfigSources;
using perfguard::Duration;
using perfguard::ExitCode;
using perfguard::load_config;
using perfguard::test::TempDir;
using perfguard::test::write_file;

namespace {

const std::string kBadFast =
    "bad duration 'fast': expected a number and a unit (us, ms, s, m, h, d, w), e.g. 250ms or "
    "1.5s";

// A user file, a repository with its .perfguard.toml, and an explicit file, all in `tmp`.
struct Setup {
  const TempDir& tmp;
  fs::path user = tmp / "home/.config/perfguard/config.toml";
  fs::path repo = tmp / "repo";
  fs::path repo_file = repo / ".perfguard.toml";
  fs::path explicit_file = tmp / "explicit.toml";

  ConfigSources sources() const {
    ConfigSources s;
    s.user_file = user;
    s.repo_file = repo_file;
    s.repo_root = repo;
    s.env["HOME"] = (tmp / "home").string();
    return s;
  }
};

std::string error_of(const perfguard::Result<Config>& result) {
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ExitCode::usage);
  return result.error().message;
}

}  // namespace

TEST_CASE("config defaults apply when no file exists") {
  TempDir tmp;
  Setup setup{tmp};
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  CHECK(config->thresholds.commit == Duration::seconds(1));
  CHECK(config->thresholds.rollback == Duration::seconds(2));
  CHECK(config->thresholds.validate == Duration::seconds(5));
  CHECK(config->thresholds.recover == Duration::seconds(10));
  CHECK_FALSE(config->timeouts.commit.has_value());
  CHECK(config->timeouts.kill_grace == Duration::seconds(2));
  CHECK(config->busy_timeout == Duration::seconds(5));
  CHECK_FALSE(config->store_path.has_value());
  CHECK_FALSE(config->restart.has_value());
  CHECK(config->files_read.empty());
  CHECK(config->warnings.empty());
}

TEST_CASE("config precedence is user < repository < explicit < environment") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.user,
             "[thresholds]\ncommit = \"1.1s\"\nrollback = \"2.1s\"\nvalidate = \"5.1s\"\n"
             "recover = \"10.1s\"\n");
  write_file(setup.repo_file,
             "[thresholds]\nrollback = \"2.2s\"\nvalidate = \"5.2s\"\nrecover = \"10.2s\"\n");
  write_file(setup.explicit_file, "[thresholds]\nvalidate = \"5.3s\"\nrecover = \"10.3s\"\n");
  auto sources = setup.sources();
  sources.explicit_file = setup.explicit_file;
  sources.env["PERFGUARD_THRESHOLDS_RECOVER"] = "10.4s";

  auto config = load_config(sources);
  REQUIRE(config.ok());
  CHECK(config->thresholds.commit == Duration::millis(1100));
  CHECK(config->thresholds.rollback == Duration::millis(2200));
  CHECK(config->thresholds.validate == Duration::millis(5300));
  CHECK(config->thresholds.recover == Duration::millis(10400));
  CHECK(config->files_read ==
        std::vector<fs::path>{setup.user, setup.repo_file, setup.explicit_file});
}

TEST_CASE("config reads timeouts and store settings") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.user,
             "[timeouts]\ncommit = \"30s\"\nkill_grace = \"500ms\"\n"
             "[store]\npath = \"/var/perf.db\"\nbusy_timeout = \"10s\"\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  CHECK(config->timeouts.commit == Duration::seconds(30));
  CHECK_FALSE(config->timeouts.rollback.has_value());
  CHECK(config->timeouts.kill_grace == Duration::millis(500));
  CHECK(config->store_path == fs::path("/var/perf.db"));
  CHECK(config->busy_timeout == Duration::seconds(10));
}

TEST_CASE("config store.path relative to its file and ~/ from HOME") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.explicit_file, "[store]\npath = \"data/perf.db\"\n");
  auto sources = setup.sources();
  sources.explicit_file = setup.explicit_file;
  auto config = load_config(sources);
  REQUIRE(config.ok());
  CHECK(config->store_path == tmp.path() / "data/perf.db");

  write_file(setup.explicit_file, "[store]\npath = \"~/perf.db\"\n");
  config = load_config(sources);
  REQUIRE(config.ok());
  CHECK(config->store_path == tmp.path() / "home/perf.db");
}

TEST_CASE("config missing user and repository files are skipped") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.explicit_file, "[thresholds]\ncommit = \"3s\"\n");
  auto sources = setup.sources();
  sources.explicit_file = setup.explicit_file;
  auto config = load_config(sources);
  REQUIRE(config.ok());
  CHECK(config->thresholds.commit == Duration::seconds(3));
  CHECK(config->files_read == std::vector<fs::path>{setup.explicit_file});
}

TEST_CASE("config explicit file that does not exist is an error") {
  TempDir tmp;
  Setup setup{tmp};
  auto sources = setup.sources();
  sources.explicit_file = tmp / "nope.toml";
  CHECK(error_of(load_config(sources)) ==
        "config file " + (tmp / "nope.toml").string() + " does not exist");
}

TEST_CASE("config file that cannot be read is an error") {
  TempDir tmp;
  Setup setup{tmp};
  fs::create_directories(setup.repo_file);  // a directory where the file should be
  std::string message = error_of(load_config(setup.sources()));
  CHECK(message.find("cannot read config file " + setup.repo_file.string()) == 0);
}

TEST_CASE("config unknown key names file, line and key") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.repo_file, "[thresholds]\ncommit = \"1s\"\ncomit = \"2s\"\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.repo_file.string() +
            ":3: thresholds.comit: unknown key (expected one of: commit, rollback, validate, "
            "recover)");
}

TEST_CASE("config unknown table names file, line and table") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.user, "# mine\n[threshold]\ncommit = \"1s\"\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() +
            ":2: threshold: unknown table (expected one of: thresholds, timeouts, store, trust, "
            "recover, alerts)");
}

TEST_CASE("config bad duration names line and key") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.repo_file, "[thresholds]\ncommit = \"fast\"\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.repo_file.string() + ":2: thresholds.commit: " + kBadFast);
}

TEST_CASE("config invalid TOML names the line") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.repo_file, "[thresholds]\ncommit = \"1s\"\n\nrollback = \n");
  std::string message = error_of(load_config(setup.sources()));
  CHECK(message.find(setup.repo_file.string() + ":4: invalid TOML: ") == 0);
}

TEST_CASE("config wrong type names the expected type") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.user, "[thresholds]\ncommit = 1\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() +
            ":2: thresholds.commit: expected a duration string like \"1.5s\", got an integer");

  write_file(setup.user, "thresholds = 5\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() + ":1: thresholds: expected a table, got an integer");

  write_file(setup.user, "[store]\npath = true\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() + ":2: store.path: expected a path string, got a boolean");

  write_file(setup.user, "[trust]\nrepositories = \"/r\"\n");
  CHECK(error_of(load_config(setup.sources()))
            .find(":2: trust.repositories: expected an array of path strings") !=
        std::string::npos);
}

TEST_CASE("config reports the first mistake in file order") {
  TempDir tmp;
  Setup setup{tmp};
  // Tables are stored sorted by name; [alerts] must not be reported before line 2.
  write_file(setup.user, "[thresholds]\ncommit = \"fast\"\n\n[alerts]\nnotify = 5\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() + ":2: thresholds.commit: " + kBadFast);
}

TEST_CASE("config commands: an array runs without a shell, a string under /bin/sh -c") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.user,
             "[recover]\nrestart = [\"systemctl\", \"restart\", \"app\"]\n"
             "health_check = \"curl -fsS localhost:8080/health | grep ok\"\n"
             "[alerts]\nnotify = [\"notify-send\"]\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  REQUIRE(config->restart.has_value());
  CHECK(config->restart->argv == std::vector<std::string>{"systemctl", "restart", "app"});
  CHECK_FALSE(config->restart->shell);
  REQUIRE(config->health_check.has_value());
  CHECK(config->health_check->argv ==
        std::vector<std::string>{"/bin/sh", "-c", "curl -fsS localhost:8080/health | grep ok"});
  CHECK(config->health_check->shell);
  REQUIRE(config->notify.has_value());
  CHECK(config->notify->argv == std::vector<std::string>{"notify-send"});
}

TEST_CASE("config empty or malformed commands are errors") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.user, "[recover]\nrestart = []\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() + ":2: recover.restart: empty command");

  write_file(setup.user, "[recover]\nrestart = \"  \"\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() + ":2: recover.restart: empty command");

  write_file(setup.user, "[alerts]\nnotify = [\"mail\", 5]\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() + ":2: alerts.notify[1]: expected a string, got an integer");

  write_file(setup.user, "[alerts]\nnotify = 5\n");
  CHECK(error_of(load_config(setup.sources()))
            .find(":2: alerts.notify: expected a command: an array of strings") !=
        std::string::npos);
}

TEST_CASE("config repository file commands are ignored with a warning") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.repo_file,
             "[thresholds]\ncommit = \"3s\"\n\n[recover]\nrestart = \"rm -rf ~\"\n"
             "health_check = [\"true\"]\n[alerts]\nnotify = \"curl evil\"\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  CHECK(config->thresholds.commit == Duration::seconds(3));  // numbers still apply
  CHECK_FALSE(config->restart.has_value());
  CHECK_FALSE(config->health_check.has_value());
  CHECK_FALSE(config->notify.has_value());
  REQUIRE(config->warnings.size() == 3);
  CHECK(config->warnings[0] ==
        setup.repo_file.string() +
            ":5: recover.restart: ignored: a repository file cannot set commands; trust this "
            "repository from your user config ([trust] repositories = [\"" +
            setup.repo.string() + "\"])");
  CHECK(config->warnings[1].find(setup.repo_file.string() + ":6: recover.health_check: ignored") ==
        0);
  CHECK(config->warnings[2].find(setup.repo_file.string() + ":8: alerts.notify: ignored") == 0);
}

TEST_CASE("config repository file commands are honoured when the user trusts it") {
  TempDir tmp;
  Setup setup{tmp};
  fs::create_directories(setup.repo);
  // A different spelling of the same directory still matches.
  write_file(setup.user, "[trust]\nrepositories = [\"/nowhere\", \"~/../repo/\"]\n");
  write_file(setup.repo_file,
             "[recover]\nrestart = [\"make\", \"restart\"]\n[store]\npath = \"perf.db\"\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  CHECK(config->warnings.empty());
  REQUIRE(config->restart.has_value());
  CHECK(config->restart->argv == std::vector<std::string>{"make", "restart"});
  CHECK(config->store_path == setup.repo / "perf.db");
  CHECK(config->trusted_repositories.size() == 2);
}

TEST_CASE("config trusting another repository does not trust this one") {
  TempDir tmp;
  Setup setup{tmp};
  fs::create_directories(setup.repo);
  fs::create_directories(tmp / "other");
  write_file(setup.user, "[trust]\nrepositories = [\"" + (tmp / "other").string() + "\"]\n");
  write_file(setup.repo_file, "[recover]\nrestart = \"make restart\"\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  CHECK_FALSE(config->restart.has_value());
  CHECK(config->warnings.size() == 1);
}

TEST_CASE("config store.path in a repository file is ignored with a warning") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.repo_file, "[store]\npath = \"/tmp/elsewhere.db\"\nbusy_timeout = \"1s\"\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  CHECK_FALSE(config->store_path.has_value());
  CHECK(config->busy_timeout == Duration::seconds(1));
  REQUIRE(config->warnings.size() == 1);
  CHECK(config->warnings[0].find(setup.repo_file.string() +
                                 ":2: store.path: ignored: a repository file cannot set the "
                                 "store path; trust this repository") == 0);
}

TEST_CASE("config a repository file cannot trust itself") {
  TempDir tmp;
  Setup setup{tmp};
  fs::create_directories(setup.repo);
  write_file(setup.repo_file, "[trust]\nrepositories = [\"" + setup.repo.string() +
                                  "\"]\n[recover]\nrestart = \"make restart\"\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  CHECK(config->trusted_repositories.empty());
  CHECK_FALSE(config->restart.has_value());
  REQUIRE(config->warnings.size() == 2);
  CHECK(config->warnings[0].find(":2: trust.repositories: ignored: only your user config") !=
        std::string::npos);
}

TEST_CASE("config ignored keys are still checked") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.repo_file, "[recover]\nrestart = []\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.repo_file.string() + ":2: recover.restart: empty command");
}

TEST_CASE("config explicit file and environment may set commands") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.explicit_file, "[recover]\nrestart = [\"make\", \"restart\"]\n");
  auto sources = setup.sources();
  sources.explicit_file = setup.explicit_file;
  sources.env["PERFGUARD_ALERTS_NOTIFY"] = "mail -s breach ops";
  sources.env["PERFGUARD_RECOVER_HEALTH_CHECK"] = "curl -fsS localhost";
  auto config = load_config(sources);
  REQUIRE(config.ok());
  CHECK(config->warnings.empty());
  REQUIRE(config->restart.has_value());
  CHECK(config->restart->argv == std::vector<std::string>{"make", "restart"});
  REQUIRE(config->notify.has_value());
  CHECK(config->notify->argv == std::vector<std::string>{"/bin/sh", "-c", "mail -s breach ops"});
  CHECK(config->notify->shell);
  REQUIRE(config->health_check.has_value());
  CHECK(config->health_check->shell);
}

TEST_CASE("config environment sets durations and the store path") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.user, "[store]\npath = \"/from/file.db\"\n");
  auto sources = setup.sources();
  sources.env["PERFGUARD_DB"] = "/from/env.db";
  sources.env["PERFGUARD_TIMEOUTS_ROLLBACK"] = "1m";
  sources.env["PERFGUARD_TIMEOUTS_KILL_GRACE"] = "100ms";
  sources.env["PERFGUARD_STORE_BUSY_TIMEOUT"] = "250ms";
  sources.env["PERFGUARD_THRESHOLDS_VALIDATE"] = "";  // empty means unset
  auto config = load_config(sources);
  REQUIRE(config.ok());
  CHECK(config->store_path == fs::path("/from/env.db"));
  CHECK(config->timeouts.rollback == Duration::seconds(60));
  CHECK(config->timeouts.kill_grace == Duration::millis(100));
  CHECK(config->busy_timeout == Duration::millis(250));
  CHECK(config->thresholds.validate == Duration::seconds(5));
}

TEST_CASE("config bad environment value names the variable") {
  TempDir tmp;
  Setup setup{tmp};
  auto sources = setup.sources();
  sources.env["PERFGUARD_THRESHOLDS_COMMIT"] = "fast";
  CHECK(error_of(load_config(sources)) == "PERFGUARD_THRESHOLDS_COMMIT: " + kBadFast);
}

TEST_CASE("config unknown PERFGUARD_ variables are ignored") {
  TempDir tmp;
  Setup setup{tmp};
  auto sources = setup.sources();
  sources.env["PERFGUARD_FOO"] = "bar";
  sources.env["PERFGUARD_BIN"] = "/usr/local/bin";
  sources.env["PERFGUARD_THRESHOLDS_COMIT"] = "fast";
  auto config = load_config(sources);
  CHECK(config.ok());
}

TEST_CASE("default_user_config_file follows XDG_CONFIG_HOME, then HOME") {
  using perfguard::default_user_config_file;
  CHECK(default_user_config_file({{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}}) ==
        fs::path("/x/perfguard/config.toml"));
  CHECK(default_user_config_file({{"XDG_CONFIG_HOME", ""}, {"HOME", "/h"}}) ==
        fs::path("/h/.config/perfguard/config.toml"));
  CHECK(default_user_config_file({{"XDG_CONFIG_HOME", "relative"}, {"HOME", "/h"}}) ==
        fs::path("/h/.config/perfguard/config.toml"));
  CHECK(default_user_config_file({{"HOME", "/h"}}) == fs::path("/h/.config/perfguard/config.toml"));
  CHECK_FALSE(default_user_config_file({}).has_value());
}

TEST_CASE("config_environment collects PERFGUARD_ variables, HOME and XDG_CONFIG_HOME") {
  setenv("PERFGUARD_TEST_CONFIG_ENV", "yes", 1);
  setenv("NOT_PERFGUARD_TEST_CONFIG_ENV", "no", 1);
  auto env = perfguard::config_environment();
  unsetenv("PERFGUARD_TEST_CONFIG_ENV");
  unsetenv("NOT_PERFGUARD_TEST_CONFIG_ENV");
  CHECK(env["PERFGUARD_TEST_CONFIG_ENV"] == "yes");
  CHECK(env.count("NOT_PERFGUARD_TEST_CONFIG_ENV") == 0);
  if (const char* home = std::getenv("HOME")) CHECK(env["HOME"] == home);
  CHECK(env.count("PATH") == 0);
}

TEST_CASE("a config file that is not a regular file is refused without reading it") {
  TempDir tmp;
  Setup setup{tmp};
  std::filesystem::create_directories(setup.repo);
  // A FIFO nobody writes to: reading it would wait forever.
  REQUIRE(::mkfifo(setup.repo_file.c_str(), 0600) == 0);
  CHECK(error_of(load_config(setup.sources())) ==
        "cannot read config file " + setup.repo_file.string() +
            ": it is a FIFO, not a regular file; config is read only from regular files");
  fs::remove(setup.repo_file);
  fs::create_symlink("/dev/zero", setup.repo_file);
  CHECK(error_of(load_config(setup.sources())).find("it is a character device") !=
        std::string::npos);
}

TEST_CASE("a config file over 1 MiB is refused") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.explicit_file, std::string((1 << 20) + 1, '\n'));
  auto sources = setup.sources();
  sources.explicit_file = setup.explicit_file;
  CHECK(error_of(load_config(sources)) == "cannot read config file " +
                                              setup.explicit_file.string() +
                                              ": it is larger than 1 MiB; not a config file");
  write_file(setup.explicit_file, std::string(1 << 20, '\n'));
  CHECK(load_config(sources).ok());
}

TEST_CASE("durations out of range are errors naming file, line and key") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.repo_file, "[thresholds]\ncommit = \"9223372036854775807us\"\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.repo_file.string() +
            ":2: thresholds.commit: '9223372036854775807us' is out of range: at most 7d");
  write_file(setup.repo_file, "[timeouts]\nrollback = \"0s\"\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.repo_file.string() + ":2: timeouts.rollback: '0s' is out of range: must be positive");
  write_file(setup.repo_file, "[timeouts]\nkill_grace = \"0s\"\n[store]\nbusy_timeout = \"7d\"\n");
  CHECK(load_config(setup.sources()).ok());
  auto sources = setup.sources();
  sources.env["PERFGUARD_THRESHOLDS_COMMIT"] = "8d";
  CHECK(error_of(load_config(sources)) ==
        "PERFGUARD_THRESHOLDS_COMMIT: '8d' is out of range: at most 7d");
}

TEST_CASE("config with a non-ASCII character where a key may start is a usage error") {
  // toml++ 3.3 reached undefined behaviour classifying U+0350 and its neighbours as
  // whitespace or not (found by tests/fuzz/fuzz_config).
  TempDir tmp;
  Setup setup{tmp};
  for (const char* text : {"[ds]\n\xCD\x90mit = \"0s\"\n", "\xC3\xA9 = 1\n", "a = 1 \xC2\xA7\n",
                           "[thresholds]\ncommit = \"1s\" \xD0\x96\n"}) {
    CAPTURE(text);
    write_file(setup.explicit_file, text);
    ConfigSources sources = setup.sources();
    sources.explicit_file = setup.explicit_file;
    CHECK(error_of(load_config(sources)).find(setup.explicit_file.string()) == 0);
  }
}

TEST_CASE("config [alerts] rule tables set numbers, switches and severities") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.repo_file,
             "[alerts]\nresolve_after = 5\n\n[alerts.anomaly]\nz = 2.5\nsamples = 50\n"
             "severity = \"critical\"\n\n[alerts.degradation]\npercent = 30\nwindow = \"14d\"\n"
             "\n[alerts.consecutive]\nenabled = false\n\n[alerts.health]\nmax_size = \"2GB\"\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  const auto& a = config->alerts;
  CHECK(a.resolve_after == 5);
  CHECK(a.anomaly.z == 2.5);
  CHECK(a.anomaly.samples == 50);
  CHECK(a.anomaly.severity == perfguard::Severity::critical);
  CHECK(a.degradation.percent == 30);  // an integer where a number goes
  CHECK(a.degradation.window == Duration::seconds(14 * 86400));
  CHECK_FALSE(a.consecutive.enabled);
  CHECK(a.health.max_size == 2000000000);
  // Untouched rules keep their defaults.
  CHECK(a.threshold.enabled);
  CHECK(a.threshold.severity == perfguard::Severity::critical);
  CHECK(a.prediction.severity == perfguard::Severity::info);
  CHECK(a.failure.commit == 3);
  CHECK(a.failure.rollback == 1);
}

TEST_CASE("config [alerts] values from the environment") {
  TempDir tmp;
  Setup setup{tmp};
  auto sources = setup.sources();
  sources.env["PERFGUARD_ALERTS_ENABLED"] = "false";
  sources.env["PERFGUARD_ALERTS_ANOMALY_Z"] = "4";
  sources.env["PERFGUARD_ALERTS_BASELINE_SEVERITY"] = "info";
  sources.env["PERFGUARD_ALERTS_ROLLBACK_RATE_WINDOW"] = "30m";
  auto config = load_config(sources);
  REQUIRE(config.ok());
  CHECK_FALSE(config->alerts.enabled);
  CHECK(config->alerts.anomaly.z == 4);
  CHECK(config->alerts.baseline.severity == perfguard::Severity::info);
  CHECK(config->alerts.rollback_rate.window == Duration::seconds(1800));

  sources.env["PERFGUARD_ALERTS_CONSECUTIVE_RUNS"] = "three";
  CHECK(error_of(load_config(sources)) ==
        "PERFGUARD_ALERTS_CONSECUTIVE_RUNS: 'three' is not a whole number");
  sources.env.erase("PERFGUARD_ALERTS_CONSECUTIVE_RUNS");
  sources.env["PERFGUARD_ALERTS_ENABLED"] = "yes";
  CHECK(error_of(load_config(sources)) ==
        "PERFGUARD_ALERTS_ENABLED: 'yes' is not a boolean (true or false)");
}

TEST_CASE("config [alerts] mistakes name the file, line and key") {
  TempDir tmp;
  Setup setup{tmp};
  auto expect = [&](const std::string& text, const std::string& message) {
    write_file(setup.user, text);
    CHECK(error_of(load_config(setup.sources())) == setup.user.string() + ":" + message);
  };
  expect("[alerts.anomaly]\nz = \"high\"\n",
         "2: alerts.anomaly.z: expected a number, got a string");
  expect("[alerts.anomaly]\nz = 0.0\n",
         "2: alerts.anomaly.z: '0' is out of range: from 0.1 to 1000");
  expect("[alerts.consecutive]\nruns = 0\n",
         "2: alerts.consecutive.runs: '0' is out of range: from 1 to 10000");
  expect("[alerts.threshold]\nseverity = \"urgent\"\n",
         "2: alerts.threshold.severity: 'urgent' is not a severity (info, warning or critical)");
  expect("[alerts.threshold]\nenabled = \"no\"\n",
         "2: alerts.threshold.enabled: expected true or false, got a string");
  expect("[alerts.prediction]\nhorizon = \"400d\"\n",
         "2: alerts.prediction.horizon: '400d' is out of range: at most 366d");
  expect("[alerts.anomaly]\nzz = 1\n",
         "2: alerts.anomaly.zz: unknown key (expected one of: enabled, severity, z, samples, "
         "min_samples)");
  expect("[alerts]\nbaseline = 2\n", "2: alerts.baseline: expected a table, got an integer");
}

TEST_CASE("config [[alerts.webhook]] tables are read and checked") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.user,
             "[[alerts.webhook]]\nurl = \"https://hooks.example.com/T/B/secret\"\n"
             "format = \"slack\"\n\n[[alerts.webhook]]\nurl = \"http://127.0.0.1:9/x\"\n"
             "format = \"pagerduty\"\nrouting_key = \"R0UT1NG\"\nmin_severity = \"critical\"\n"
             "timeout = \"3s\"\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  REQUIRE(config->alerts.webhooks.size() == 2);
  CHECK(config->alerts.webhooks[0].format == perfguard::WebhookFormat::slack);
  CHECK(config->alerts.webhooks[0].min_severity == perfguard::Severity::warning);
  CHECK(config->alerts.webhooks[1].routing_key == "R0UT1NG");
  CHECK(config->alerts.webhooks[1].min_severity == perfguard::Severity::critical);
  CHECK(config->alerts.webhooks[1].timeout == Duration::seconds(3));

  write_file(setup.user, "[[alerts.webhook]]\nformat = \"json\"\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() + ":1: alerts.webhook[0]: a webhook needs a url");
  write_file(setup.user, "[[alerts.webhook]]\nurl = \"ftp://x\"\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() + ":2: alerts.webhook[0].url: expected an http:// or https:// URL");
  write_file(setup.user, "[[alerts.webhook]]\nurl = \"https://x\"\nformat = \"pagerduty\"\n");
  CHECK(error_of(load_config(setup.sources())).find("needs a routing_key") != std::string::npos);
}

TEST_CASE("config webhooks in an untrusted repository file are ignored with a warning") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.repo_file,
             "[alerts.anomaly]\nz = 5.0\n\n[[alerts.webhook]]\nurl = \"https://evil.example\"\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  CHECK(config->alerts.anomaly.z == 5.0);  // numbers still apply
  CHECK(config->alerts.webhooks.empty());
  REQUIRE(config->warnings.size() == 1);
  CHECK(config->warnings[0].find(":4: alerts.webhook: ignored: a repository file cannot set") !=
        std::string::npos);
}

TEST_CASE("config [recover] and its decision matrix [recover.auto]") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.repo_file,
             "[recover]\nrestart_timeout = \"2s\"\nhealth_interval = \"100ms\"\n\n"
             "[recover.auto]\ncritical = \"manual\"\nwarning = \"none\"\ncooldown = \"0s\"\n"
             "max_per_hour = 2\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  const auto& r = config->recover;
  CHECK(r.restart_timeout == Duration::seconds(2));
  CHECK(r.health_interval == Duration::millis(100));
  CHECK_FALSE(r.health_timeout.has_value());
  CHECK(r.automatic.critical == perfguard::RecoverAction::manual);
  CHECK(r.automatic.warning == perfguard::RecoverAction::none);
  CHECK(r.automatic.info == perfguard::RecoverAction::none);
  CHECK(r.automatic.cooldown == Duration{});  // zero: no cooldown
  CHECK(r.automatic.max_per_hour == 2);
  CHECK(r.automatic.consecutive == 3);

  auto sources = setup.sources();
  sources.env["PERFGUARD_RECOVER_AUTO_INFO"] = "auto";
  auto from_env = load_config(sources);
  REQUIRE(from_env.ok());
  CHECK(from_env->recover.automatic.info == perfguard::RecoverAction::automatic);

  auto expect = [&](const std::string& text, const std::string& message) {
    write_file(setup.user, text);
    CHECK(error_of(load_config(setup.sources())) == setup.user.string() + ":" + message);
  };
  expect("[recover.auto]\ncritical = \"yes\"\n",
         "2: recover.auto.critical: 'yes' is not an action (auto, manual or none)");
  expect("[recover]\nrestart_timeout = \"0s\"\n",
         "2: recover.restart_timeout: '0s' is out of range: must be positive");
}

TEST_CASE("config store.shared from the user file, --config and the environment") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.user, "[store]\nshared = \"postgresql://writer:secret@db/perf\"\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  CHECK(config->shared == std::string("postgresql://writer:secret@db/perf"));

  write_file(setup.explicit_file, "[store]\nshared = \"service=perf\"\n");
  auto sources = setup.sources();
  sources.explicit_file = setup.explicit_file;
  config = load_config(sources);
  REQUIRE(config.ok());
  CHECK(config->shared == std::string("service=perf"));

  sources.env["PERFGUARD_SHARED"] = "host=/run/db dbname=perf";
  config = load_config(sources);
  REQUIRE(config.ok());
  CHECK(config->shared == std::string("host=/run/db dbname=perf"));

  sources.env["PERFGUARD_SHARED"] = "";  // blank: unset, the files' value stands
  config = load_config(sources);
  REQUIRE(config.ok());
  CHECK(config->shared == std::string("service=perf"));
}

TEST_CASE("config store.shared in a repository file is ignored with a warning") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.repo_file, "[store]\nshared = \"postgresql://attacker@evil/collect\"\n");
  auto config = load_config(setup.sources());
  REQUIRE(config.ok());
  CHECK_FALSE(config->shared.has_value());
  REQUIRE(config->warnings.size() == 1);
  CHECK(config->warnings[0].find(setup.repo_file.string() +
                                 ":2: store.shared: ignored: a repository file cannot set the "
                                 "shared store; trust this repository") == 0);
}

TEST_CASE("config store.shared must be a non-empty string, and is not echoed back") {
  TempDir tmp;
  Setup setup{tmp};
  write_file(setup.user, "[store]\nshared = \"  \"\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() +
            ":2: store.shared: expected a connection string or service name, got an empty "
            "string");
  write_file(setup.user, "[store]\nshared = 5432\n");
  CHECK(error_of(load_config(setup.sources())) ==
        setup.user.string() +
            ":2: store.shared: expected a connection string like \"postgresql://user@host/db\" "
            "or a service name like \"service=perf\", got an integer");
}
