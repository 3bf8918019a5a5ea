#include "output/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/duration.h"
#include "output/report.h"

namespace perfguard {

namespace {

std::int64_t monotonic_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Straight to the descriptor: nothing of ours is buffered, so the line is on the terminal
// before the next redraw, and stdio's buffer of the command's own output is left alone.
void write_stderr(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a terminal gone away: the line is not worth an error
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Plain text where colour is off (output/report.h: NO_COLOR) or the terminal cannot move
// its cursor (TERM=dumb).
bool no_colour() {
  if (!use_colour(stderr)) return true;
  const char* term = std::getenv("TERM");
  return term && std::strcmp(term, "dumb") == 0;
}

std::size_t terminal_width() {
  struct winsize size {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

Progress::Display terminal_display() {
  Progress::Display d;
  d.clock = monotonic_us;
  d.write = write_stderr;
  d.plain = no_colour();
  d.width = terminal_width();
  if (auto delay = progress_delay_from_environment(); delay && *delay) d.delay_us = (*delay)->us;
  return d;
}

}  // namespace

Result<std::optional<Duration>> progress_delay_from_environment() {
  const char* text = std::getenv("PERFGUARD_PROGRESS_DELAY");
  if (!text || !*text) return std::optional<Duration>{};
  auto delay = parse_duration(text);
  if (!delay) {
    return make_error(ExitCode::usage, "PERFGUARD_PROGRESS_DELAY: " + delay.error().message);
  }
  return std::optional<Duration>{*delay};
}

std::string with_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

Progress::Progress(bool quiet) {
  // Asked once: off, the operation's calls cost a test of on_.
  if (quiet || ::isatty(STDERR_FILENO) != 1) return;
  display_ = terminal_display();
  on_ = true;
  start_us_ = display_.clock();
}

Progress::Progress(Display display) : on_(true), display_(std::move(display)) {
  start_us_ = display_.clock();
}

Progress::~Progress() {
  clear();
}

void Progress::begin(std::string what, std::string unit, std::uint64_t total) {
  if (!on_) return;
  what_ = std::move(what);
  unit_ = std::move(unit);
  done_ = 0;
  total_ = total;
  // A line on show is redrawn at once with the new phase, not left saying the last one.
  if (shown_ > 0) {
    drawn_us_ = 0;
    advance(0);
  }
}

void Progress::clear() {
  if (!on_ || shown_ == 0) return;
  if (display_.plain) {
    display_.write("\r" + std::string(shown_, ' ') + "\r");
  } else {
    display_.write("\r\033[K");
  }
  shown_ = 0;
  drawn_us_ = 0;
}

void Progress::advance(std::uint64_t done) {
  done_ = done;
  const std::int64_t now = display_.clock();
  if (now - start_us_ < display_.delay_us) return;
  if (shown_ > 0 && now - drawn_us_ < display_.interval_us) return;
  draw(now);
}

void Progress::draw(std::int64_t now) {
  std::string text = line(what_, unit_, done_, total_, now - start_us_);
  // One column short of the width: a line that wraps cannot be taken back with `\r`.
  const std::size_t room = display_.width > 1 ? display_.width - 1 : 1;
  if (text.size() > room) text.resize(room);
  std::string out = "\r";
  if (display_.plain) {
    out += text;
    // Over a longer line that was there: spaces to its end.
    if (shown_ > text.size()) out += std::string(shown_ - text.size(), ' ');
    shown_ = std::max(shown_, text.size());
  } else {
    out += "\033[2m" + text + "\033[0m\033[K";
    shown_ = text.size();
  }
  display_.write(out);
  shown_ = std::max<std::size_t>(shown_, 1);
  drawn_us_ = now;
}

std::string Progress::line(std::string_view what, std::string_view unit, std::uint64_t done,
                           std::uint64_t total, std::int64_t elapsed_us) {
  std::string out(what);
  if (unit.empty()) {
    // Tenths of a second: the line first shows under one.
    const std::int64_t tenths = std::max<std::int64_t>(0, elapsed_us) / 100'000;
    return out + " (" + std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s)";
  }
  out += ": " + with_thousands(done);
  if (total > 0) {
    const std::uint64_t percent = done >= total ? 100 : done * 100 / total;
    out += " of " + with_thousands(total) + " " + std::string(unit) + " (" +
           std::to_string(percent) + "%)";
  } else {
    out += " " + std::string(unit);
  }
  return out;
}

}  // namespace perfguard
