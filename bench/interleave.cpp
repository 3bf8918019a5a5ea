// perfguard-interleave: times command sequences ("variants") in interleaved runs and reports
// robust statistics, for comparing a perfguard tool against the bare git step it wraps.
//
// Deliberately standalone (standard library and POSIX only, no lib/): a harness that shared
// the runner, clock or statistics code with what it measures could hide that code's costs
// and errors.
//
// Commands are argument vectors, not shell strings: a command string is split into words at
// spaces and tabs; '...' or "..." groups text containing spaces into one word, literally (no
// escapes, no variables, no globbing). A prepare step that needs a shell says so:
// --prepare "sh -c 'date +%N >> file'".
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

constexpr const char* kTool = "perfguard-interleave";
constexpr int kExitCommandFailed = 1;
constexpr int kExitUsage = 2;

// Carried to main(), which prints it and exits with its code.
struct Failure {
  int exit_code;
  std::string message;
};

[[noreturn]] void usage_error(const std::string& message) {
  throw Failure{kExitUsage, message + " (see --help)"};
}

const char* const kHelp =
    R"(usage: perfguard-interleave [OPTIONS] --name NAME [--prepare CMD]... --timed CMD...
                            [--name NAME ...]...

Runs every variant's timed command sequence RUNS times, interleaved (A, B, A, B, ...), and
prints per variant the number of runs and the median, mean, sample standard deviation,
minimum and maximum wall time in milliseconds; for every variant after the first, the
difference of its median from the first variant's and the ratio of the two medians.

Global options (anywhere, except --cwd: that one is global only before the first --name):
  --runs N          timed runs per variant (default 10)
  --warmup N        untimed runs per variant first, interleaved too (default 0)
  --cwd DIR         run the commands in DIR (default: the current directory)
  --title TEXT      a heading for the text output and the JSON
  --json FILE       also write the summary and every raw sample as JSON
  --csv FILE        also write the summary as CSV (one row per variant)
  --show-output     let the commands write to our stdout/stderr (for debugging a failure)
  -h, --help        this help

A variant:
  --name NAME       starts a variant
  --cwd DIR         this variant's working directory, relative to the global one
  --prepare CMD     untimed, before each run of this variant (repeatable; in order)
  --timed CMD       timed; the variant's sample is the wall time of all its --timed
                    commands run one after the other (repeatable; in order; at least one)

CMD is an argument vector written as one string and split at spaces and tabs, without a
shell: '...' and "..." keep spaces inside one word, literally (no escapes, variables or
globs). Use "sh -c '...'" explicitly where a shell is needed, and only for --prepare when
you can: a shell in a timed command adds its own start-up to the sample. A program named
without a slash is looked up on PATH once, before the first run.

Each sample is measured with a monotonic clock from just before the first command is
spawned to just after the last one is reaped. Standard input, output and error of every
command are /dev/null unless --show-output. Any command (prepare or timed) that exits
non-zero or is killed ends the benchmark with exit code 1. Exit code 2: a usage error.

Warnings (on stderr and in the JSON) flag numbers that cannot be trusted: a standard
deviation above 20% of the median, or a median under 5 ms (too close to process start-up
and scheduling noise).
)";

// ---- commands ------------------------------------------------------------------------

using Argv = std::vector<std::string>;

Argv split_command(const std::string& text) {
  Argv words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'' || c == '"') {
      std::size_t close = text.find(c, i + 1);
      if (close == std::string::npos) usage_error("unterminated quote in command: " + text);
      word.append(text, i + 1, close - i - 1);
      in_word = true;
      i = close;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) usage_error("empty command");
  return words;
}

std::string join_command(const Argv& argv) {
  std::string out;
  for (const auto& word : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !word.empty() && word.find_first_of(" \t'\"") == std::string::npos;
    out +=
        plain ? word : (word.find('\'') == std::string::npos ? "'" + word + "'" : '"' + word + '"');
  }
  return out;
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Looked up once, so that no sample includes a PATH search (execvp tries each directory).
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (!is_executable_file(name)) usage_error("not an executable file: " + name);
    return name;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (is_executable_file(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  usage_error("command not found on PATH: " + name);
}

struct Command {
  Argv argv;            // as given
  std::string program;  // argv[0] resolved to a path
};

struct Variant {
  std::string name;
  std::string cwd;  // empty: the global one
  std::vector<Command> prepare;
  std::vector<Command> timed;
  std::vector<double> samples_ms;
};

struct Options {
  int runs = 10;
  int warmup = 0;
  std::string cwd;
  std::string title;
  std::string json_path;
  std::string csv_path;
  bool show_output = false;
  std::vector<Variant> variants;
};

int parse_count(const std::string& flag, const std::string& text, int minimum) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < minimum || value > 1000000)
    usage_error(flag + " wants a whole number >= " + std::to_string(minimum) + ", not '" + text +
                "'");
  return static_cast<int>(value);
}

Options parse_options(int argc, char** argv) {
  Options options;
  auto value_of = [&](int& i) -> std::string {
    if (i + 1 >= argc) usage_error(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    Variant* current = options.variants.empty() ? nullptr : &options.variants.back();
    if (arg == "-h" || arg == "--help") {
      std::fputs(kHelp, stdout);
      std::exit(0);
    } else if (arg == "--name") {
      options.variants.push_back(Variant{value_of(i), {}, {}, {}, {}});
    } else if (arg == "--prepare" || arg == "--timed") {
      if (!current) usage_error(arg + " before the first --name");
      Argv words = split_command(value_of(i));
      (arg == "--timed" ? current->timed : current->prepare).push_back(Command{words, {}});
    } else if (arg == "--cwd") {
      (current ? current->cwd : options.cwd) = value_of(i);
    } else if (arg == "--runs") {
      options.runs = parse_count(arg, value_of(i), 1);
    } else if (arg == "--warmup") {
      options.warmup = parse_count(arg, value_of(i), 0);
    } else if (arg == "--title") {
      options.title = value_of(i);
    } else if (arg == "--json") {
      options.json_path = value_of(i);
    } else if (arg == "--csv") {
      options.csv_path = value_of(i);
    } else if (arg == "--show-output") {
      options.show_output = true;
    } else {
      usage_error("unknown option " + arg);
    }
  }
  if (options.variants.empty()) usage_error("no variant: give at least one --name with --timed");
  for (auto& variant : options.variants) {
    if (variant.timed.empty()) usage_error("variant '" + variant.name + "' has no --timed command");
  }
  return options;
}

// ---- measuring -----------------------------------------------------------------------

class Spawner {
 public:
  explicit Spawner(bool show_output) : show_output_(show_output) {
    null_in_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    null_out_ = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_in_ < 0 || null_out_ < 0)
      throw Failure{kExitCommandFailed, std::string("cannot open /dev/null: ") + strerror(errno)};
  }
  ~Spawner() {
    ::close(null_in_);
    ::close(null_out_);
  }
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  // Runs the command to completion; returns its wait status.
  int run(const Command& command) const {
    std::vector<char*> argv;
    for (const auto& word : command.argv) argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, null_in_, STDIN_FILENO);
    if (!show_output_) {
      posix_spawn_file_actions_adddup2(&actions, null_out_, STDOUT_FILENO);
      posix_spawn_file_actions_adddup2(&actions, null_out_, STDERR_FILENO);
    }
    pid_t pid = 0;
    int rc = posix_spawn(&pid, command.program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
      throw Failure{kExitCommandFailed,
                    "cannot start " + command.program + ": " + std::string(strerror(rc))};
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR)
        throw Failure{kExitCommandFailed, std::string("waitpid: ") + strerror(errno)};
    }
    return status;
  }

 private:
  bool show_output_;
  int null_in_ = -1;
  int null_out_ = -1;
};

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by ") + strsignal(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

void check_status(int status, const Variant& variant, const Command& command, const char* phase,
                  int run) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  throw Failure{kExitCommandFailed, "variant '" + variant.name + "', " + phase + " run " +
                                        std::to_string(run) + ": `" + join_command(command.argv) +
                                        "` " + describe_status(status) +
                                        "; rerun with --show-output to see its messages"};
}

void enter_directory(const std::string& dir) {
  if (!dir.empty() && ::chdir(dir.c_str()) != 0)
    throw Failure{kExitUsage, "cannot change to " + dir + ": " + strerror(errno)};
}

// One run of a variant: its prepare commands untimed, then its timed sequence. Returns the
// sequence's wall time in milliseconds.
double run_once(const Spawner& spawner, const Variant& variant, const char* phase, int run) {
  enter_directory(variant.cwd);  // a chdir in the harness costs the children nothing
  for (const auto& command : variant.prepare)
    check_status(spawner.run(command), variant, command, "prepare for", run);
  auto start = std::chrono::steady_clock::now();
  for (const auto& command : variant.timed)
    check_status(spawner.run(command), variant, command, phase, run);
  auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(end - start).count();
}

std::string current_directory() {
  char* cwd = ::getcwd(nullptr, 0);
  if (!cwd) throw Failure{kExitUsage, std::string("getcwd: ") + strerror(errno)};
  std::string path = cwd;
  std::free(cwd);
  return path;
}

// Makes every variant's directory and program absolute, so that the runs only chdir and
// spawn. Relative paths mean what they would in a shell started in the variant's directory.
void resolve_variants(Options& options, const std::string& home) {
  for (auto& variant : options.variants) {
    enter_directory(home);
    enter_directory(options.cwd);
    enter_directory(variant.cwd);  // relative to the global --cwd
    variant.cwd = current_directory();
    for (auto* list : {&variant.prepare, &variant.timed}) {
      for (auto& command : *list) {
        command.program = resolve_program(command.argv[0]);
        if (command.program.front() != '/') command.program = variant.cwd + "/" + command.program;
      }
    }
  }
  enter_directory(home);
}

void run_benchmark(Options& options) {
  const std::string home = current_directory();
  resolve_variants(options, home);
  Spawner spawner(options.show_output);
  const bool progress = ::isatty(STDERR_FILENO) && !options.show_output;
  const int total = options.warmup + options.runs;
  for (int run = 1; run <= total; ++run) {
    const bool warmup = run <= options.warmup;
    if (progress)
      std::fprintf(stderr, "\r%s%s%s run %d/%d  ", options.title.c_str(),
                   options.title.empty() ? "" : ": ", warmup ? "warmup" : "timed",
                   warmup ? run : run - options.warmup, warmup ? options.warmup : options.runs);
    for (auto& variant : options.variants) {
      double ms = run_once(spawner, variant, warmup ? "warmup" : "timed",
                           warmup ? run : run - options.warmup);
      if (!warmup) variant.samples_ms.push_back(ms);
    }
  }
  if (progress) std::fprintf(stderr, "\r\033[K");
  enter_directory(home);  // output files are relative to where we were started
}

// ---- statistics ----------------------------------------------------------------------

struct Summary {
  std::size_t n = 0;
  double median = 0, mean = 0, stddev = 0, min = 0, max = 0;
  double median_diff = 0;   // vs the first variant
  double median_ratio = 1;  // this median / the first variant's
  // Median of the run-by-run differences from the first variant (run j against run j).
  // Interleaving makes runs j of two variants neighbours in time, so this one cancels slow
  // drifts of the machine's load that the difference of medians only averages out.
  double paired_diff = 0;
};

// percentile_cont: linear interpolation between closest ranks, rank (n-1)·p.
double percentile(const std::vector<double>& sorted, double p) {
  double rank = (static_cast<double>(sorted.size()) - 1) * p;
  auto lo = static_cast<std::size_t>(std::floor(rank));
  auto hi = static_cast<std::size_t>(std::ceil(rank));
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
}

Summary summarize(std::vector<double> samples) {
  Summary s;
  std::sort(samples.begin(), samples.end());
  s.n = samples.size();
  s.median = percentile(samples, 0.5);
  s.min = samples.front();
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(s.n);
  if (s.n > 1) {
    double squares = 0;
    for (double x : samples) squares += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(squares / static_cast<double>(s.n - 1));
  }
  return s;
}

std::vector<Summary> summarize_all(const std::vector<Variant>& variants) {
  std::vector<Summary> summaries;
  for (const auto& variant : variants) summaries.push_back(summarize(variant.samples_ms));
  const auto& first = variants.front().samples_ms;
  for (std::size_t i = 0; i < summaries.size(); ++i) {
    auto& s = summaries[i];
    s.median_diff = s.median - summaries.front().median;
    s.median_ratio = summaries.front().median > 0 ? s.median / summaries.front().median : 0;
    std::vector<double> diffs;
    for (std::size_t j = 0; j < first.size(); ++j)
      diffs.push_back(variants[i].samples_ms[j] - first[j]);
    std::sort(diffs.begin(), diffs.end());
    s.paired_diff = percentile(diffs, 0.5);
  }
  return summaries;
}

std::string fixed(double value, int decimals = 3) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::vector<std::string> find_warnings(const std::vector<Variant>& variants,
                                       const std::vector<Summary>& summaries) {
  std::vector<std::string> warnings;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const auto& s = summaries[i];
    const auto& name = variants[i].name;
    if (s.stddev > 0.2 * s.median)
      warnings.push_back("'" + name + "': stddev " + fixed(s.stddev) + " ms is " +
                         fixed(100 * s.stddev / s.median, 0) +
                         "% of the median; the machine was busy or the runs differ. Close other "
                         "programs, add --warmup, and run again");
    if (s.median < 5)
      warnings.push_back("'" + name + "': median " + fixed(s.median) +
                         " ms is under 5 ms; process start-up and scheduling noise are a large "
                         "part of it");
  }
  return warnings;
}

// ---- output --------------------------------------------------------------------------

void print_text(const Options& options, const std::vector<Summary>& summaries) {
  std::size_t width = 7;
  for (const auto& v : options.variants) width = std::max(width, v.name.size());
  if (!options.title.empty()) std::printf("%s\n", options.title.c_str());
  std::printf("%d runs per variant, %d warmup, interleaved\n", options.runs, options.warmup);
  std::printf("%-*s %6s %10s %10s %10s %10s %10s  (ms)\n", static_cast<int>(width), "variant", "n",
              "median", "mean", "stddev", "min", "max");
  for (std::size_t i = 0; i < summaries.size(); ++i) {
    const auto& s = summaries[i];
    std::printf("%-*s %6zu %10.3f %10.3f %10.3f %10.3f %10.3f\n", static_cast<int>(width),
                options.variants[i].name.c_str(), s.n, s.median, s.mean, s.stddev, s.min, s.max);
  }
  for (std::size_t i = 1; i < summaries.size(); ++i) {
    std::printf(
        "%s vs %s: median %+.3f ms, ratio %.3f (median of paired run differences %+.3f ms)\n",
        options.variants[i].name.c_str(), options.variants[0].name.c_str(),
        summaries[i].median_diff, summaries[i].median_ratio, summaries[i].paired_diff);
  }
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string json_commands(const std::vector<Command>& commands) {
  std::string out = "[";
  for (std::size_t i = 0; i < commands.size(); ++i) {
    out += i ? ", [" : "[";
    for (std::size_t j = 0; j < commands[i].argv.size(); ++j)
      out += (j ? ", " : "") + json_string(commands[i].argv[j]);
    out += "]";
  }
  return out + "]";
}

std::string to_json(const Options& options, const std::vector<Summary>& summaries,
                    const std::vector<std::string>& warnings) {
  std::string out = "{\n";
  out += "  \"title\": " + json_string(options.title) + ",\n";
  out += "  \"runs\": " + std::to_string(options.runs) + ",\n";
  out += "  \"warmup\": " + std::to_string(options.warmup) + ",\n";
  out += "  \"interleaved\": true,\n";
  out += "  \"unit\": \"ms\",\n";
  out += "  \"variants\": [\n";
  for (std::size_t i = 0; i < summaries.size(); ++i) {
    const auto& v = options.variants[i];
    const auto& s = summaries[i];
    out += "    {\n";
    out += "      \"name\": " + json_string(v.name) + ",\n";
    out += "      \"cwd\": " + json_string(v.cwd) + ",\n";
    out += "      \"prepare\": " + json_commands(v.prepare) + ",\n";
    out += "      \"timed\": " + json_commands(v.timed) + ",\n";
    out += "      \"n\": " + std::to_string(s.n) + ",\n";
    out += "      \"median_ms\": " + fixed(s.median) + ",\n";
    out += "      \"mean_ms\": " + fixed(s.mean) + ",\n";
    out += "      \"stddev_ms\": " + fixed(s.stddev) + ",\n";
    out += "      \"min_ms\": " + fixed(s.min) + ",\n";
    out += "      \"max_ms\": " + fixed(s.max) + ",\n";
    if (i > 0) {
      out += "      \"median_diff_ms\": " + fixed(s.median_diff) + ",\n";
      out += "      \"median_ratio\": " + fixed(s.median_ratio) + ",\n";
      out += "      \"paired_diff_median_ms\": " + fixed(s.paired_diff) + ",\n";
    }
    out += "      \"samples_ms\": [";
    for (std::size_t j = 0; j < v.samples_ms.size(); ++j)
      out += (j ? ", " : "") + fixed(v.samples_ms[j], 6);
    out += "]\n    }";
    out += i + 1 < summaries.size() ? ",\n" : "\n";
  }
  out += "  ],\n  \"warnings\": [";
  for (std::size_t i = 0; i < warnings.size(); ++i)
    out += (i ? ", " : "") + json_string(warnings[i]);
  return out + "]\n}\n";
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string to_csv(const Options& options, const std::vector<Summary>& summaries) {
  std::string out =
      "variant,n,median_ms,mean_ms,stddev_ms,min_ms,max_ms,median_diff_ms,median_ratio,paired_diff_"
      "median_ms\n";
  for (std::size_t i = 0; i < summaries.size(); ++i) {
    const auto& s = summaries[i];
    out += csv_field(options.variants[i].name) + "," + std::to_string(s.n) + "," + fixed(s.median) +
           "," + fixed(s.mean) + "," + fixed(s.stddev) + "," + fixed(s.min) + "," + fixed(s.max) +
           "," + fixed(s.median_diff) + "," + fixed(s.median_ratio) + "," + fixed(s.paired_diff) +
           "\n";
  }
  return out;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw Failure{kExitCommandFailed, "cannot write " + path};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options options = parse_options(argc, argv);
    run_benchmark(options);
    auto summaries = summarize_all(options.variants);
    auto warnings = find_warnings(options.variants, summaries);
    print_text(options, summaries);
    std::fflush(stdout);
    for (const auto& warning : warnings)
      std::fprintf(stderr, "%s: warning: %s\n", kTool, warning.c_str());
    if (!options.json_path.empty())
      write_file(options.json_path, to_json(options, summaries, warnings));
    if (!options.csv_path.empty()) write_file(options.csv_path, to_csv(options, summaries));
    return 0;
  } catch (const Failure& failure) {
    std::fprintf(stderr, "%s: %s\n", kTool, failure.message.c_str());
    return failure.exit_code;
  }
}
