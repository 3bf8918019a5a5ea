#pragma once
// The kinds of value an option takes (a duration, a range of time back from now, a
// fraction, a multiplier, a count, one of a few names), as typed CLI11 options. A value is
// checked while the command line is parsed, before anything is opened or changed, so that a
// bad one is a CLI11 parse error: run_tool reports it on one line, naming the option
// (`perf-baseline: --since: '0s' is not a window: …`), and exits 2.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/duration.h"
#include "core/result.h"

namespace perfguard {

// How far back a query reaches: the runs started this long ago or later (`7d`), or every
// run (`all`).
class Since {
 public:
  // `all`, or a positive duration. A zero window is refused rather than read as `all`:
  // `0s` would select nothing, and reading it as everything surprised people.
  static Result<Since> parse(std::string_view text);
  static Since all() { return Since{}; }

  bool is_all() const { return window_.us == 0; }
  // Zero for all, as describe_window() and in_window() read it.
  Duration window() const { return window_; }
  // The earliest start this range takes, `now_us` less the window; nothing for all.
  std::optional<std::int64_t> start_us(std::int64_t now_us) const;
  // The same, with the earliest time there is for all (for queries that take a number).
  std::int64_t start_us_or_earliest(std::int64_t now_us) const;
  // As it was written (`24h` stays `24h`), for the default --help shows.
  const std::string& text() const { return text_; }

 private:
  Duration window_;
  std::string text_ = "all";
};

// Each parse function says what is wrong with a text without naming the option: CLI11 puts
// the option's name in front.

// A positive duration (`250ms`, `7d`): every option that takes one (an age, a window) would
// mean nothing at zero.
Result<Duration> parse_positive_duration(std::string_view text);
// A fraction from 0 to 1, written `5%` or `0.05`.
Result<double> parse_fraction(std::string_view text);
// A finite number above 0 and at most kMaxMultiplier: `2`, `1.5`.
Result<double> parse_multiplier(std::string_view text);
// A whole number from `min` up (`20`; what an int holds).
Result<int> parse_count(std::string_view text, int min);

// The largest multiplier: a regression 1000 times the baseline is no threshold at all.
inline constexpr double kMaxMultiplier = 1000;

// `a`, `a or b`, `a, b or c`.
std::string one_of(const std::vector<std::string>& names);

// One kind of option value: how a text becomes the value (or what is wrong with it), and
// the value as text, for the default --help shows.
template <class T>
struct OptionType {
  std::function<Result<T>(std::string_view)> parse;
  std::function<std::string(const T&)> text;
};

OptionType<Duration> positive_duration();
OptionType<Since> since();
OptionType<double> fraction();
OptionType<double> multiplier();
OptionType<int> count(int min);  // count(1): positive; count(0): not negative

// One of a few names, read by `parse` (the library's own reader) and written by `name`. A
// text that is none of them is refused as not `noun` (`a scope`), listing `names`.
template <class T>
OptionType<T> choice(std::string noun, std::vector<std::string> names,
                     std::optional<T> (*parse)(std::string_view), const char* (*name)(T)) {
  return {[noun = std::move(noun), names = std::move(names),
           parse](std::string_view text) -> Result<T> {
            if (auto value = parse(text)) return *value;
            return make_error(ExitCode::usage,
                              "'" + std::string(text) + "' is not " + noun + ": " + one_of(names));
          },
          [name](const T& value) { return std::string(name(value)); }};
}

// Adds an option that sets `value` from its text, as `type` reads it. A text `type` refuses
// is a CLI11 validation error naming the option, so it fails the parse (exit 2, through
// run_tool); `value` keeps what it holds when the option is not given, and that is the
// default `capture_default_str()` shows.
template <class T>
CLI::Option* add_typed_option(CLI::App& app, const std::string& names, T& value,
                              const OptionType<T>& type, const std::string& help) {
  CLI::Option* option = app.add_option_function<std::string>(
      names, [&value, parse = type.parse](const std::string& text) { value = *parse(text); }, help);
  // No description of its own: --help shows the option's type name alone.
  option->check(CLI::Validator(
      [parse = type.parse](std::string& text) {
        auto parsed = parse(text);
        return parsed ? std::string() : parsed.error().message;
      },
      std::string()));
  option->default_function([&value, text = type.text] { return text(value); });
  return option;
}

}  // namespace perfguard
