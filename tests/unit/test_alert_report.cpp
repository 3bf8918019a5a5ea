// The alert reports check writes for CI (alerts/report.h).
#include <doctest/doctest.h>

#include <algorithm>

#include "alerts/report.h"

using namespace perfguard;

namespace {

Alert alert(std::int64_t id, Severity severity, std::string summary) {
  Alert a;
  a.id = id;
  a.key = AlertKey{AlertRuleKind::threshold, "commit", "/r", "main"};
  a.severity = severity;
  a.summary = std::move(summary);
  a.first_seen_us = a.last_seen_us = 1'800'000'000'000'000;
  return a;
}

}  // namespace

TEST_CASE("github lines escape what GitHub's workflow commands require") {
  GateResult gate;
  gate.blocking = {alert(3, Severity::critical, "100% slower\nsee: a, b"),
                   alert(4, Severity::warning, "w"), alert(5, Severity::info, "i")};
  gate.blocking[0].key.branch = "x,y:z";
  std::string out = github_report(gate);
  CHECK(out ==
        "::error title=perfguard #3 critical%3A threshold on commit (x%2Cy%3Az)::100%25 "
        "slower%0Asee: a, b\n"
        "::warning title=perfguard #4 warning%3A threshold on commit (main)::w\n"
        "::notice title=perfguard #5 info%3A threshold on commit (main)::i\n");
  gate.paused = true;
  CHECK(github_report(gate).rfind("::notice title=perfguard::paused", 0) == 0);
}

TEST_CASE("junit escapes XML and counts one failure per blocking alert") {
  GateResult gate;
  gate.blocking = {alert(1, Severity::critical, "a <b> & \"c\"\x01")};
  std::string out = junit_report(gate, 1'800'000'000'000'000);
  CHECK(out.find("failures=\"1\"") != std::string::npos);
  CHECK(out.find("message=\"a &lt;b&gt; &amp; &quot;c&quot;") != std::string::npos);
  // No character XML 1.0 refuses.
  CHECK(std::none_of(out.begin(), out.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r';
  }));
  gate.blocking.clear();
  out = junit_report(gate, 1'800'000'000'000'000);
  CHECK(out.find("failures=\"0\"") != std::string::npos);
  CHECK(out.find("name=\"no open alert at or above critical\"") != std::string::npos);
}

TEST_CASE("junit and github write bytes that are not UTF-8 as the text every format writes") {
  GateResult gate;
  gate.blocking = {alert(1, Severity::critical, "caf\xE9 at 100%")};
  gate.blocking[0].key.branch = "b\xFF";
  std::string out = github_report(gate);
  CHECK(out ==
        "::error title=perfguard #1 critical%3A threshold on commit (b%25FF)::caf%25E9 at "
        "100%2525\n");
  out = junit_report(gate, 1'800'000'000'000'000);
  CHECK(out.find("name=\"#1 threshold on commit (b%FF)\"") != std::string::npos);
  CHECK(out.find("message=\"caf%E9 at 100%25\"") != std::string::npos);
}

TEST_CASE("junit keeps line breaks and tabs as references and replaces what XML cannot hold") {
  GateResult gate;
  gate.blocking = {alert(1, Severity::critical,
                         "a\nb\rc\td\x01"
                         "e\xEF\xBF\xBF"
                         "f\xEF\xBF\xBE"
                         "g")};
  std::string out = junit_report(gate, 1'800'000'000'000'000);
  CHECK(out.find("message=\"a&#10;b&#13;c&#9;d\xEF\xBF\xBD"
                 "e\xEF\xBF\xBD"
                 "f\xEF\xBF\xBDg\"") != std::string::npos);
}

TEST_CASE("a snooze that ran out reads as open") {
  Alert a = alert(1, Severity::warning, "s");
  a.state = AlertState::snoozed;
  a.snoozed_until_us = 100;
  CHECK(state_at(a, 99) == AlertState::snoozed);
  CHECK(state_at(a, 100) == AlertState::open);
  Table t = alert_table({a}, 100);
  CHECK(t.columns.size() == t.rows[0].size());
}
