#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cli/options.h"
#include "store/baselines.h"

using namespace perfguard;

namespace {

constexpr std::int64_t kDay = 86400 * std::int64_t{1000000};

// Parses `args` (after the program's name) as a command line; the CLI11 error's text when
// it fails, "" when it parses.
std::string parse_error(CLI::App& app, std::vector<std::string> args) {
  std::vector<const char*> argv = {"perf-test"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    CHECK(e.get_exit_code() != 0);
    return e.what();
  }
  return "";
}

template <class T>
std::string error_of(const Result<T>& r) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ExitCode::usage);
  return r.error().message;
}

}  // namespace

TEST_CASE("Since reads a positive window or all, and gives its start from a now") {
  auto week = Since::parse("7d");
  REQUIRE(week.ok());
  CHECK_FALSE(week->is_all());
  CHECK(week->window().us == 7 * kDay);
  CHECK(week->text() == "7d");
  CHECK(week->start_us(10 * kDay) == 3 * kDay);
  CHECK(week->start_us_or_earliest(10 * kDay) == 3 * kDay);

  auto day = Since::parse("24h");
  REQUIRE(day.ok());
  CHECK(day->text() == "24h");  // as written, not 1d

  auto all = Since::parse("all");
  REQUIRE(all.ok());
  CHECK(all->is_all());
  CHECK(all->window().us == 0);
  CHECK(all->text() == "all");
  CHECK_FALSE(all->start_us(10 * kDay).has_value());
  CHECK(all->start_us_or_earliest(10 * kDay) == std::numeric_limits<std::int64_t>::min());
  CHECK(Since::all().is_all());
}

TEST_CASE("Since refuses a zero or negative window, an empty text and what is not a duration") {
  CHECK(error_of(Since::parse("0s")) ==
        "'0s' is not a window: it must be positive (like 7d), or all for every run");
  CHECK(error_of(Since::parse("0ms")).starts_with("'0ms' is not a window"));
  CHECK(error_of(Since::parse("-1d")).starts_with("bad duration '-1d'"));
  CHECK(error_of(Since::parse("yesterday")).ends_with(", or all"));
  CHECK(error_of(Since::parse("")).starts_with("bad duration ''"));
  CHECK(error_of(Since::parse("ALL")).starts_with("bad duration 'ALL'"));
  CHECK(error_of(Since::parse("7")).starts_with("bad duration '7'"));  // no unit is guessed
}

TEST_CASE("parse_positive_duration takes a positive duration only") {
  CHECK(parse_positive_duration("90d")->us == 90 * kDay);
  CHECK(error_of(parse_positive_duration("0s")) ==
        "'0s' is out of range: it must be positive, like 7d");
  CHECK(error_of(parse_positive_duration("all")).starts_with("bad duration 'all'"));
  CHECK(error_of(parse_positive_duration("soon")).starts_with("bad duration 'soon'"));
}

TEST_CASE("parse_fraction reads 5% and 0.05 alike, from 0 to 1") {
  CHECK(*parse_fraction("5%") == doctest::Approx(0.05));
  CHECK(*parse_fraction("0.05") == doctest::Approx(0.05));
  CHECK(*parse_fraction("0") == 0);
  CHECK(*parse_fraction("100%") == 1);
  CHECK(*parse_fraction("1") == 1);
  for (const char* bad : {"7", "1.5", "150%", "101%", "-1%", "-0.1", "inf", "nan", "nan%", "%", "",
                          "5%%", "five", "1e999"}) {
    CAPTURE(bad);
    CHECK(error_of(parse_fraction(bad)) == "'" + std::string(bad) +
                                               "' is not a fraction: write it as 5% or 0.05, "
                                               "from 0 to 100%");
  }
}

TEST_CASE("parse_multiplier takes a finite number above 0 and at most 1000") {
  CHECK(*parse_multiplier("2") == 2);
  CHECK(*parse_multiplier("1.5") == 1.5);
  CHECK(*parse_multiplier("1000") == 1000);
  for (const char* bad : {"inf", "-inf", "nan", "0", "-1", "1e999", "1000.5", "x", "", "2x"}) {
    CAPTURE(bad);
    CHECK(error_of(parse_multiplier(bad)) ==
          "'" + std::string(bad) +
              "' is not a multiplier: a finite number above 0 and at most 1000, like 2 or 1.5");
  }
}

TEST_CASE("parse_count takes a whole number from its minimum up") {
  CHECK(*parse_count("20", 1) == 20);
  CHECK(*parse_count("0", 0) == 0);
  CHECK(*parse_count("+3", 1) == 3);
  CHECK(error_of(parse_count("+-3", 1)) == "'+-3' must be a whole number above 0");
  CHECK(error_of(parse_count("++3", 1)) == "'++3' must be a whole number above 0");
  CHECK(error_of(parse_count("+-0", 0)) == "'+-0' must be a whole number from 0 up");
  CHECK(error_of(parse_count("0", 1)) == "'0' must be a whole number above 0");
  CHECK(error_of(parse_count("-3", 1)) == "'-3' must be a whole number above 0");
  CHECK(error_of(parse_count("-1", 0)) == "'-1' must be a whole number from 0 up");
  CHECK(error_of(parse_count("x", 1)) == "'x' must be a whole number above 0");
  CHECK(error_of(parse_count("1.5", 1)) == "'1.5' must be a whole number above 0");
  CHECK(error_of(parse_count("", 1)) == "'' must be a whole number above 0");
  CHECK(error_of(parse_count("99999999999", 1)) ==
        "'99999999999' must be a whole number above 0, at most 2147483647");
}

TEST_CASE("one_of lists names as a sentence does") {
  CHECK(one_of({"day"}) == "day");
  CHECK(one_of({"day", "hour"}) == "day or hour");
  CHECK(one_of({"all", "repo", "branch"}) == "all, repo or branch");
}

TEST_CASE("a typed option sets its value, and keeps the default when not given") {
  CLI::App app;
  Since since = Since::parse("24h").value();
  int limit = 20;
  double change = 0.05;
  add_typed_option(app, "--since", since, perfguard::since(), "")->capture_default_str();
  add_typed_option(app, "--limit", limit, count(1), "")->capture_default_str();
  auto* change_option =
      add_typed_option(app, "--min-change", change, fraction(), "")->capture_default_str();
  CHECK(change_option->get_default_str() == "5%");
  CHECK(app.get_option("--since")->get_default_str() == "24h");

  CHECK(parse_error(app, {}) == "");
  CHECK(since.text() == "24h");
  CHECK(limit == 20);

  CHECK(parse_error(app, {"--since", "all", "--limit", "3", "--min-change", "10%"}) == "");
  CHECK(since.is_all());
  CHECK(limit == 3);
  CHECK(change == doctest::Approx(0.1));
}

TEST_CASE("a typed option's bad value fails the parse, naming the option") {
  auto error = [](std::vector<std::string> args) {
    CLI::App app;
    Since since;
    Duration age;
    int limit = 20;
    double factor = 2;
    BaselineScope scope = BaselineScope::all;
    add_typed_option(app, "--since", since, perfguard::since(), "");
    add_typed_option(app, "--older-than", age, positive_duration(), "");
    add_typed_option(app, "--limit", limit, count(1), "");
    add_typed_option(app, "--multiplier", factor, multiplier(), "");
    add_typed_option(app, "--scope", scope,
                     choice("a scope", {"all", "repo", "branch"}, parse_baseline_scope, to_string),
                     "");
    return parse_error(app, std::move(args));
  };
  CHECK(error({"--since", "0s"}) ==
        "--since: '0s' is not a window: it must be positive (like 7d), or all for every run");
  CHECK(error({"--since", "-1d"}).starts_with("--since: bad duration '-1d'"));
  CHECK(error({"--older-than", "all"}).starts_with("--older-than: bad duration 'all'"));
  CHECK(error({"--limit", "-3"}) == "--limit: '-3' must be a whole number above 0");
  CHECK(error({"--multiplier", "nan"}).starts_with("--multiplier: 'nan' is not a multiplier"));
  CHECK(error({"--scope", "team"}) == "--scope: 'team' is not a scope: all, repo or branch");
  CHECK(error({"--scope=repo"}) == "");
}
