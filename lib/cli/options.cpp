#include "cli/options.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace perfguard {

namespace {

Error usage(std::string message) {
  return make_error(ExitCode::usage, std::move(message));
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

// strtod over the whole text, or nothing. It reads `inf`, `nan` and `1e999` (as infinity)
// too: the callers decide which numbers they take.
std::optional<double> read_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const std::string copy(text);
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  if (*end != '\0') return std::nullopt;
  return v;
}

// `v` in the shortest form that reads back the same: 2, 1.5, 0.05.
std::string number_text(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

}  // namespace

Result<Since> Since::parse(std::string_view text) {
  if (text == "all") return all();
  auto d = parse_duration(text);
  if (!d) return usage(d.error().message + ", or all");
  if (d->us <= 0) {
    return usage(quoted(text) +
                 " is not a window: it must be positive (like 7d), or all for "
                 "every run");
  }
  Since since;
  since.window_ = *d;
  since.text_ = std::string(text);
  return since;
}

std::optional<std::int64_t> Since::start_us(std::int64_t now_us) const {
  if (is_all()) return std::nullopt;
  return now_us - window_.us;
}

std::int64_t Since::start_us_or_earliest(std::int64_t now_us) const {
  return start_us(now_us).value_or(std::numeric_limits<std::int64_t>::min());
}

Result<Duration> parse_positive_duration(std::string_view text) {
  auto d = parse_duration(text);
  if (!d) return d.error();
  if (d->us <= 0) return usage(quoted(text) + " is out of range: it must be positive, like 7d");
  return *d;
}

Result<double> parse_fraction(std::string_view text) {
  std::string_view number = text;
  const bool percent = !number.empty() && number.back() == '%';
  if (percent) number.remove_suffix(1);
  auto v = read_number(number);
  if (v && std::isfinite(*v) && *v >= 0 && *v <= (percent ? 100 : 1)) {
    return percent ? *v / 100 : *v;
  }
  return usage(quoted(text) + " is not a fraction: write it as 5% or 0.05, from 0 to 100%");
}

Result<double> parse_multiplier(std::string_view text) {
  auto v = read_number(text);
  if (v && std::isfinite(*v) && *v > 0 && *v <= kMaxMultiplier) return *v;
  return usage(quoted(text) +
               " is not a multiplier: a finite number above 0 and at most 1000, like 2 or 1.5");
}

Result<int> parse_count(std::string_view text, int min) {
  // `+3` as CLI11's own integer options took it.
  const bool plus = text.size() > 1 && text[0] == '+' && text[1] >= '0' && text[1] <= '9';
  const std::string_view digits = plus ? text.substr(1) : text;
  int v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc() && end == digits.data() + digits.size() && v >= min) return v;
  const std::string rule = min == 1 ? "above 0" : "from " + std::to_string(min) + " up";
  return usage(quoted(text) + " must be a whole number " + rule +
               (ec == std::errc::result_out_of_range
                    ? ", at most " + std::to_string(std::numeric_limits<int>::max())
                    : ""));
}

std::string one_of(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

OptionType<Duration> positive_duration() {
  return {parse_positive_duration, [](const Duration& d) { return format_duration(d); }};
}

OptionType<Since> since() {
  return {Since::parse, [](const Since& s) { return s.text(); }};
}

OptionType<double> fraction() {
  return {parse_fraction, [](const double& v) { return number_text(v * 100) + "%"; }};
}

OptionType<double> multiplier() {
  return {parse_multiplier, [](const double& v) { return number_text(v); }};
}

OptionType<int> count(int min) {
  return {[min](std::string_view text) { return parse_count(text, min); },
          [](const int& v) { return std::to_string(v); }};
}

}  // namespace perfguard
