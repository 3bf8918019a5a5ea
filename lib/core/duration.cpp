#include "core/duration.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace perfguard {
namespace {

// Exact decimal arithmetic: `1.5MB` must be 1500000 bytes, not 1499999.9999.
__extension__ typedef unsigned __int128 Wide;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr int kMaxFractionDigits = 18;  // finer digits cannot change a microsecond or a byte

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A number as written, `12.345`: kept as digits so scaling it by a unit is exact.
struct Decimal {
  Wide whole = 0;
  std::uint64_t fraction = 0;  // the digits after the point, as an integer
  int fraction_digits = 0;
};

// Reads `digits[.digits]` from the front of `text`, consuming it. Nullopt when there is no
// number there. A whole part past kMax is kept as kMax + 1, so that scale() reports it as
// too large rather than the caller as malformed.
std::optional<Decimal> take_decimal(std::string_view& text) {
  Decimal d;
  std::size_t i = 0;
  constexpr Wide kTooLarge = static_cast<Wide>(kMax) + 1;
  while (i < text.size() && is_digit(text[i])) {
    if (d.whole < kTooLarge) {
      d.whole = std::min(d.whole * 10 + static_cast<unsigned>(text[i] - '0'), kTooLarge);
    }
    ++i;
  }
  if (i == 0) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    std::size_t start = ++i;
    while (i < text.size() && is_digit(text[i])) {
      if (d.fraction_digits < kMaxFractionDigits) {
        d.fraction = d.fraction * 10 + static_cast<unsigned>(text[i] - '0');
        ++d.fraction_digits;
      }
      ++i;
    }
    if (i == start) return std::nullopt;  // `1.` is not a number
  }
  text.remove_prefix(i);
  return d;
}

// `d` times `unit`, the fraction rounded to the nearest whole (halves away from zero);
// nullopt on overflow.
std::optional<std::int64_t> scale(const Decimal& d, std::int64_t unit) {
  Wide u = static_cast<Wide>(unit);
  Wide total = d.whole * u;
  if (d.fraction_digits > 0) {
    Wide pow10 = 1;
    for (int i = 0; i < d.fraction_digits; ++i) pow10 *= 10;
    total += (static_cast<Wide>(d.fraction) * u + pow10 / 2) / pow10;
  }
  if (total > static_cast<Wide>(kMax)) return std::nullopt;
  return static_cast<std::int64_t>(total);
}

struct Unit {
  std::string_view name;
  std::int64_t size;
};

// Longest names first where one is a prefix of another (`ms` before `m`).
constexpr std::array kDurationUnits{
    Unit{"us", 1},
    Unit{"\xC2\xB5s", 1},  // µs, MICRO SIGN
    Unit{"\xCE\xBCs", 1},  // μs, GREEK SMALL LETTER MU
    Unit{"ms", 1000},
    Unit{"s", 1000000},
    Unit{"m", 60 * std::int64_t{1000000}},
    Unit{"h", 3600 * std::int64_t{1000000}},
    Unit{"d", 86400 * std::int64_t{1000000}},
    Unit{"w", 7 * 86400 * std::int64_t{1000000}},
};

constexpr std::array kSizeUnits{
    Unit{"KiB", std::int64_t{1} << 10},
    Unit{"MiB", std::int64_t{1} << 20},
    Unit{"GiB", std::int64_t{1} << 30},
    Unit{"TiB", std::int64_t{1} << 40},
    Unit{"KB", 1000},
    Unit{"MB", 1000000},
    Unit{"GB", 1000000000},
    Unit{"TB", 1000000000000},
    Unit{"B", 1},
};

char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
  }
  return true;
}

Error bad_duration(std::string_view text) {
  return make_error(ExitCode::usage, "bad duration '" + std::string(text) +
                                         "': expected a number and a unit (us, ms, s, m, h, d, "
                                         "w), e.g. 250ms or 1.5s");
}

Error too_long(std::string_view text) {
  return make_error(ExitCode::usage,
                    "bad duration '" + std::string(text) + "': too long; the longest is " +
                        std::to_string(kMax / (86400 * std::int64_t{1000000})) + "d");
}

Error bad_size(std::string_view text) {
  return make_error(ExitCode::usage, "bad size '" + std::string(text) +
                                         "': expected a number and an optional unit (B, KB, "
                                         "MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 100MB");
}

// `v` rounded to three significant digits (halves away from zero).
std::int64_t round_to_3_digits(std::int64_t v) {
  std::int64_t step = 1;
  while (v / step >= 1000) step *= 10;
  if (step == 1) return v;
  std::int64_t rounded = (v / step) * step;
  if (v % step >= step / 2) rounded += step;
  return rounded;
}

// `v / unit` written with at most three significant digits and no trailing zeros:
// 1500000 / 1000000 -> "1.5". `v` has already been rounded to three digits.
std::string format_scaled(std::int64_t v, std::int64_t unit) {
  std::string out = std::to_string(v / unit);
  std::int64_t rest = v % unit;
  if (rest == 0) return out;
  out += '.';
  while (rest != 0 && unit > 1) {
    unit /= 10;
    out += static_cast<char>('0' + rest / unit);
    rest %= unit;
  }
  return out;
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  std::string_view rest = text;
  if (rest.empty()) return bad_duration(text);
  std::int64_t total = 0;
  while (!rest.empty()) {
    auto number = take_decimal(rest);
    if (!number) return bad_duration(text);
    const Unit* unit = nullptr;
    for (const Unit& u : kDurationUnits) {
      if (rest.starts_with(u.name) && (!unit || u.name.size() > unit->name.size())) unit = &u;
    }
    if (!unit) return bad_duration(text);
    rest.remove_prefix(unit->name.size());
    auto part = scale(*number, unit->size);
    if (!part || *part > kMax - total) return too_long(text);
    total += *part;
  }
  return Duration{total};
}

std::string format_duration(Duration d) {
  if (d.us < 0) {
    // Only a difference of two durations can be negative; print it honestly.
    if (d.us == std::numeric_limits<std::int64_t>::min()) return "-" + format_duration({kMax});
    return "-" + format_duration(Duration{-d.us});
  }
  constexpr std::int64_t ms = 1000, s = 1000 * ms, m = 60 * s, h = 60 * m, day = 24 * h;
  std::int64_t us = d.us < m ? round_to_3_digits(d.us) : d.us;
  if (us == 0) return "0s";
  if (us < ms) return std::to_string(us) + "us";
  if (us < s) return format_scaled(us, ms) + "ms";
  if (us < m) return format_scaled(us, s) + "s";
  // A minute and more: whole seconds are precise enough, written as `1h30m`, `2m30s`, `7d`.
  // Rounded to the nearest second, but never past the longest duration that parses.
  std::int64_t secs = us / s;
  if (us % s >= s / 2 && secs < kMax / s) ++secs;
  std::string out;
  constexpr std::array<Unit, 4> parts{Unit{"d", day / s}, Unit{"h", h / s}, Unit{"m", m / s},
                                      Unit{"s", 1}};
  for (const Unit& part : parts) {
    if (secs >= part.size) {
      out += std::to_string(secs / part.size) + std::string(part.name);
      secs %= part.size;
    }
  }
  return out;
}

Result<std::int64_t> parse_size(std::string_view text) {
  std::string_view rest = text;
  auto number = take_decimal(rest);
  if (!number) return bad_size(text);
  std::int64_t unit = 1;  // a bare number is bytes
  if (!rest.empty()) {
    const Unit* found = nullptr;
    for (const Unit& u : kSizeUnits) {
      if (equal_ignoring_case(rest, u.name)) found = &u;
    }
    if (!found) return bad_size(text);
    unit = found->size;
  }
  auto bytes = scale(*number, unit);
  if (!bytes) return bad_size(text);
  return *bytes;
}

std::string format_size(std::int64_t bytes) {
  if (bytes < 0) {
    if (bytes == std::numeric_limits<std::int64_t>::min()) return "-" + format_size(kMax);
    return "-" + format_size(-bytes);
  }
  constexpr std::array<Unit, 4> units{Unit{"TB", 1000000000000}, Unit{"GB", 1000000000},
                                      Unit{"MB", 1000000}, Unit{"KB", 1000}};
  std::int64_t rounded = round_to_3_digits(bytes);
  for (const Unit& u : units) {
    if (rounded >= u.size) {
      // Past 999TB there is no larger unit: whole terabytes.
      if (rounded / u.size >= 1000) {
        std::int64_t whole = bytes / u.size + (bytes % u.size >= u.size / 2 ? 1 : 0);
        return std::to_string(whole) + std::string(u.name);
      }
      return format_scaled(rounded, u.size) + std::string(u.name);
    }
  }
  return std::to_string(bytes) + "B";
}

}  // namespace perfguard
