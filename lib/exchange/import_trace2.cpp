// git's trace2 event files (`trace2.eventTarget` or GIT_TRACE2_EVENT set to a directory:
// one file per git process, named after its session id). See docs/trace2.md.
//
// Every top-level git process becomes one step record:
//   step        "git:" + its cmd_name ("git:merge", "git:status"; argv[1] when git exited
//               before naming the command)
//   timing      from the process's start (the start event's time less its t_abs) for the
//               atexit event's t_abs (else exit's), so the process's whole life
//   status      ok for exit code 0, interrupted when killed by SIGINT, else failed
//   labels      argv (shell-quoted), sid, and mode (cmd_mode) when git names one
//   context     repo from def_repo's worktree; tool "git" and git_version from the version
//               event; host and user are the importing machine's
// Child spans: each region_enter/region_leave pair ("category:label", nested as git nested
// them; git writes regions only to GIT_TRACE2_EVENT_NESTING deep, 2 by default), and each
// child process (child_start/child_exit): "git:<cmd>" for a git child whose own file is in
// the directory (matched by the pid in its sid, its regions nested inside), "hook:<name>"
// for hooks, "child:<program>" otherwise. Regions of other threads hang under the region
// that was open in the main thread when the thread appeared.
//
// A child process whose parent's file is not in the directory is a record of its own. A
// process that wrote atexit or signal, the last event git writes, is finished and its file
// whole: it is imported at once. A process without an exit, atexit or signal event is still
// running, and a file of an unfinished process modified within the last second (one that
// wrote exit and not yet atexit, say) may still be written: such files (and their whole
// process tree when it is the parent that is not finished) are left for the next import. A
// process without an end whose file has not changed for a day was killed (SIGKILL, a power
// cut): it is recorded as interrupted, up to its last event (kAbandonedAfterUs says why a
// day).
// Files read are removed by import_records() once the records are committed, a tree's
// children before their parent; the ids come from the root's sid, so a second import of
// the same events adds nothing. Imports of one directory run one at a time (claim()).
//
// An entry whose first line is not a trace2 event (a README, an empty or binary file, a
// directory) is not git's: it is reported (left_alone()) and left where it is. A file
// removed after the listing was taken by someone else and is skipped without a word.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>

#include "core/exit_code.h"
#include "core/file_kind.h"
#include "core/json_reader.h"
#include "exchange/exchange.h"
#include "exchange/input.h"

namespace perfguard {

namespace fs = std::filesystem;

namespace {

struct Process;

struct Node {
  std::string name;
  std::int64_t start_us = 0;
  std::int64_t duration_us = -1;  // -1: still open
  std::optional<int> exit_code;
  std::vector<int> children;
  const Process* child_process = nullptr;  // a git child whose own events are known
};

struct Process {
  fs::path file;
  std::string sid;         // full: parent-sid/…/own-sid
  std::string parent_sid;  // empty for a top-level process
  std::optional<std::uint32_t> pid;
  bool complete = false;
  // Wrote the last event git writes: atexit, or signal (a signal's handler ends the process
  // and atexit never comes). Nothing more is written to the file.
  bool finished = false;
  bool recent = false;     // unfinished and changed within the last second: may still be written
  bool abandoned = false;  // no end, and unchanged for kAbandonedAfterUs: git was killed
  bool started = false;
  bool interrupted = false;
  bool discard_sentinel = false;  // git-trace2-discard: the trace2.maxFiles marker
  bool bad = false;
  std::int64_t end_t_abs_us = -1;
  std::int64_t last_time_us = -1;   // the latest event's "time" (Unix µs), but version's
  std::int64_t last_t_abs_us = -1;  // the latest "t_abs" of any event
  int exit_code = 0;
  std::string cmd_name, mode, worktree, version;
  std::vector<std::string> argv;
  std::vector<Node> nodes;                  // 0: the process itself
  std::map<std::int64_t, int> child_nodes;  // child_id -> node
  std::map<std::uint32_t, int> child_pids;  // pid -> node
  std::vector<Process*> children;           // child processes in the directory
};

// A process without an end whose file has not changed for this long is taken for killed
// (SIGKILL, an out-of-memory kill, a power cut: nothing wrote its exit) and imported as
// interrupted. A live git writes an event at every region, child and exit; it goes quiet
// only while it waits: for an editor, a pager, a credential prompt, a hook, the network.
// Such waits last minutes or hours; a day covers a command left waiting overnight (git's
// own gc.logExpiry takes a day to call a failed gc's log stale), and holds a killed git's
// file back only a day.
constexpr std::int64_t kAbandonedAfterUs = 24LL * 3600 * 1000000;

// Trace2's seconds (t_abs, t_rel) in µs; nullopt unless 0 to 10^9 s (about 31 years), so
// that no time computed from them can overflow.
std::optional<std::int64_t> seconds_to_us(double s) {
  if (!(s >= 0 && s <= 1e9)) return std::nullopt;
  return std::llround(s * 1e6);
}

// The pid git puts in a session id: `…-P<8 hex digits>` at the end.
std::optional<std::uint32_t> pid_of_sid(std::string_view own) {
  std::size_t p = own.rfind("-P");
  if (p == std::string_view::npos) return std::nullopt;
  auto v = exchange::parse_trace_id(own.substr(p + 2));
  if (!v || *v > 0xffffffffULL) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

std::string shell_quote(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_not_of(
                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                                   "WXYZ0123456789-_./=:,+@%^") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

std::string basename_of(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// Reads one event file into `p`, reporting bad lines to the sink.
class EventFileReader {
 public:
  EventFileReader(Process& p, std::string display, ImportSink& sink)
      : p_(p), display_(std::move(display)), sink_(sink) {}

  // False when the sink asked to stop.
  bool read(std::string_view text) {
    p_.nodes.assign(1, Node{});
    threads_.clear();
    std::size_t line_number = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) {
        // A last line without its newline is being written: the file is not finished.
        p_.complete = false;
        p_.finished = false;
        unfinished_ = true;
        break;
      }
      std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      ++line_number;
      if (line.empty()) continue;
      if (auto error = doc_.parse(line)) {
        if (!problem(line_number, "column " + std::to_string(error->column) + ": " + error->message,
                     line)) {
          return false;
        }
        continue;
      }
      std::string message;
      if (!event(doc_.root(), message)) {
        if (!problem(line_number, message, line)) return false;
      }
    }
    if (unfinished_) p_.complete = p_.finished = false;
    return true;
  }

 private:
  struct Thread {
    std::vector<int> stack;  // open regions, innermost last
    int base = 0;            // the node its outermost regions hang under
  };

  bool problem(std::size_t line, std::string message, std::string_view text) {
    p_.bad = true;
    return sink_.problem({display_, line, std::move(message), std::string(text)});
  }

  Thread& thread(std::string_view name) {
    auto it = threads_.find(std::string(name));
    if (it != threads_.end()) return it->second;
    Thread t;
    if (name != "main") t.base = top(threads_["main"]);
    return threads_.emplace(std::string(name), std::move(t)).first->second;
  }

  static int top(const Thread& t) { return t.stack.empty() ? t.base : t.stack.back(); }

  int add_node(int parent, std::string name, std::int64_t start_us) {
    Node n;
    n.name = std::move(name);
    n.start_us = start_us;
    p_.nodes.push_back(std::move(n));
    int index = static_cast<int>(p_.nodes.size() - 1);
    p_.nodes[parent].children.push_back(index);
    return index;
  }

  bool event(JsonValue e, std::string& message) {
    if (!e.is_object() || !e["event"].is_string()) {
      message = "not a trace2 event: no \"event\" name";
      return false;
    }
    std::string_view name = e["event"].as_string();
    std::string_view sid = e["sid"].as_string();
    if (!sid.empty() && p_.sid.empty()) {
      p_.sid.assign(sid);
      std::size_t slash = sid.rfind('/');
      if (slash != std::string_view::npos) p_.parent_sid.assign(sid.substr(0, slash));
      p_.pid = pid_of_sid(slash == std::string_view::npos ? sid : sid.substr(slash + 1));
    }
    std::optional<std::int64_t> time;
    if (e["time"].is_string()) {
      time = parse_utc_timestamp(e["time"].as_string());
      if (!time) {
        message = "\"time\" must be an ISO-8601 UTC time";
        return false;
      }
      // Brief mode times only version and atexit: a killed process's end is then its t_abs.
      if (name != "version") p_.last_time_us = std::max(p_.last_time_us, *time);
    }
    if (e["t_abs"].is_number()) {
      auto t_abs = seconds_to_us(e["t_abs"].as_double());
      if (t_abs) p_.last_t_abs_us = std::max(p_.last_t_abs_us, *t_abs);
    }
    auto seconds = [&](std::string_view key, std::int64_t& out_us) {
      JsonValue v = e[key];
      auto us = v.is_number() ? seconds_to_us(v.as_double()) : std::nullopt;
      if (!us) {
        message = "a " + std::string(name) + " event needs \"" + std::string(key) +
                  "\" in seconds, 0 to 1e9";
        return false;
      }
      out_us = *us;
      return true;
    };

    if (name == "version") {
      p_.version.assign(e["exe"].as_string());
    } else if (name == "start") {
      std::int64_t t_abs;
      if (!seconds("t_abs", t_abs)) return false;
      p_.argv.clear();
      for (JsonValue a : e["argv"].items()) p_.argv.emplace_back(a.as_string());
      std::int64_t when = time ? *time : sid_time();
      p_.nodes[0].start_us = when - t_abs;
      p_.started = true;
    } else if (name == "cmd_name") {
      p_.cmd_name.assign(e["name"].as_string());
    } else if (name == "cmd_mode") {
      p_.mode.assign(e["name"].as_string());
    } else if (name == "def_repo") {
      if (e["repo"].as_int64().value_or(1) == 1 && p_.worktree.empty()) {
        p_.worktree.assign(e["worktree"].as_string());
      }
    } else if (name == "region_enter") {
      if (!time) return true;  // brief mode: no times to place regions by
      std::string_view category = e["category"].as_string();
      std::string_view label = e["label"].as_string();
      std::string region =
          category.empty() ? std::string(label) : std::string(category) + ":" + std::string(label);
      Thread& t = thread(e["thread"].as_string());
      t.stack.push_back(add_node(top(t), std::move(region), *time));
    } else if (name == "region_leave") {
      if (!time) return true;
      std::string_view category = e["category"].as_string();
      std::string_view label = e["label"].as_string();
      std::string region =
          category.empty() ? std::string(label) : std::string(category) + ":" + std::string(label);
      Thread& t = thread(e["thread"].as_string());
      // The innermost open region of that name; any left open inside it end with it.
      auto it = std::find_if(t.stack.rbegin(), t.stack.rend(),
                             [&](int n) { return p_.nodes[n].name == region; });
      if (it == t.stack.rend()) return true;  // entered before the nesting limit let us see it
      JsonValue rel = e["t_rel"];
      for (auto inner = t.stack.rbegin(); inner != it; ++inner) {
        Node& n = p_.nodes[*inner];
        if (n.duration_us < 0) n.duration_us = std::max<std::int64_t>(0, *time - n.start_us);
      }
      Node& n = p_.nodes[*it];
      if (rel.is_number()) {
        if (!seconds("t_rel", n.duration_us)) return false;
      } else {
        n.duration_us = std::max<std::int64_t>(0, *time - n.start_us);
      }
      t.stack.erase(std::next(it).base(), t.stack.end());
    } else if (name == "child_start") {
      if (!time) return true;
      std::string_view cls = e["child_class"].as_string();
      std::string child;
      if (cls == "hook" && e["hook_name"].is_string()) {
        child = "hook:" + std::string(e["hook_name"].as_string());
      } else {
        JsonValue argv = e["argv"];
        std::string_view program = argv.size() ? (*argv.items().begin()).as_string() : cls;
        child = "child:" + basename_of(program);
      }
      Thread& t = thread(e["thread"].as_string());
      int node = add_node(top(t), std::move(child), *time);
      p_.child_nodes[e["child_id"].as_int64().value_or(-1)] = node;
    } else if (name == "child_exit") {
      auto it = p_.child_nodes.find(e["child_id"].as_int64().value_or(-1));
      if (it == p_.child_nodes.end()) return true;
      Node& n = p_.nodes[it->second];
      if (!seconds("t_rel", n.duration_us)) return false;
      if (auto code = e["code"].as_int64()) n.exit_code = static_cast<int>(*code);
      if (auto pid = e["pid"].as_int64(); pid && *pid > 0) {
        p_.child_pids[static_cast<std::uint32_t>(*pid)] = it->second;
      }
    } else if (name == "thread_start") {
      thread(e["thread"].as_string());
    } else if (name == "exit" || name == "atexit") {
      std::int64_t t_abs;
      if (!seconds("t_abs", t_abs)) return false;
      p_.end_t_abs_us = std::max(p_.end_t_abs_us, t_abs);
      if (auto code = e["code"].as_int64()) p_.exit_code = static_cast<int>(*code);
      p_.complete = true;
      // exit is written when git calls exit(), atexit as the process ends, after the other
      // exit handlers: until atexit the file may still grow.
      p_.finished = name == "atexit";
    } else if (name == "signal") {
      std::int64_t t_abs;
      if (!seconds("t_abs", t_abs)) return false;
      p_.end_t_abs_us = std::max(p_.end_t_abs_us, t_abs);
      const std::int64_t signo = e["signo"].as_int64().value_or(0);
      if (signo < 0 || signo > 127) {
        message = "a signal event needs \"signo\" from 0 to 127";
        return false;
      }
      p_.exit_code = static_cast<int>(128 + signo);
      p_.interrupted = signo == 2;
      p_.complete = true;
      p_.finished = true;
    } else if (name == "too_many_files") {
      p_.discard_sentinel = true;
    }
    return true;
  }

  // The time in a session id (`20261123T161038.077186Z-H…`), for brief mode's events.
  std::int64_t sid_time() const {
    std::string_view own = p_.sid;
    if (std::size_t slash = own.rfind('/'); slash != std::string_view::npos) {
      own = own.substr(slash + 1);
    }
    if (own.size() < 23) return 0;
    std::string iso = std::string(own.substr(0, 4)) + "-" + std::string(own.substr(4, 2)) + "-" +
                      std::string(own.substr(6, 2)) + "T" + std::string(own.substr(9, 2)) + ":" +
                      std::string(own.substr(11, 2)) + ":" + std::string(own.substr(13, 2)) +
                      std::string(own.substr(15, 8));
    return parse_utc_timestamp(iso).value_or(0);
  }

  Process& p_;
  std::string display_;
  ImportSink& sink_;
  JsonDocument doc_;
  std::map<std::string, Thread> threads_;
  bool unfinished_ = false;
};

std::string step_name(const Process& p) {
  if (!p.cmd_name.empty()) return "git:" + p.cmd_name;
  if (p.argv.size() > 1) return "git:" + p.argv[1];
  return "git";
}

// The process's nodes as a span tree, with git children's own regions folded in.
Span to_span(const Process& p, int index, std::int64_t end_us) {
  const Node& n = p.nodes[index];
  Span s;
  s.name = n.name;
  s.start_us = n.start_us;
  s.duration = Duration::micros(
      n.duration_us >= 0 ? n.duration_us : std::max<std::int64_t>(0, end_us - n.start_us));
  s.exit_code = n.exit_code;
  const std::int64_t my_end = s.start_us + s.duration.us;
  for (int child : n.children) s.children.push_back(to_span(p, child, my_end));
  if (const Process* c = n.child_process) {
    s.name = step_name(*c);
    for (int child : c->nodes[0].children) s.children.push_back(to_span(*c, child, my_end));
    std::stable_sort(s.children.begin(), s.children.end(),
                     [](const Span& a, const Span& b) { return a.start_us < b.start_us; });
  }
  return s;
}

// The lock that makes imports of one directory run one after the other: an import lists,
// reads, stores and removes its files under it, so a second import waits, then finds only
// what the first left, and no git process is read by both (a child read by one import and
// its parent by the other would be recorded twice). flock on the directory itself, so that
// no file of ours lies among git's.
class DirectoryClaim {
 public:
  DirectoryClaim() = default;
  DirectoryClaim(const DirectoryClaim&) = delete;
  DirectoryClaim& operator=(const DirectoryClaim&) = delete;
  ~DirectoryClaim() { release(); }

  // Waits for the lock on `dir`. Where there is none to have (not a directory, which read()
  // reports; a file system without flock), the import goes on unclaimed.
  void acquire(const fs::path& dir) {
    release();
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) return;
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        release();
        return;
      }
    }
  }

 private:
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

// One directory entry as read.
struct Entry {
  enum class State {
    events,   // a trace2 event file: `text` holds it
    gone,     // removed after the listing: another import took it
    young,    // empty, or its first line not yet written whole, and changed just now
    foreign,  // not a trace2 event file, or not readable: `why` says which
  };
  State state = State::events;
  std::string text;
  std::int64_t mtime_us = 0;
  std::string why;
};

Entry foreign_entry(std::string why) {
  Entry e;
  e.state = Entry::State::foreign;
  e.why = std::move(why);
  return e;
}

Entry not_events(const char* what) {
  return foreign_entry(std::string("not a trace2 event file (") + what + ")");
}

Entry unreadable_entry(int err) {
  if (err == ENOENT) return Entry{Entry::State::gone, {}, 0, {}};
  return foreign_entry(std::string("cannot be read: ") + std::strerror(err));
}

// Whether a line is a trace2 event: a JSON object naming its "event" and its "sid", as git
// writes every event, the first one included.
bool is_trace2_event(std::string_view line) {
  JsonDocument doc;
  if (doc.parse(line)) return false;
  JsonValue e = doc.root();
  return e.is_object() && e["event"].is_string() && e["sid"].is_string();
}

// Appends what is left of `fd` to `text`; 0 or an errno.
int read_rest(int fd, std::string& text, std::size_t limit = std::string::npos) {
  char buf[1 << 16];
  while (text.size() < limit) {
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, limit - text.size()));
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  return 0;
}

// Reads one entry of the directory through one descriptor, so that a file removed after the
// listing is seen as gone, never as an empty file. Only a file whose first line is a trace2
// event is read to its end: a big file of something else costs one 64 KiB read.
Entry read_entry(const fs::path& file, std::int64_t settled_before) {
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) return unreadable_entry(errno);
  if (!S_ISREG(st.st_mode)) return not_events(file_kind(st.st_mode));
  // Not blocking in open(): what was a file at stat() may be a FIFO by now.
  int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return unreadable_entry(errno);
  Entry e;
  int err = ::fstat(fd, &st) != 0 ? errno : 0;
  if (!err && !S_ISREG(st.st_mode)) {
    ::close(fd);
    return not_events(file_kind(st.st_mode));
  }
  e.mtime_us = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000 + st.st_mtim.tv_nsec / 1000;
  constexpr std::size_t kHead = 1 << 16;  // git's first event, "version", is about 200 bytes
  if (!err) err = read_rest(fd, e.text, kHead);
  const std::size_t nl = e.text.find('\n');
  const bool events =
      !err && nl != std::string::npos && is_trace2_event(std::string_view(e.text).substr(0, nl));
  if (events) err = read_rest(fd, e.text);
  ::close(fd);
  if (err) return unreadable_entry(err);
  if (events) return e;
  if (nl == std::string::npos && e.text.size() < kHead && e.mtime_us > settled_before) {
    e.state = Entry::State::young;  // git made it and is writing its first event
    return e;
  }
  return not_events(e.text.empty() ? "empty" : "its first line is not a trace2 event");
}

// What is said of an entry that is not an event file: once per import, so it also says how
// to be rid of the message.
std::string left_alone_message(const std::string& why) {
  return why + "; left alone: move it out of the directory, or start its name with '.'";
}

// Every name in the directory but those starting with '.', in order.
Result<std::vector<fs::path>> list_directory(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    files.push_back(entry.path());
  }
  if (ec) return make_error(ExitCode::usage, "cannot read " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

bool ended(const Process& p) {
  return p.complete || p.abandoned;
}

// A killed process ends at its last event, interrupted, as perf-commit records a step that
// Ctrl-C or a kill stopped (exit code 130 whatever the signal).
void end_at_last_event(Process& p) {
  const std::int64_t last = p.started && p.last_time_us >= 0
                                ? p.last_time_us - p.nodes[0].start_us  // as its spans are placed
                                : p.last_t_abs_us;
  p.end_t_abs_us = std::max<std::int64_t>(0, last);
  p.exit_code = to_int(ExitCode::interrupted);
  p.interrupted = true;
}

class Trace2Importer : public Importer {
 public:
  Status claim(const fs::path& input) override {
    if (input != "-") claim_.acquire(input);
    return {};
  }

  Status read(const fs::path& input, const ImportOptions& options, ImportSink& sink) override {
    if (input == "-") {
      return make_error(ExitCode::usage,
                        "--format trace2 reads a directory of event files, not stdin");
    }
    std::error_code ec;
    if (!fs::is_directory(input, ec)) {
      return make_error(ExitCode::usage,
                        input.string() +
                            " is not a directory: --format trace2 takes the directory "
                            "trace2.eventTarget names (see docs/trace2.md)");
    }
    auto files = list_directory(input);
    if (!files) return files.error();
    if (!read_files(*files, options, sink)) return {};
    std::vector<Process*> roots = link_children(sink);
    for (Process* root : roots) {
      if (Status s = record_tree(*root, options, sink); !s || stopped_) return s;
    }
    return {};
  }

  std::vector<fs::path> consumed() const override { return consumed_; }
  std::size_t deferred() const override { return deferred_; }
  std::vector<ImportProblem> left_alone() const override { return left_alone_; }
  std::pair<std::uint64_t, std::uint64_t> files_read() const override {
    return {files_read_.load(std::memory_order_relaxed),
            files_listed_.load(std::memory_order_relaxed)};
  }

 private:
  // Reads every file into processes_; false when the sink asked to stop.
  bool read_files(const std::vector<fs::path>& files, const ImportOptions& options,
                  ImportSink& sink) {
    processes_.clear();
    processes_.reserve(files.size());
    files_listed_ = files.size();
    const std::int64_t settled_before = options.now_us - 1000000;
    const std::int64_t abandoned_before = options.now_us - kAbandonedAfterUs;
    for (const fs::path& file : files) {
      files_read_.fetch_add(1, std::memory_order_relaxed);
      Entry entry = read_entry(file, settled_before);
      switch (entry.state) {
        case Entry::State::gone:
          continue;
        case Entry::State::young:
          ++deferred_;
          continue;
        case Entry::State::foreign:
          left_alone_.push_back({file.string(), 0, left_alone_message(entry.why), {}});
          continue;
        case Entry::State::events:
          break;
      }
      Process p;
      p.file = file;
      EventFileReader reader(p, file.string(), sink);
      if (!reader.read(entry.text)) return false;
      // A finished process's file is whole however new it is: imported at once, so that a CI
      // job can import its own git commands in its last step.
      p.recent = !p.finished && entry.mtime_us > settled_before;
      p.abandoned = !p.complete && entry.mtime_us <= abandoned_before;
      if (p.abandoned) end_at_last_event(p);
      processes_.push_back(std::move(p));
    }
    return true;
  }

  // Nests each child under its parent, in the node for the child_start/child_exit pair
  // whose pid is the child's. Returns the processes whose parent is not in the directory.
  std::vector<Process*> link_children(ImportSink& sink) {
    std::map<std::string, Process*> by_sid;
    for (Process& p : processes_) {
      if (p.started && !p.sid.empty()) by_sid.emplace(p.sid, &p);
    }
    std::vector<Process*> roots;
    for (Process& p : processes_) {
      if (!p.started) {
        unstarted(p, sink);
        continue;
      }
      auto parent = p.parent_sid.empty() ? by_sid.end() : by_sid.find(p.parent_sid);
      if (parent == by_sid.end()) {
        roots.push_back(&p);
      } else {
        parent->second->children.push_back(&p);
      }
    }
    for (Process* root : roots) {
      end_with_children(*root);
      nest_children(*root);
    }
    return roots;
  }

  // A killed process lived at least as long as the git children it waited for: it ends at
  // the last event of its tree, its own or a child's.
  static void end_with_children(Process& p) {
    for (Process* c : p.children) {
      if (!ended(*c)) continue;
      end_with_children(*c);
      if (p.abandoned) {
        const std::int64_t child_end = c->nodes[0].start_us + c->end_t_abs_us;
        p.end_t_abs_us = std::max(p.end_t_abs_us, child_end - p.nodes[0].start_us);
      }
    }
  }

  // Ended children into their parents' nodes; one still running stays out (see collect()).
  static void nest_children(Process& p) {
    for (Process* c : p.children) {
      if (!ended(*c)) continue;
      nest(p, *c);
      nest_children(*c);
    }
  }

  // A file without a start event: the trace2.maxFiles marker, a git killed before it
  // started (nothing to record), or damaged.
  void unstarted(const Process& p, ImportSink& sink) {
    if (p.discard_sentinel) {
      // git's trace2.maxFiles marker: removing it lets git write event files again.
      if (!p.recent) consumed_.push_back(p.file);
    } else if (p.complete) {
      sink.problem(
          {p.file.string(), 0, "an end but no trace2 start event: a damaged event file", {}});
    } else if (p.abandoned) {
      consumed_.push_back(p.file);
    } else {
      ++deferred_;
    }
  }

  static void nest(Process& parent, Process& child) {
    if (child.pid) {
      auto node = parent.child_pids.find(*child.pid);
      if (node != parent.child_pids.end()) {
        parent.nodes[node->second].child_process = &child;
        return;
      }
    }
    // No matching child_exit: under the parent's process node, by its own times.
    Node n;
    n.name = step_name(child);
    n.start_us = child.nodes[0].start_us;
    n.duration_us = child.end_t_abs_us;
    if (child.complete) n.exit_code = child.exit_code;
    n.child_process = &child;
    parent.nodes.push_back(std::move(n));
    parent.nodes[0].children.push_back(static_cast<int>(parent.nodes.size() - 1));
  }

  Status record_tree(Process& root, const ImportOptions& options, ImportSink& sink) {
    if (!ended(root) || any_recent(root)) {
      deferred_ += count(root);
      return {};
    }
    std::vector<fs::path> files_of_tree;
    collect(root, files_of_tree);
    StepRecord& r = record_;
    r = StepRecord{};
    r.step = step_name(root);
    r.trace_id = stable_trace_id(root.sid);
    Node& top = root.nodes[0];
    top.name = r.step;
    top.duration_us = std::max<std::int64_t>(0, root.end_t_abs_us);
    top.exit_code = root.exit_code;
    r.root = to_span(root, 0, top.start_us + top.duration_us);
    r.exit_code = root.exit_code;
    r.status = root.exit_code == 0 ? StepStatus::ok
               : root.interrupted  ? StepStatus::interrupted
                                   : StepStatus::failed;
    r.context = options.context;
    if (!root.worktree.empty()) r.context.repo = root.worktree;
    r.context.branch.clear();
    r.context.tool = "git";
    r.context.tool_version = root.version;
    r.context.git_version = root.version;
    r.labels.emplace_back("argv", shell_quote(root.argv));
    if (!root.mode.empty()) r.labels.emplace_back("mode", root.mode);
    if (!root.parent_sid.empty()) r.labels.emplace_back("parent_sid", root.parent_sid);
    r.labels.emplace_back("sid", root.sid);
    if (auto bad_number = exchange::out_of_bounds(r)) {
      stopped_ = !sink.problem({root.file.string(), 0, *bad_number, {}});
      return {};
    }
    if (Status s = sink.record(r); !s) return s;
    consumed_.insert(consumed_.end(), files_of_tree.begin(), files_of_tree.end());
    return {};
  }

  static bool any_recent(const Process& p) {
    if (p.recent) return true;
    for (const Process* c : p.children) {
      if (any_recent(*c)) return true;
    }
    return false;
  }

  static std::size_t count(const Process& p) {
    std::size_t n = 1;
    for (const Process* c : p.children) n += count(*c);
    return n;
  }

  // The files of an ended tree, each child's before its parent's: removed in this order, a
  // kill part-way leaves no child whose parent is gone (it would come back as a step of its
  // own). A child still running (detached, say) stays, with its own children, and becomes
  // a record of its own once it ends.
  void collect(const Process& p, std::vector<fs::path>& files) {
    for (const Process* c : p.children) {
      if (ended(*c)) {
        collect(*c, files);
      } else {
        deferred_ += count(*c);
      }
    }
    files.push_back(p.file);
  }

  DirectoryClaim claim_;
  std::vector<Process> processes_;
  StepRecord record_;
  std::vector<fs::path> consumed_;
  std::vector<ImportProblem> left_alone_;
  std::size_t deferred_ = 0;
  bool stopped_ = false;  // the sink asked to stop
  // For the progress line, read by the storing thread while this one reads.
  std::atomic<std::uint64_t> files_read_{0}, files_listed_{0};
};

}  // namespace

std::unique_ptr<Importer> make_trace2_importer() {
  return std::make_unique<Trace2Importer>();
}

}  // namespace perfguard
