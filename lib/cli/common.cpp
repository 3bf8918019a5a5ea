#include "cli/common.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <thread>

#include "alerts/channels.h"
#include "alerts/pause_mark.h"
#include "alerts/rules.h"
#include "cli/external.h"
#include "core/clock.h"
#include "core/version.h"
#include "git/git.h"
#include "output/json.h"
#include "output/progress.h"
#include "output/table.h"
#include "process/tool_marker.h"
#include "store/journal.h"
#include "sync/target.h"
#include "trace/context.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

bool is_label_key(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

Result<Labels> parse_labels(const std::vector<std::string>& items) {
  Labels labels;
  for (const auto& item : items) {
    auto eq = item.find('=');
    std::string key = item.substr(0, eq);
    if (eq == std::string::npos || !is_label_key(key)) {
      return make_error(ExitCode::usage, "bad label '" + item +
                                             "': expected key=value, the key made of letters, "
                                             "digits, '_', '.' or '-'");
    }
    labels.emplace_back(key, item.substr(eq + 1));
  }
  return labels;
}

// `text` as one word for a POSIX shell: as it is when that is safe, else in single quotes.
std::string shell_word(const std::string& text) {
  const bool plain = !text.empty() && text.find_first_not_of(
                                          "abcdefghijklmnopqrstuvwxyz"
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789/._-+,:@%") == std::string::npos;
  if (plain) return text;
  std::string word = "'";
  for (char c : text) word += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return word + "'";
}

// getcwd() fails when the directory was removed while a shell was still in it. `context`
// says what needed it; `fix` is the way round it besides a cd.
Error current_directory_error(const std::error_code& ec, const std::string& context,
                              const std::string& fix) {
  return make_error(ExitCode::usage, ec == std::errc::no_such_file_or_directory
                                         ? "the current directory was deleted" + context +
                                               ": cd to one that exists, or " + fix
                                         : "cannot find the current directory: " + ec.message() +
                                               context + ": cd to another, or " + fix);
}

// -C DIR, as git does it: the process moves there before anything reads a path, so a
// relative --db, --config, -o, -F, import file or PERFGUARD_DB means the same to us as a
// relative path means to `git -C DIR`. Each DIR is taken from the one before (`-C a -C b`
// is a/b); an empty one changes nothing.
Status enter_directories(const std::vector<std::string>& directories) {
  for (const std::string& dir : directories) {
    if (dir.empty() || ::chdir(dir.c_str()) == 0) continue;
    const int err = errno;
    fs::path named = dir;
    if (named.is_relative()) {
      std::error_code ec;
      const fs::path here = fs::current_path(ec);
      if (ec) {
        return current_directory_error(ec, ": -C " + dir + " is taken from it",
                                       "give -C a full path");
      }
      named = here / named;
    }
    const std::string where = named.lexically_normal().string();
    if (err == ENOENT || err == ENOTDIR) {
      return make_error(ExitCode::usage, where + ": no such directory");
    }
    return make_error(ExitCode::usage, where + ": cannot run there: " + std::strerror(err));
  }
  return {};
}

// The store and the git version it has cached, as record_steps needs them.
struct OpenedStore {
  Result<Store> store = make_error(ExitCode::store, "");
  std::string git_key;
  std::optional<std::string> git_version;
};

OpenedStore open_store(const std::filesystem::path& path, Duration busy_timeout) {
  OpenedStore opened;
  opened.store = Store::open({path, busy_timeout, true});
  if (opened.store) {
    opened.git_key = git_binary_key();
    opened.git_version = opened.store->cached_git_version(opened.git_key);
  }
  return opened;
}

SnapshotRow snapshot_row(const Snapshot& s) {
  return SnapshotRow{s.id, s.commit, s.head, s.branch, s.created_us, s.tool, s.reason};
}

}  // namespace

struct EarlyStore {
  std::thread thread;
  OpenedStore opened;

  ~EarlyStore() {
    if (thread.joinable()) thread.join();
  }
  OpenedStore take() {
    if (thread.joinable()) thread.join();
    return std::move(opened);
  }
};

void add_common_options(CLI::App& app, CommonOptions& o, bool recording) {
  app.set_version_flag("--version", std::string(kVersion));
  app.add_option("-C", o.directories,
                 "Run as if started in DIR, like `git -C`: relative paths are taken from there")
      ->type_name("DIR")
      ->allow_extra_args(false);
  app.add_option("--db", o.db, "The metrics store (default: <git common dir>/perfguard/perf.db)")
      ->type_name("PATH")
      ->envname("PERFGUARD_DB");
  app.add_option("--config", o.config_file, "Read this configuration file too")->type_name("FILE");
  app.add_option("--format", o.format, "Output format: text, json, jsonl, csv or tsv")
      ->type_name("FORMAT");
  app.add_flag("--json", o.json, "Shorthand for --format json");
  app.add_flag("-q,--quiet", o.quiet, "Print nothing on success");
  app.add_flag("-v,--verbose", o.verbose, "Say more about what is done");
  if (recording) {
    app.add_option("-k,--label", o.labels, "Attach a key=value label to the record (repeatable)")
        ->type_name("KEY=VALUE");
    app.add_flag("--no-record", o.no_record, "Do not append the result to the store");
  }
}

void add_shared_store_options(CLI::App& app, CommonOptions& o) {
  o.reads_shared = true;
  if (auto* db = app.get_option_no_throw("--db")) {
    db->description(
        "The metrics store: a file (default: <git common dir>/perfguard/perf.db), or the shared "
        "store as postgresql://…");
  }
  app.add_flag("--shared", o.shared,
               "Read the team's shared store ([store] shared, PERFGUARD_SHARED) instead of the "
               "local one");
}

Result<Duration> parse_limit_flag(const std::string& flag, const std::string& text) {
  auto d = parse_duration(text);
  if (!d) return make_error(ExitCode::usage, flag + ": " + d.error().message);
  if (d->us <= 0) {
    return make_error(ExitCode::usage, flag + ": '" + text + "' is out of range: must be positive");
  }
  return *d;
}

Result<ToolSession> open_session(const std::string& tool, const CommonOptions& options,
                                 bool repository_optional) {
  ToolSession s;
  s.tool = tool;
  s.options = options;
  auto format = parse_format(options.json ? "json" : options.format);
  if (!format) {
    return make_error(ExitCode::usage, "unknown --format '" + options.format +
                                           "': expected text, json, jsonl, csv or tsv");
  }
  s.format = *format;
  auto labels = parse_labels(options.labels);
  if (!labels) return labels.error();
  s.labels = *labels;
  if (auto delay = progress_delay_from_environment(); !delay) return delay.error();

  if (names_shared_store(options.db) && !options.reads_shared) {
    return make_error(
        ExitCode::usage,
        "--db " + std::string(options.db.starts_with("postgres://") ? "postgres" : "postgresql") +
            "://…: " + tool +
            " records into the local store, a file; the shared store takes its "
            "records from `perf-baseline sync`");
  }
  if (options.shared && names_shared_store(options.db)) {
    return make_error(ExitCode::usage,
                      "--shared and --db postgresql://… both name the shared "
                      "store: give one");
  }
  if (Status entered = enter_directories(options.directories); !entered) return entered.error();
  std::error_code ec;
  const fs::path start = fs::current_path(ec);
  if (ec) return current_directory_error(ec, "", "pass -C DIR");
  auto repo = Repository::discover(start);
  if (repo) {
    s.repository = *repo;
  } else if (repository_optional && (!options.db.empty() || options.shared)) {
    s.in_repository = false;  // a store named outside any repository: fine for queries
  } else {
    return repo.error();
  }

  ConfigSources sources;
  sources.env = config_environment();
  sources.user_file = default_user_config_file(sources.env);
  if (auto wt = s.repository.work_tree()) {
    sources.repo_file = *wt / ".perfguard.toml";
    sources.repo_root = *wt;
  }
  if (!options.config_file.empty()) sources.explicit_file = options.config_file;
  auto config = load_config(sources);
  if (!config) return config.error();
  s.config = *config;
  for (const auto& w : s.config.warnings) s.warn(w);
  if (options.shared && !s.config.shared) {
    return make_error(ExitCode::usage,
                      "--shared: no shared store is configured (set [store] "
                      "shared in your config, or PERFGUARD_SHARED)");
  }

  s.context = process_context(tool);
  if (s.in_repository) {
    s.context.repo = s.repository.work_tree().value_or(s.repository.git_dir()).string();
    if (auto head = s.repository.head()) s.context.branch = head->branch();
    s.paused = read_pause_mark(s.repository.perfguard_dir()).has_value();
  }
  return s;
}

StreamMode ToolSession::child_output() const {
  return options.quiet ? StreamMode::capture : StreamMode::tee;
}

fs::path ToolSession::store_path() const {
  if (!options.db.empty()) return options.db;
  if (config.store_path) return *config.store_path;
  return repository.perfguard_dir() / "perf.db";
}

bool ToolSession::store_is_shared() const {
  return options.shared || names_shared_store(options.db);
}

StoreOptions ToolSession::store_options(bool create) const {
  StoreOptions o;
  o.busy_timeout = config.busy_timeout;
  o.create = create;
  o.mapped = true;
  if (names_shared_store(options.db)) {
    o.shared = options.db;
  } else if (options.shared) {
    o.shared = config.shared.value_or("");
  } else {
    o.path = store_path();
  }
  return o;
}

bool ToolSession::store_exists() const {
  return store_is_shared() || fs::exists(store_path());
}

void ToolSession::warn(const std::string& message) const {
  std::fprintf(stderr, "%s: warning: %s\n", tool.c_str(), printable(message).c_str());
}

void ToolSession::error(const std::string& message) const {
  std::fprintf(stderr, "%s: %s\n", tool.c_str(), printable(message).c_str());
}

void ToolSession::info(const std::string& message) const {
  if (options.verbose) std::fprintf(stderr, "%s: %s\n", tool.c_str(), printable(message).c_str());
}

void ToolSession::open_store_early() {
  if (options.no_record || early_store) return;
  auto early = std::make_shared<EarlyStore>();
  // The signals the tool handles stay with the thread that runs the step; the second thread
  // inherits this mask, so a Ctrl-C never interrupts SQLite there.
  sigset_t handled, old;
  sigemptyset(&handled);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE}) sigaddset(&handled, sig);
  pthread_sigmask(SIG_BLOCK, &handled, &old);
  try {
    early->thread =
        std::thread([early = early.get(), path = store_path(), timeout = config.busy_timeout] {
          early->opened = open_store(path, timeout);
        });
  } catch (const std::system_error&) {
    early.reset();  // no thread: record_steps opens the store itself
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  early_store = std::move(early);
}

namespace {

// While monitoring is paused (perf-recover --emergency) no rule runs, with one exception: a
// recovery that failed still opens its failure alert, so that the alert's channels tell
// people. That is when they most need to know, and the alert blocks nothing while paused.
bool failed_recovery(const std::vector<StepRecord>& records) {
  return std::any_of(records.begin(), records.end(), [](const StepRecord& r) {
    return r.step == "recover" &&
           (r.status == StepStatus::failed || r.status == StepStatus::timeout);
  });
}

bool not_a_failed_recovery(const AlertFinding& f) {
  return !(f.key.rule == AlertRuleKind::failure && f.key.step == "recover");
}

}  // namespace

ExitCode record_steps(ToolSession& session, std::vector<StepRecord>& records, ExitCode step_code,
                      const std::optional<Snapshot>& snapshot, const std::function<void()>& ready) {
  const std::uint64_t trace = new_trace_id();
  for (auto& r : records) {
    r.trace_id = trace;
    r.context = session.context;
    r.labels.insert(r.labels.begin(), session.labels.begin(), session.labels.end());
  }
  if (session.options.no_record || records.empty()) return step_code;

  const fs::path path = session.store_path();
  OpenedStore opened = session.early_store ? session.early_store->take()
                                           : open_store(path, session.config.busy_timeout);
  session.early_store.reset();
  auto& store = opened.store;
  bool readied = false;
  auto ready_once = [&] {
    if (ready && !readied) ready();
    readied = true;
  };
  Status written = store ? Status{} : Status{store.error()};
  if (store) {
    std::optional<std::string> version = opened.git_version;
    if (!version) {
      version = git_version();
      (void)store->cache_git_version(opened.git_key, *version);
    }
    for (auto& r : records) r.context.git_version = *version;
    // The records and the snapshot's row in one transaction: one commit to the store's log
    // instead of two, and never the one without the other.
    std::optional<SnapshotRow> row;
    if (snapshot) row = snapshot_row(*snapshot);
    const bool told_while_paused = session.paused && failed_recovery(records);
    if (session.config.alerts.enabled && (!session.paused || told_while_paused)) {
      const std::int64_t now = now_unix_us();
      auto evaluate = [&]() -> Result<std::vector<AlertFinding>> {
        auto findings = evaluate_records(*store, session.config, records, now);
        if (findings && session.paused) std::erase_if(*findings, not_a_failed_recovery);
        return findings;
      };
      auto changes =
          store->record(records, row, evaluate,
                        apply_options(session.config, session.context.host, now), ready_once);
      if (changes) session.alert_changes = std::move(*changes);
      written = changes ? Status{} : Status{changes.error()};
    } else {
      auto recorded = store->record(records, row, nullptr, {}, ready_once);
      written = recorded ? Status{} : Status{recorded.error()};
    }
  }
  if (written) {
    session.info("recorded in " + path.string());
    send_notifications_later(session, session.alert_changes);
    note_records_to_ship(session, *store);
    return step_code;
  }
  if (struct stat st;
      ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    // --db names a device, FIFO or socket: no journal beside it (that would be in /dev).
    session.warn(written.error().message + "; the record was not kept");
    return most_severe(step_code, ExitCode::store);
  }
  if (records.front().context.git_version.empty()) {
    const std::string version = git_version();
    for (auto& r : records) r.context.git_version = version;
  }
  std::optional<SnapshotRow> snapshot_in_journal;
  if (snapshot) snapshot_in_journal = snapshot_row(*snapshot);
  ready_once();
  auto journal = append_to_journal(path, records, snapshot_in_journal);
  if (journal) {
    // Names the store, so that the command takes back this store's records from wherever it
    // is run, the shared fallback journal included.
    session.warn(written.error().message + "; the record was written to " + journal->string() +
                 " (take it back later with `perf-baseline --db " +
                 shell_word(journal_store_key(path)) + " import --format journal`)");
  } else {
    session.warn(written.error().message + "; " + journal.error().message);
  }
  return most_severe(step_code, ExitCode::store);
}

namespace {

// The arguments that make a helper program (perf-alerts-notify, perfguard-ship) work on this
// session's store with its configuration: -C, the store (--db as an absolute path, --shared,
// or a shared store's URI in the environment) and --config.
std::vector<std::string> session_arguments(const ToolSession& session) {
  std::vector<std::string> argv;
  if (session.in_repository) {
    argv.push_back("-C");
    argv.push_back(session.repository.work_tree().value_or(session.repository.git_dir()).string());
  }
  if (names_shared_store(session.options.db)) {
    // A connection string may hold a password: through the environment, never on argv,
    // where any user's `ps` shows it.
    ::setenv("PERFGUARD_DB", session.options.db.c_str(), 1);
  } else if (session.options.shared) {
    argv.push_back("--shared");
  } else {
    argv.insert(argv.end(), {"--db", fs::absolute(session.store_path()).string()});
  }
  if (!session.options.config_file.empty()) {
    argv.insert(argv.end(), {"--config", fs::absolute(session.options.config_file).string()});
  }
  return argv;
}

}  // namespace

void send_notifications_later(const ToolSession& session, const std::vector<AlertChange>& changes) {
  bool queued = false;
  for (const AlertChange& c : changes) {
    queued = queued || c.kind == AlertChange::Kind::opened ||
             c.kind == AlertChange::Kind::escalated || c.kind == AlertChange::Kind::resolved;
  }
  if (!queued || notify_channels(session.config).empty()) return;
  // Beside the tool in a build tree, in libexec/perfguard when installed.
  auto tool = locate_program("perf-alerts-notify");
  if (!tool) {
    session.warn("perf-alerts-notify is not installed: the alert notifications wait in the outbox");
    return;
  }
  std::vector<std::string> argv = {tool->string()};
  for (std::string& a : session_arguments(session)) argv.push_back(std::move(a));
  argv.insert(argv.end(), {"notify", "-q"});
  if (auto started = start_detached(argv); !started) {
    session.warn(started.error().message + "; the alert notifications wait in the outbox");
  }
}

void note_records_to_ship(ToolSession& session, Store& store) {
  if (!session.config.shared) return;
  session.records_to_ship = true;
  // A store that cannot say has told its own error already, or will at the next run.
  auto warning = unreported_ship_failure(store, shared_store_name(*session.config.shared));
  if (warning && *warning) session.ship_warning = **warning;
}

void ship_later(ToolSession& session) {
  if (!session.ship_warning.empty()) session.warn(std::exchange(session.ship_warning, ""));
  if (!std::exchange(session.records_to_ship, false) || !session.config.shared) return;
  auto shipper = locate_program("perfguard-ship");
  if (!shipper) {
    session.warn(
        "perfguard-ship is not installed: the records stay in the local store until "
        "`perf-baseline sync`");
    return;
  }
  std::vector<std::string> argv = {shipper->string()};
  for (std::string& a : session_arguments(session)) argv.push_back(std::move(a));
  argv.push_back("-q");
  if (auto started = start_detached(argv); !started) {
    session.warn(started.error().message +
                 "; the records stay in the local store for the next ship");
  }
}

ShipperRequest shipper_request(const ToolSession& session) {
  ShipperRequest request;
  request.local = session.store_path();
  request.busy_timeout = session.config.busy_timeout;
  const std::string conninfo = session.config.shared.value_or("");
  request.target = shared_store_name(conninfo);
  request.open_shared = [conninfo, timeout = session.config.busy_timeout] {
    return open_shared_store(conninfo, timeout);
  };
  return request;
}

namespace {

// The alerts a record raised or bumped: ` — alert #17 critical` after its line, an `alerts`
// array in JSON.
bool raised_by(const AlertChange& c, const StepRecord& r) {
  if (c.kind == AlertChange::Kind::resolved) return false;
  // The rollback rate counts rollbacks and recoveries alike, under the step rollback.
  if (c.alert.key.rule == AlertRuleKind::rollback_rate) {
    return r.step == "rollback" || r.step == "recover";
  }
  return c.alert.key.step == r.step;
}

}  // namespace

void print_steps(const ToolSession& session, const std::vector<StepRecord>& records, ExitCode code,
                 const std::vector<std::string>& extra_json) {
  if (session.format == Format::text && session.options.quiet && code == ExitCode::ok) return;
  std::vector<std::string> notes;
  for (const StepRecord& r : records) {
    std::string note;
    for (const AlertChange& c : session.alert_changes) {
      if (!raised_by(c, r)) continue;
      note += note.empty() ? " \u2014 alert #" : ", #";
      note += std::to_string(c.alert.id) + " " + to_string(c.alert.severity);
    }
    if (session.paused && note.empty()) note = " (paused: not enforced)";
    notes.push_back(std::move(note));
  }
  std::vector<std::string> members = extra_json;
  if (!session.alert_changes.empty()) {
    JsonWriter w;
    w.begin_array();
    for (const AlertChange& c : session.alert_changes) {
      w.begin_object()
          .key("id")
          .value(c.alert.id)
          .key("change")
          .value(to_string(c.kind))
          .key("rule")
          .value(to_string(c.alert.key.rule))
          .key("step")
          .value(c.alert.key.step)
          .key("severity")
          .value(to_string(c.alert.severity))
          .key("summary")
          .value(c.alert.summary)
          .end_object();
    }
    w.end_array();
    members.push_back("\"alerts\":" + w.take());
  }
  write_records(stdout, session.format, records, session.tool, to_int(code), members, notes);
}

void print_steps(const ToolSession& session, const std::vector<StepRecord>& records, ExitCode code,
                 const Snapshot& snapshot, const std::string& undo_command) {
  if (session.format == Format::text) {
    print_steps(session, records, code);
    if (!(session.options.quiet && code == ExitCode::ok)) {
      std::printf("snapshot %s: undo with `%s`\n", snapshot.id.c_str(), undo_command.c_str());
    }
    return;
  }
  JsonWriter w;
  w.begin_object()
      .key("id")
      .value(snapshot.id)
      .key("commit")
      .value(snapshot.commit)
      .key("dirty")
      .value(snapshot.dirty)
      .key("undo")
      .value(undo_command)
      .end_object();
  print_steps(session, records, code, {"\"snapshot\":" + w.str()});
}

RollbackOptions rollback_options(const ToolSession& session) {
  const Config& config = session.config;
  RollbackOptions options;
  options.rollback_threshold = config.thresholds.rollback;
  options.validate_threshold = config.thresholds.validate;
  options.rollback_timeout = config.timeouts.rollback;
  options.validate_timeout = config.timeouts.validate;
  options.kill_grace = config.timeouts.kill_grace;
  options.warn_only = session.paused;  // an emergency: nothing blocks
  options.git_output = session.child_output();
  options.tool = session.tool;
  return options;
}

Result<std::optional<Duration>> limit_flag_if_given(const CLI::App& app, const std::string& flag,
                                                    const std::string& text) {
  if (!app.count(flag)) return std::optional<Duration>{};
  auto d = parse_limit_flag(flag, text);
  if (!d) return d.error();
  return std::optional<Duration>{*d};
}

int report_error(const std::string& tool, const Error& error) {
  // Messages quote names and paths that may come from an imported file or a repository.
  std::fprintf(stderr, "%s: %s\n", tool.c_str(), printable(error.message).c_str());
  return to_int(error.code);
}

int run_tool(const std::string& tool, CLI::App& app, int argc, char** argv,
             const std::function<int()>& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // A mistyped subcommand or option is left over, and CLI11 only says that a subcommand
    // is required: name what was not understood.
    auto left = app.remaining();
    if (dynamic_cast<const CLI::RequiredError*>(&e) && !app.get_subcommands({}).empty() &&
        !left.empty()) {
      std::fprintf(stderr, "%s: '%s' is not %s (see %s --help)\n", tool.c_str(),
                   left.front().c_str(),
                   left.front().starts_with("-") ? "an option" : "a subcommand", tool.c_str());
      return to_int(ExitCode::usage);
    }
    std::fprintf(stderr, "%s: %s (see %s --help)\n", tool.c_str(), e.what(), tool.c_str());
    return to_int(ExitCode::usage);
  }
  install_interrupt_forwarding();
  // Marks the gits this tool runs (and every other child) as perfguard's: the hooks then
  // record nothing, for the tool records its own step. One setenv, inherited at exec.
  ::setenv(kToolEnvironment, tool.c_str(), 0);
  try {
    return body();
  } catch (const std::exception& e) {
    return report_error(tool, make_error(ExitCode::step_failed, e.what()));
  }
}

}  // namespace perfguard
