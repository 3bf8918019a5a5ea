#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "output/progress.h"

using perfguard::Progress;
using perfguard::with_thousands;

namespace {

// A terminal made of a string and a clock the test moves: what the line would look like,
// and when, without waiting for it.
struct Terminal {
  std::int64_t now_us = 0;
  std::string written;
  int writes = 0;

  Progress::Display display(bool plain = false, std::size_t width = 80) {
    Progress::Display d;
    d.clock = [this] { return now_us; };
    d.write = [this](std::string_view text) {
      written += text;
      ++writes;
    };
    d.plain = plain;
    d.width = width;
    d.delay_us = 750'000;
    d.interval_us = 100'000;
    return d;
  }

  // The screen's last line as a terminal shows it, without trailing spaces: `\r` to its
  // start, ESC[K erases to its end, other escape sequences (the dim style) change nothing of
  // the text.
  std::string screen() const {
    std::string line;
    std::size_t column = 0;
    for (std::size_t i = 0; i < written.size(); ++i) {
      const char c = written[i];
      if (c == '\r') {
        column = 0;
      } else if (c == '\033') {
        const std::size_t end = written.find_first_of("mK", i);
        if (written[end] == 'K') line.resize(column);
        i = end;
      } else {
        if (column < line.size()) {
          line[column] = c;
        } else {
          line += c;
        }
        ++column;
      }
    }
    // Trailing spaces show as nothing.
    return line.substr(0, line.find_last_not_of(' ') + 1);
  }
};

}  // namespace

TEST_CASE("with_thousands groups digits by three") {
  CHECK(with_thousands(0) == "0");
  CHECK(with_thousands(999) == "999");
  CHECK(with_thousands(1000) == "1,000");
  CHECK(with_thousands(12345) == "12,345");
  CHECK(with_thousands(1234567) == "1,234,567");
}

TEST_CASE("the line says what is done, how many of how many, and the share") {
  CHECK(Progress::line("importing trace2", "records", 12345, 50000, 0) ==
        "importing trace2: 12,345 of 50,000 records (24%)");
  CHECK(Progress::line("importing jsonl", "records", 12345, 0, 0) ==
        "importing jsonl: 12,345 records");
  CHECK(Progress::line("measuring", "runs", 7, 5, 0) == "measuring: 7 of 5 runs (100%)");
  // Without a count: the time so far.
  CHECK(Progress::line("pruning recorded steps", "", 0, 0, 3'250'000) ==
        "pruning recorded steps (3.2 s)");
}

TEST_CASE("a run shorter than the delay prints nothing") {
  Terminal t;
  {
    Progress progress(t.display());
    progress.begin("importing jsonl", "records");
    for (std::uint64_t i = 0; i < 1000; ++i) {
      t.now_us += 700;  // 0.7 s in all
      progress.update(i);
    }
  }
  CHECK(t.written.empty());
}

TEST_CASE("the line appears after the delay, at most once per interval, and is cleared") {
  Terminal t;
  {
    Progress progress(t.display());
    progress.begin("importing jsonl", "records", 10000);
    std::uint64_t done = 0;
    while (t.now_us < 2'000'000) {  // 2 s of updates, one a millisecond
      t.now_us += 1000;
      progress.update(++done);
      if (t.now_us == 760'000) CHECK(t.screen() == "importing jsonl: 750 of 10,000 records (7%)");
    }
    // From 0.75 s to 2 s, one draw per 0.1 s: 13 of the 2,000 updates.
    CHECK(t.writes == 13);
    CHECK(t.screen() == "importing jsonl: 1,950 of 10,000 records (19%)");
    CHECK(t.written.find("\033[2m") != std::string::npos);
  }
  // Gone from the terminal, with the cursor back at the start of the line.
  CHECK(t.screen().empty());
  CHECK(t.written.substr(t.written.size() - 4) == "\r\033[K");
}

TEST_CASE("NO_COLOR's line is plain text, cleared with spaces") {
  Terminal t;
  Progress progress(t.display(/*plain=*/true));
  progress.begin("reading objects", "objects", 200);
  t.now_us = 1'000'000;
  progress.update(150);
  CHECK(t.written == "\rreading objects: 150 of 200 objects (75%)");
  // A shorter line over a longer one: the rest is blanked.
  t.now_us = 2'000'000;
  progress.begin("applying", "settings", 3);
  CHECK(t.screen() == "applying: 0 of 3 settings (0%)");
  progress.clear();
  CHECK(t.screen().empty());
  for (char c : t.written) CHECK(c != '\033');
  // Cleared, drawn again at the next update.
  progress.update(1);
  CHECK(t.screen() == "applying: 1 of 3 settings (33%)");
}

TEST_CASE("a line wider than the terminal is cut to fit, so that it never wraps") {
  Terminal t;
  Progress progress(t.display(/*plain=*/true, /*width=*/20));
  progress.begin("importing trace2", "event files", 50000);
  t.now_us = 1'000'000;
  progress.update(12345);
  CHECK(t.screen() == "importing trace2: 1");
  CHECK(t.screen().size() == 19);
}

TEST_CASE("work without a count shows the time it has taken") {
  Terminal t;
  Progress progress(t.display());
  progress.begin("pruning recorded steps");
  t.now_us = 500'000;
  progress.tick();
  CHECK(t.written.empty());
  t.now_us = 1'300'000;
  progress.tick();
  CHECK(t.screen() == "pruning recorded steps (1.3 s)");
}

TEST_CASE("off, nothing is written and every call returns") {
  Progress off;
  CHECK_FALSE(off.on());
  off.begin("importing jsonl", "records", 10);
  off.update(5);
  off.tick();
  off.clear();
  // Not a terminal (the test's stderr may be one: quiet says off either way).
  Progress quiet(/*quiet=*/true);
  CHECK_FALSE(quiet.on());
}
