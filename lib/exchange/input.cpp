#include "exchange/input.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "process/runner.h"

namespace perfguard::exchange {

namespace {

constexpr std::size_t kChunk = 1 << 20;
constexpr std::size_t kMaxLine = std::size_t{64} << 20;
constexpr std::size_t kMaxDocument = std::size_t{512} << 20;

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

Error read_error(const std::string& name, int err) {
  return make_error(ExitCode::usage, "cannot read " + name + ": " + std::strerror(err));
}

// How long a wait for a pipe or FIFO goes without looking for Ctrl-C: the signal interrupts
// poll() in the thread it hits, and this bounds the wait when it hits the other one.
constexpr int kInterruptCheckMs = 100;

// Waits until `fd` can be read (or its writer is gone): 0, an errno, or -1 at an interrupt.
int wait_readable(int fd) {
  for (;;) {
    if (received_interrupt() != 0) return -1;
    struct pollfd ready = {fd, POLLIN, 0};
    const int n = ::poll(&ready, 1, kInterruptCheckMs);
    if (n > 0) return 0;
    if (n < 0 && errno != EINTR) return errno;
  }
}

}  // namespace

Error interrupted_error() {
  return make_error(ExitCode::interrupted, "interrupted");
}

std::string display_name(const std::filesystem::path& input) {
  return input == "-" ? std::string("stdin") : input.string();
}

LineReader::~LineReader() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

Status LineReader::open(const std::filesystem::path& input) {
  name_ = display_name(input);
  if (input == "-") {
    fd_ = STDIN_FILENO;
    owned_ = false;
    struct stat st;
    stream_ = ::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode);
  } else {
    // Not blocking in open(): a FIFO without a writer would wait here before its type is
    // known. A named FIFO is a stream like stdin and is read as one (waiting for its writer
    // on this same descriptor: once it is open a writer may write and close, and a reader
    // opened after that would wait for another); a device, directory or socket is not an
    // input.
    fd_ = ::open(input.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd_ < 0) return read_error(name_, errno);
    owned_ = true;
    struct stat st;
    if (::fstat(fd_, &st) != 0) return read_error(name_, errno);
    if (S_ISFIFO(st.st_mode)) {
      // Until a writer has written or come and gone (no hang-up is reported before one came).
      if (int err = wait_readable(fd_); err > 0) return read_error(name_, err);
      if (received_interrupt() != 0) return interrupted_error();
    }
    stream_ = !S_ISREG(st.st_mode);
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
      return make_error(ExitCode::usage, "cannot read " + name_ + ": " + file_kind(st.st_mode) +
                                             "; import reads a regular file, a FIFO or stdin (-)");
    }
    int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
  }
  buf_.resize(kChunk);
  return {};
}

// Reads more after end_, first moving the unread part to the front (or growing the buffer
// when one line fills it). False at the end of the input or on an error.
bool LineReader::fill() {
  if (eof_ || !status_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) {
    // One line filling the buffer grows it, up to a bound: an input without line breaks
    // (/dev/zero behind a pipe, say) must not take all memory.
    if (buf_.size() >= kMaxLine) {
      status_ = make_error(ExitCode::usage,
                           name_ + ":" + std::to_string(line_ + 1) + ": a line longer than " +
                               std::to_string(kMaxLine >> 20) + " MiB: not a record");
      return false;
    }
    buf_.resize(buf_.size() * 2);
  }
  for (;;) {
    // Ctrl-C stops an import between two reads: a regular file is read to its end in a
    // moment, a pipe may wait for its writer for as long as it likes.
    if (received_interrupt() == 0 && stream_) {
      if (int err = wait_readable(fd_); err > 0) {
        status_ = read_error(name_, err);
        return false;
      }
    }
    if (received_interrupt() != 0) {
      status_ = interrupted_error();
      return false;
    }
    ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n > 0) {
      end_ += static_cast<std::size_t>(n);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    status_ = read_error(name_, errno);
    return false;
  }
}

bool LineReader::next(std::string_view& line) {
  if (fd_ < 0) return false;
  std::size_t scanned = begin_;
  for (;;) {
    const char* start = buf_.data() + begin_;
    const void* nl = std::memchr(buf_.data() + scanned, '\n', end_ - scanned);
    if (nl) {
      std::size_t len = static_cast<const char*>(nl) - start;
      begin_ += len + 1;
      if (len > 0 && start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      ++line_;
      return true;
    }
    scanned = end_ - begin_;  // the unread part moves to the front in fill()
    if (!fill()) break;
  }
  if (begin_ < end_ && status_) {  // a last line without a newline
    const char* start = buf_.data() + begin_;
    std::size_t len = end_ - begin_;
    begin_ = end_;
    if (len > 0 && start[len - 1] == '\r') --len;
    line = std::string_view(start, len);
    ++line_;
    return true;
  }
  return false;
}

Result<std::string> read_input(const std::filesystem::path& input) {
  LineReader reader;
  if (Status s = reader.open(input); !s) return s.error();
  std::string text;
  std::string_view line;
  while (reader.next(line)) {
    text.append(line);
    text += '\n';
    if (text.size() > kMaxDocument) {
      return make_error(ExitCode::usage, "cannot read " + display_name(input) + ": larger than " +
                                             std::to_string(kMaxDocument >> 20) +
                                             " MiB, too large for one document");
    }
  }
  if (!reader.status()) return reader.status().error();
  return text;
}

std::size_t line_at(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

void fill_context(RunContext& c, unsigned present, const RunContext& d) {
  for (std::size_t i = 0; i < kContextFields.size(); ++i) {
    if (!(present & (1u << i))) c.*kContextFields[i].member = d.*kContextFields[i].member;
  }
}

std::optional<std::uint64_t> parse_trace_id(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
  if (ec != std::errc() || p != hex.data() + hex.size() || v == 0) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

namespace {

// The message when `v` is outside [low, high]; nothing is built when it is inside (this
// runs for every number of every record an import reads).
std::optional<std::string> outside(std::string_view prefix, std::string_view field, std::int64_t v,
                                   std::int64_t low, std::int64_t high, std::string_view meaning) {
  if (v >= low && v <= high) return std::nullopt;
  std::string message = "\"" + std::string(prefix) + std::string(field) + "\" must be between " +
                        std::to_string(low) + " and " + std::to_string(high);
  if (!meaning.empty()) message += " (" + std::string(meaning) + ")";
  return message + ", found " + std::to_string(v);
}

std::optional<std::string> usage_out_of_bounds(std::string_view prefix, const ResourceUsage& u) {
  if (auto m = outside(prefix, "cpu_user_us", u.cpu_user_us, 0, kMaxCpuUs, "")) return m;
  if (auto m = outside(prefix, "cpu_sys_us", u.cpu_sys_us, 0, kMaxCpuUs, "")) return m;
  return outside(prefix, "max_rss_kb", u.max_rss_kb, 0, kMaxRssKb, "1 PiB");
}

std::optional<std::string> span_out_of_bounds(const Span& span, std::int64_t root_start_us,
                                              const std::string& prefix) {
  // A child's offset from its step: within the step's own bounds either way.
  if (auto m = outside(prefix, "offset_us", span.start_us - root_start_us, -kMaxDurationUs,
                       kMaxDurationUs, "7 days either way")) {
    return m;
  }
  if (auto m = outside(prefix, "duration_us", span.duration.us, 0, kMaxDurationUs, "7 days")) {
    return m;
  }
  if (span.exit_code) {
    if (auto m = outside(prefix, "exit_code", *span.exit_code, -kMaxExitCode, kMaxExitCode, "")) {
      return m;
    }
  }
  if (auto m = usage_out_of_bounds(prefix, span.usage)) return m;
  for (std::size_t i = 0; i < span.children.size(); ++i) {
    if (auto m = span_out_of_bounds(span.children[i], root_start_us,
                                    prefix + "spans[" + std::to_string(i) + "].")) {
      return m;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> out_of_bounds(const StepRecord& r) {
  if (auto m = outside("", "started_us", r.root.start_us, 0, kMaxStartUs, "1970 to 9999")) {
    return m;
  }
  if (auto m = outside("", "duration_us", r.root.duration.us, 0, kMaxDurationUs, "7 days")) {
    return m;
  }
  if (r.threshold) {
    if (auto m = outside("", "threshold_us", r.threshold->us, 0, kMaxDurationUs, "7 days")) {
      return m;
    }
  }
  if (auto m = outside("", "exit_code", r.exit_code, -kMaxExitCode, kMaxExitCode, "")) return m;
  if (auto m = usage_out_of_bounds("", r.root.usage)) return m;
  for (std::size_t i = 0; i < r.root.children.size(); ++i) {
    if (auto m = span_out_of_bounds(r.root.children[i], r.root.start_us,
                                    "spans[" + std::to_string(i) + "].")) {
      return m;
    }
  }
  return std::nullopt;
}

}  // namespace perfguard::exchange
