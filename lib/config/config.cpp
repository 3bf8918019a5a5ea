#include "config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <variant>

#include <toml++/toml.h>

namespace perfguard {
namespace fs = std::filesystem;

namespace {

// Where a setting lives in Config. The pointee's type says how the value is written:
// a duration string, a path string, an array of paths, or a command.
using Slot = std::variant<Duration*, std::optional<Duration>*, std::optional<fs::path>*,
                          std::vector<fs::path>*, std::optional<CommandSpec>*>;

// Who may set a key. A repository file comes with whatever was cloned, so it may set
// numbers but not what runs or where results go, unless the user trusts the repository.
enum class Trust {
  any,             // every source
  trusted,         // not an untrusted repository file
  user_file_only,  // only the user's own file ([trust] itself)
};

struct Key {
  std::string_view path;  // `table.name`
  Trust trust;
  std::string_view env;  // the variable that sets it; empty: none
  Slot (*slot)(Config&);
};

// Every key there is. The TOML reader, the environment reader and the error messages
// (`expected one of: …`) all come from this table.
const Key kKeys[] = {
    {"thresholds.commit", Trust::any, "PERFGUARD_THRESHOLDS_COMMIT",
     [](Config& c) -> Slot { return &c.thresholds.commit; }},
    {"thresholds.rollback", Trust::any, "PERFGUARD_THRESHOLDS_ROLLBACK",
     [](Config& c) -> Slot { return &c.thresholds.rollback; }},
    {"thresholds.validate", Trust::any, "PERFGUARD_THRESHOLDS_VALIDATE",
     [](Config& c) -> Slot { return &c.thresholds.validate; }},
    {"thresholds.recover", Trust::any, "PERFGUARD_THRESHOLDS_RECOVER",
     [](Config& c) -> Slot { return &c.thresholds.recover; }},
    {"timeouts.commit", Trust::any, "PERFGUARD_TIMEOUTS_COMMIT",
     [](Config& c) -> Slot { return &c.timeouts.commit; }},
    {"timeouts.rollback", Trust::any, "PERFGUARD_TIMEOUTS_ROLLBACK",
     [](Config& c) -> Slot { return &c.timeouts.rollback; }},
    {"timeouts.validate", Trust::any, "PERFGUARD_TIMEOUTS_VALIDATE",
     [](Config& c) -> Slot { return &c.timeouts.validate; }},
    {"timeouts.recover", Trust::any, "PERFGUARD_TIMEOUTS_RECOVER",
     [](Config& c) -> Slot { return &c.timeouts.recover; }},
    {"timeouts.kill_grace", Trust::any, "PERFGUARD_TIMEOUTS_KILL_GRACE",
     [](Config& c) -> Slot { return &c.timeouts.kill_grace; }},
    {"store.path", Trust::trusted, "PERFGUARD_DB", [](Config& c) -> Slot { return &c.store_path; }},
    {"store.busy_timeout", Trust::any, "PERFGUARD_STORE_BUSY_TIMEOUT",
     [](Config& c) -> Slot { return &c.busy_timeout; }},
    {"trust.repositories", Trust::user_file_only, "",
     [](Config& c) -> Slot { return &c.trusted_repositories; }},
    {"recover.restart", Trust::trusted, "PERFGUARD_RECOVER_RESTART",
     [](Config& c) -> Slot { return &c.restart; }},
    {"recover.health_check", Trust::trusted, "PERFGUARD_RECOVER_HEALTH_CHECK",
     [](Config& c) -> Slot { return &c.health_check; }},
    {"alerts.notify", Trust::trusted, "PERFGUARD_ALERTS_NOTIFY",
     [](Config& c) -> Slot { return &c.notify; }},
};

std::string_view table_of(const Key& key) {
  return key.path.substr(0, key.path.find('.'));
}
std::string_view name_of(const Key& key) {
  return key.path.substr(key.path.find('.') + 1);
}

const Key* find_key(std::string_view table, std::string_view name) {
  for (const Key& key : kKeys) {
    if (table_of(key) == table && name_of(key) == name) return &key;
  }
  return nullptr;
}

bool is_known_table(std::string_view table) {
  for (const Key& key : kKeys) {
    if (table_of(key) == table) return true;
  }
  return false;
}

// `commit, rollback, validate, recover` (the keys of a table), or the tables themselves.
std::string expected_names(std::optional<std::string_view> table) {
  std::string out;
  std::string_view last;
  for (const Key& key : kKeys) {
    std::string_view name = table ? name_of(key) : table_of(key);
    if ((table && table_of(key) != *table) || name == last) continue;
    if (!out.empty()) out += ", ";
    out += name;
    last = name;
  }
  return out;
}

// Relative paths in a file are relative to that file's directory; `~/` is $HOME.
struct PathContext {
  fs::path base;
  const std::map<std::string, std::string>* env = nullptr;
};

Result<fs::path> expand_path(std::string_view text, const PathContext& ctx) {
  if (text.empty()) return make_error(ExitCode::usage, "expected a path, got an empty string");
  if (text == "~" || text.starts_with("~/")) {
    auto home = ctx.env->find("HOME");
    if (home == ctx.env->end() || home->second.empty()) {
      return make_error(ExitCode::usage,
                        "cannot expand '" + std::string(text) + "': HOME is not set");
    }
    if (text == "~") return fs::path(home->second);
    return fs::path(home->second) / fs::path(text.substr(2));
  }
  fs::path p(text);
  if (p.is_relative() && !ctx.base.empty()) return ctx.base / p;
  return p;
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The longest duration any key takes: a step (or a wait) of more than a week is a mistake,
// and bounded values keep every sum and deadline computed from them from overflowing.
constexpr Duration kMaxSetting = Duration::seconds(7 * 24 * 3600);

// Thresholds and timeouts must be positive: a zero threshold fails every run, a zero timeout
// kills every step. A kill grace or a busy timeout of zero means "at once" and is allowed.
bool must_be_positive(std::string_view key) {
  return (key.starts_with("thresholds.") || key.starts_with("timeouts.")) &&
         key != "timeouts.kill_grace";
}

// A value written as text: a TOML string or an environment variable, for `key`.
Status assign_text(Slot slot, std::string_view text, const PathContext& ctx, std::string_view key) {
  return std::visit(
      [&](auto* target) -> Status {
        using T = std::remove_pointer_t<decltype(target)>;
        if constexpr (std::is_same_v<T, Duration> || std::is_same_v<T, std::optional<Duration>>) {
          auto d = parse_duration(text);
          if (!d) return d.error();
          if (d->us > kMaxSetting.us) {
            return make_error(ExitCode::usage,
                              "'" + std::string(text) + "' is out of range: at most 7d");
          }
          if (d->us <= 0 && must_be_positive(key)) {
            return make_error(ExitCode::usage,
                              "'" + std::string(text) + "' is out of range: must be positive");
          }
          *target = *d;
        } else if constexpr (std::is_same_v<T, std::optional<CommandSpec>>) {
          if (is_blank(text)) return make_error(ExitCode::usage, "empty command");
          *target = CommandSpec{{"/bin/sh", "-c", std::string(text)}, true};
        } else {
          auto p = expand_path(text, ctx);
          if (!p) return p.error();
          if constexpr (std::is_same_v<T, std::vector<fs::path>>) {
            *target = {*p};
          } else {
            *target = *p;
          }
        }
        return {};
      },
      slot);
}

// What a key takes, for `expected …, got integer`.
std::string expected_form(Slot slot) {
  if (std::holds_alternative<std::optional<fs::path>*>(slot)) return "expected a path string";
  if (std::holds_alternative<std::vector<fs::path>*>(slot)) {
    return "expected an array of path strings like [\"~/src/app\"]";
  }
  if (std::holds_alternative<std::optional<CommandSpec>*>(slot)) {
    return "expected a command: an array of strings like [\"systemctl\", \"restart\", "
           "\"app\"] (run without a shell) or a string (run with /bin/sh -c)";
  }
  return "expected a duration string like \"1.5s\"";
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

// A mistake in a file: where it is and what is wrong.
struct Problem {
  std::uint32_t line = 0;
  std::string key;  // dotted, with `[i]` for an array element
  std::string message;
};

// Reads one TOML value into `slot`.
std::optional<Problem> read_node(const toml::node& node, Slot slot, const std::string& key,
                                 const PathContext& ctx) {
  auto problem = [&](const toml::node& at, std::string k, std::string message) {
    return Problem{at.source().begin.line, std::move(k), std::move(message)};
  };
  auto wrong_type = [&]() {
    return problem(node, key, expected_form(slot) + ", got " + std::string(type_name(node)));
  };

  if (const auto* text = node.as_string()) {
    if (std::holds_alternative<std::vector<fs::path>*>(slot)) return wrong_type();
    if (auto status = assign_text(slot, text->get(), ctx, key); !status) {
      return problem(node, key, status.error().message);
    }
    return std::nullopt;
  }

  const auto* array = node.as_array();
  if (!array) return wrong_type();
  if (auto* paths = std::get_if<std::vector<fs::path>*>(&slot)) {
    std::vector<fs::path> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      std::string item_key = key + "[" + std::to_string(i) + "]";
      const auto* text = item.as_string();
      if (!text) {
        return problem(item, item_key,
                       "expected a path string, got " + std::string(type_name(item)));
      }
      auto p = expand_path(text->get(), ctx);
      if (!p) return problem(item, item_key, p.error().message);
      out.push_back(*p);
    }
    **paths = std::move(out);
    return std::nullopt;
  }
  if (auto* command = std::get_if<std::optional<CommandSpec>*>(&slot)) {
    if (array->empty()) return problem(node, key, "empty command");
    CommandSpec spec;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      const auto* text = item.as_string();
      if (!text) {
        return problem(item, key + "[" + std::to_string(i) + "]",
                       "expected a string, got " + std::string(type_name(item)));
      }
      spec.argv.push_back(text->get());
    }
    if (spec.argv[0].empty()) return problem(node, key, "empty command: the program name is empty");
    **command = std::move(spec);
    return std::nullopt;
  }
  return wrong_type();
}

enum class Origin { user_file, repo_file, explicit_file };

// `"/r"` as a TOML string, for the hint in a warning.
std::string toml_quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

struct FileRules {
  Origin origin;
  bool repository_trusted = false;  // the user file lists this repository under [trust]
  fs::path repository{};            // the repository's root, for the hint
};

// Why `key` in this file is ignored, or nullopt when it applies.
std::optional<std::string> ignored_because(const Key& key, const FileRules& rules) {
  if (key.trust == Trust::user_file_only && rules.origin != Origin::user_file) {
    return "ignored: only your user config can trust repositories";
  }
  if (key.trust == Trust::trusted && rules.origin == Origin::repo_file &&
      !rules.repository_trusted) {
    std::string what = key.path == "store.path" ? "the store path" : "commands";
    return "ignored: a repository file cannot set " + what +
           "; trust this repository from your user config ([trust] repositories = [" +
           toml_quoted(rules.repository.string()) + "])";
  }
  return std::nullopt;
}

// A configuration file is small text; anything bigger is not one.
constexpr std::size_t kMaxConfigBytes = 1 << 20;

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Reads a config file, which must be a regular file (after following symlinks) of at most
// 1 MiB: a committed `.perfguard.toml` linked to /dev/zero or /dev/stdin must not make every
// tool allocate until it dies or wait forever. O_NONBLOCK keeps open() itself from waiting
// on a FIFO; the type is checked on the open descriptor, so it cannot change in between.
Result<std::string> read_text(const fs::path& file) {
  auto failure = [&](const std::string& why) {
    return make_error(ExitCode::usage, "cannot read config file " + file.string() + ": " + why);
  };
  int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return failure(std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) return failure(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    return failure(std::string("it is ") + file_kind(st.st_mode) +
                   ", not a regular file; config is read only from regular files");
  }
  const std::string too_big =
      "it is larger than " + std::to_string(kMaxConfigBytes >> 20) + " MiB; not a config file";
  if (static_cast<std::uint64_t>(st.st_size) > kMaxConfigBytes) return failure(too_big);
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failure(std::strerror(errno));
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigBytes) return failure(too_big);  // it grew while read
  }
  return text;
}

// Reads one file into `config`. The error, if any, is the first mistake in the file.
Status apply_file(Config& config, const fs::path& file, const FileRules& rules,
                  const std::map<std::string, std::string>& env) {
  auto text = read_text(file);
  if (!text) return text.error();

  toml::table root;
#if TOML_EXCEPTIONS
  try {
    root = toml::parse(*text, file.string());
  } catch (const toml::parse_error& err) {
    return make_error(ExitCode::usage, file.string() + ":" +
                                           std::to_string(err.source().begin.line) +
                                           ": invalid TOML: " + std::string(err.description()));
  }
#else
  toml::parse_result parsed = toml::parse(*text, file.string());
  if (!parsed) {
    const auto& err = parsed.error();
    return make_error(ExitCode::usage, file.string() + ":" +
                                           std::to_string(err.source().begin.line) +
                                           ": invalid TOML: " + std::string(err.description()));
  }
  root = std::move(parsed).table();
#endif
  config.files_read.push_back(file);

  PathContext ctx{file.parent_path(), &env};
  Config ignored;  // ignored keys are still checked, so a mistake is reported either way
  std::optional<Problem> first;
  std::vector<Problem> ignored_keys;
  auto report = [&](std::optional<Problem> p) {
    if (p && (!first || p->line < first->line)) first = std::move(p);
  };

  for (auto&& [table_name, table_node] : root) {
    std::string table(table_name.str());
    if (!is_known_table(table)) {
      report(Problem{table_name.source().begin.line, table,
                     "unknown table (expected one of: " + expected_names(std::nullopt) + ")"});
      continue;
    }
    const auto* table_value = table_node.as_table();
    if (!table_value) {
      report(Problem{table_node.source().begin.line, table,
                     "expected a table, got " + std::string(type_name(table_node))});
      continue;
    }
    for (auto&& [name, node] : *table_value) {
      std::string dotted = table + "." + std::string(name.str());
      const Key* key = find_key(table, name.str());
      if (!key) {
        report(Problem{name.source().begin.line, dotted,
                       "unknown key (expected one of: " + expected_names(table) + ")"});
        continue;
      }
      auto why_ignored = ignored_because(*key, rules);
      report(read_node(node, key->slot(why_ignored ? ignored : config), dotted, ctx));
      if (why_ignored) ignored_keys.push_back({name.source().begin.line, dotted, *why_ignored});
    }
  }
  // Tables iterate sorted by name; warnings read best in file order.
  std::stable_sort(ignored_keys.begin(), ignored_keys.end(),
                   [](const Problem& a, const Problem& b) { return a.line < b.line; });
  for (const Problem& p : ignored_keys) {
    config.warnings.push_back(file.string() + ":" + std::to_string(p.line) + ": " + p.key + ": " +
                              p.message);
  }
  if (first) {
    return make_error(ExitCode::usage, file.string() + ":" + std::to_string(first->line) + ": " +
                                           first->key + ": " + first->message);
  }
  return {};
}

Status apply_environment(Config& config, const std::map<std::string, std::string>& env) {
  PathContext ctx{fs::path(), &env};  // relative to the working directory, like any argument
  for (const Key& key : kKeys) {
    if (key.env.empty()) continue;
    auto it = env.find(std::string(key.env));
    // Empty means unset, as in `PERFGUARD_DB= perf-commit` or a CI variable left blank.
    if (it == env.end() || it->second.empty()) continue;
    if (auto status = assign_text(key.slot(config), it->second, ctx, key.path); !status) {
      return make_error(ExitCode::usage, std::string(key.env) + ": " + status.error().message);
    }
  }
  return {};
}

// A path compared by what it names: `/r/`, `/r/.` and a symlink to /r are the same place.
fs::path place(const fs::path& p) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(p, ec);
  if (ec) out = p.lexically_normal();
  if (!out.has_filename() && out.has_relative_path()) out = out.parent_path();
  return out;
}

bool is_trusted(const fs::path& repository, const std::vector<fs::path>& trusted) {
  fs::path here = place(repository);
  for (const fs::path& t : trusted) {
    if (place(t) == here) return true;
  }
  return false;
}

enum class WhenMissing { skip, fail };

// Applies `file` if it is there; a file that exists but cannot be read is always an error.
Status apply_optional_file(Config& config, const std::optional<fs::path>& file,
                           WhenMissing when_missing, const FileRules& rules,
                           const std::map<std::string, std::string>& env) {
  if (!file) return {};
  std::error_code ec;
  auto status = fs::status(*file, ec);
  if (status.type() == fs::file_type::not_found) {
    if (when_missing == WhenMissing::skip) return {};
    return make_error(ExitCode::usage, "config file " + file->string() + " does not exist");
  }
  if (ec) {
    return make_error(ExitCode::usage,
                      "cannot read config file " + file->string() + ": " + ec.message());
  }
  if (status.type() == fs::file_type::directory) {
    return make_error(ExitCode::usage,
                      "cannot read config file " + file->string() + ": it is a directory");
  }
  return apply_file(config, *file, rules, env);
}

}  // namespace

std::optional<fs::path> default_user_config_file(const std::map<std::string, std::string>& env) {
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and is to be ignored.
  if (auto it = env.find("XDG_CONFIG_HOME");
      it != env.end() && !it->second.empty() && fs::path(it->second).is_absolute()) {
    return fs::path(it->second) / "perfguard" / "config.toml";
  }
  if (auto it = env.find("HOME"); it != env.end() && !it->second.empty()) {
    return fs::path(it->second) / ".config" / "perfguard" / "config.toml";
  }
  return std::nullopt;
}

std::map<std::string, std::string> config_environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view var(*entry);
    auto eq = var.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = var.substr(0, eq);
    if (name.starts_with("PERFGUARD_") || name == "XDG_CONFIG_HOME" || name == "HOME") {
      env.emplace(name, var.substr(eq + 1));
    }
  }
  return env;
}

Result<Config> load_config(const ConfigSources& sources) {
  Config config;
  const auto& env = sources.env;

  if (auto s = apply_optional_file(config, sources.user_file, WhenMissing::skip,
                                   FileRules{Origin::user_file}, env);
      !s) {
    return s.error();
  }

  if (sources.repo_file) {
    FileRules rules{Origin::repo_file};
    rules.repository = sources.repo_root ? *sources.repo_root : sources.repo_file->parent_path();
    rules.repository_trusted = is_trusted(rules.repository, config.trusted_repositories);
    if (auto s = apply_optional_file(config, sources.repo_file, WhenMissing::skip, rules, env);
        !s) {
      return s.error();
    }
  }

  if (auto s = apply_optional_file(config, sources.explicit_file, WhenMissing::fail,
                                   FileRules{Origin::explicit_file}, env);
      !s) {
    return s.error();
  }

  if (auto s = apply_environment(config, env); !s) return s.error();
  return config;
}

}  // namespace perfguard
