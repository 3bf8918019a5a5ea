#include "alerts/report.h"

#include "core/clock.h"
#include "core/sha1.h"
#include "core/text_encoding.h"
#include "output/json.h"

namespace perfguard {

namespace {

Cell optional_real(const std::optional<double>& v) {
  return v ? Cell(*v) : Cell();
}
Cell optional_time(const std::optional<std::int64_t>& us) {
  return us ? Cell(format_timestamp(*us)) : Cell();
}

// Every string in these reports is text: the stored bytes encoded as every machine format
// writes them (core/text_encoding.h), so a path, branch or step that is not UTF-8 reads the
// same here as in `perf-alerts list --json`. Each part that came from bytes is encoded on its
// own, as the json columns are; the helpers below take text and only escape it.

// Text for an XML attribute value or element content. The five special characters become
// entities; tab, line feed and carriage return become character references, which a parser
// gives back as they were (written as they are, an attribute's read as spaces and a carriage
// return as a line feed); what XML 1.0 cannot hold at all, the other C0 controls and the
// noncharacters U+FFFE and U+FFFF, becomes U+FFFD, the replacement character.
std::string xml_escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '"') {
      out += "&quot;";
    } else if (c == '\'') {
      out += "&apos;";
    } else if (c == '\t') {
      out += "&#9;";
    } else if (c == '\n') {
      out += "&#10;";
    } else if (c == '\r') {
      out += "&#13;";
    } else if (u < 0x20) {
      out += "\xEF\xBF\xBD";
    } else if (text.substr(i, 3) == "\xEF\xBF\xBE" || text.substr(i, 3) == "\xEF\xBF\xBF") {
      out += "\xEF\xBF\xBD";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// GitHub's escaping of a workflow command's message, and of a property's value: the rules
// of GitHub's runner and toolkit (`%25`, `%0D`, `%0A`; in a property also `%3A`, `%2C`), so no
// text can end a command early or start another.
std::string github_data(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out += c;
    }
  }
  return out;
}
std::string github_property(std::string_view text) {
  std::string out;
  for (char c : github_data(text)) {
    if (c == ':') {
      out += "%3A";
    } else if (c == ',') {
      out += "%2C";
    } else {
      out += c;
    }
  }
  return out;
}

// `threshold on commit (main)`: what an alert is about, for titles and test names, as text.
std::string subject(const Alert& a) {
  std::string out = std::string(to_string(a.key.rule)) + " on " + encode_text(a.key.step);
  if (!a.key.branch.empty()) out += " (" + encode_text(a.key.branch) + ")";
  return out;
}

std::string hex_digest(std::string_view text) {
  Sha1 sha;
  sha.update(text);
  auto d = sha.finish();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (auto b : d) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace

AlertState state_at(const Alert& a, std::int64_t now_us) {
  if (a.state == AlertState::snoozed && a.is_active(now_us)) return AlertState::open;
  return a.state;
}

Table alert_table(const std::vector<Alert>& alerts, std::int64_t now_us) {
  Table t;
  t.columns = {"id",          "severity",  "state",   "rule",          "step",
               "repo",        "branch",    "summary", "value",         "limit",
               "first_seen",  "last_seen", "count",   "snoozed_until", "acknowledged_by",
               "resolved_at", "host"};
  for (const Alert& a : alerts) {
    t.rows.push_back({a.id, to_string(a.severity), to_string(state_at(a, now_us)),
                      to_string(a.key.rule), a.key.step, a.key.repo, a.key.branch, a.summary,
                      optional_real(a.value), optional_real(a.limit),
                      format_timestamp(a.first_seen_us), format_timestamp(a.last_seen_us), a.count,
                      optional_time(a.snoozed_until_us),
                      a.acknowledged_by.empty() ? Cell() : Cell(a.acknowledged_by),
                      optional_time(a.resolved_us), a.host});
  }
  return t;
}

std::string junit_report(const GateResult& gate, std::int64_t now_us) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  std::size_t failures = gate.paused ? 0 : gate.blocking.size();
  std::size_t tests = failures == 0 ? 1 : failures;
  out += "<testsuites name=\"perfguard\" tests=\"" + std::to_string(tests) + "\" failures=\"" +
         std::to_string(failures) + "\">\n";
  out += "  <testsuite name=\"perfguard alerts\" tests=\"" + std::to_string(tests) +
         "\" failures=\"" + std::to_string(failures) +
         "\" errors=\"0\" skipped=\"0\" timestamp=\"" + format_timestamp(now_us).substr(0, 19) +
         "\">\n";
  if (failures == 0) {
    std::string name = gate.paused
                           ? "paused: monitoring is off for an emergency"
                           : std::string("no open alert at or above ") + to_string(gate.fail_on);
    out += "    <testcase classname=\"perfguard\" name=\"" + xml_escaped(name) + "\"/>\n";
  }
  for (const Alert& a : gate.paused ? std::vector<Alert>{} : gate.blocking) {
    out += "    <testcase classname=\"perfguard." + xml_escaped(to_string(a.key.rule)) +
           "\" name=\"#" + std::to_string(a.id) + " " + xml_escaped(subject(a)) + "\">\n";
    const std::string summary = xml_escaped(encode_text(a.summary));
    out += "      <failure type=\"" + std::string(to_string(a.severity)) + "\" message=\"" +
           summary + "\">" + summary + "\nrepository: " + xml_escaped(encode_text(a.key.repo)) +
           "\nfirst seen: " + format_timestamp(a.first_seen_us) +
           "\nlast seen: " + format_timestamp(a.last_seen_us) +
           "\ncount: " + std::to_string(a.count) + "</failure>\n";
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

std::string github_report(const GateResult& gate) {
  std::string out;
  if (gate.paused) return "::notice title=perfguard::paused: monitoring is off for an emergency\n";
  for (const Alert& a : gate.blocking) {
    const char* command = a.severity == Severity::critical  ? "error"
                          : a.severity == Severity::warning ? "warning"
                                                            : "notice";
    out += "::" + std::string(command) + " title=" +
           github_property("perfguard #" + std::to_string(a.id) + " " + to_string(a.severity) +
                           ": " + subject(a)) +
           "::" + github_data(encode_text(a.summary)) + "\n";
  }
  return out;
}

std::string gitlab_report(const GateResult& gate) {
  JsonWriter w;
  w.begin_array();
  if (!gate.paused) {
    for (const Alert& a : gate.blocking) {
      const char* severity = a.severity == Severity::critical  ? "critical"
                             : a.severity == Severity::warning ? "major"
                                                               : "info";
      w.begin_object()
          .key("description")
          .value("#" + std::to_string(a.id) + " " + a.summary)
          .key("check_name")
          .value("perfguard." + std::string(to_string(a.key.rule)))
          .key("fingerprint")
          .value(hex_digest(std::to_string(a.id) + "\n" + a.key.repo))
          .key("severity")
          .value(severity)
          .key("location")
          .begin_object()
          .key("path")
          .value(".perfguard.toml")
          .key("lines")
          .begin_object()
          .key("begin")
          .value(1)
          .end_object()
          .end_object()
          .end_object();
    }
  }
  w.end_array();
  return w.take() + "\n";
}

}  // namespace perfguard
