#pragma once
// The progress line of an operation that can take more than a second (an import, measure,
// prune, a report over a large store, health --deep, optimize): on standard error, and only
// when that is a terminal, so a pipe, a file or a CI log never holds one. It appears once
// the operation has run for a while (kDefaultDelay; PERFGUARD_PROGRESS_DELAY), so a fast run
// prints nothing; it is redrawn at most ten times a second over itself (`\r`), and cleared
// when done, so it never mixes with what the command prints. With NO_COLOR (or TERM=dumb)
// it is plain text, with no escape sequence: spaces clear it.
//
//   importing jsonl: 12,345 records
//   reading trace2: 12,345 of 50,000 event files (24%)
//   pruning recorded steps (3.2 s)
//
// Off, every call returns at its first test: an operation calls update() in its loop
// whether or not anyone sees it.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/duration.h"
#include "core/result.h"

namespace perfguard {

class Progress {
 public:
  // How the line is shown; the terminal's by default (Progress(bool quiet)), a test's own.
  struct Display {
    std::function<std::int64_t()> clock;          // monotonic µs
    std::function<void(std::string_view)> write;  // the terminal
    bool plain = false;                           // NO_COLOR: no escape sequences
    std::size_t width = 80;                       // the terminal's columns
    std::int64_t delay_us = 750'000;              // shown from this long after the start
    std::int64_t interval_us = 100'000;           // redrawn at most this often
  };

  // Off: nothing is ever shown.
  Progress() = default;
  // On standard error when it is a terminal and `quiet` is not set; off otherwise.
  explicit Progress(bool quiet);
  explicit Progress(Display display);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();

  bool on() const { return on_; }

  // What is being done now ("importing trace2"), what is counted ("records"; empty when
  // nothing is: the line then shows the time so far) and how many there are (0: not known).
  // The operation's start, from which the delay counts, is when the Progress was made. A
  // line on show is redrawn with it at once; else the next update() or tick() draws it.
  void begin(std::string what, std::string unit = {}, std::uint64_t total = 0);
  // `done` of the total so far. Cheap: a clock reading, and a redraw when one is due.
  void update(std::uint64_t done) {
    if (on_) advance(done);
  }
  void update(std::uint64_t done, std::uint64_t total) {
    if (!on_) return;
    total_ = total;
    advance(done);
  }
  // For work without a count: redraws the time so far when a redraw is due.
  void tick() {
    if (on_) advance(done_);
  }
  // Clears the line, if shown (before the operation prints something of its own, and when
  // it ends); the next update() draws it again.
  void clear();

  // The line for these figures, as shown: "importing trace2: 12,345 of 50,000 records (24%)".
  static std::string line(std::string_view what, std::string_view unit, std::uint64_t done,
                          std::uint64_t total, std::int64_t elapsed_us);

 private:
  void advance(std::uint64_t done);
  void draw(std::int64_t now);

  bool on_ = false;
  Display display_;
  std::int64_t start_us_ = 0;
  std::int64_t drawn_us_ = 0;
  std::size_t shown_ = 0;  // columns of the line on the terminal; 0: none
  std::string what_, unit_;
  std::uint64_t done_ = 0, total_ = 0;
};

// "12,345".
std::string with_thousands(std::uint64_t n);

// PERFGUARD_PROGRESS_DELAY: how long an operation runs before its line appears (0s: at once);
// nullopt when unset or empty. A value that is not a duration is a usage error naming it
// (open_session() refuses it before anything is done).
Result<std::optional<Duration>> progress_delay_from_environment();

}  // namespace perfguard
