#include "notify/message.h"

#include <array>
#include <cstdio>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/sha1.h"
#include "core/text_encoding.h"
#include "output/json.h"

namespace perfguard {

namespace {

constexpr std::array<const char*, 4> kEvents = {"opened", "escalated", "resolved", "test"};

// The last part of the work tree's path: what people call the repository.
std::string repo_name(std::string_view repo) {
  while (repo.size() > 1 && repo.back() == '/') repo.remove_suffix(1);
  const auto slash = repo.rfind('/');
  if (slash != std::string_view::npos && slash + 1 < repo.size()) repo = repo.substr(slash + 1);
  return std::string(repo);
}

// RFC 3339 UTC as the other machine formats write times (format_timestamp), to the second:
// for people.
std::string timestamp_seconds(std::int64_t unix_us) {
  std::string t = format_timestamp(unix_us);
  if (const auto dot = t.find('.'); dot != std::string::npos) t = t.substr(0, dot) + "Z";
  return t;
}

void optional_number(JsonWriter& out, const std::optional<double>& v) {
  if (v) {
    out.value(*v);
  } else {
    out.null();
  }
}

void write_alert(JsonWriter& out, const Alert& alert) {
  out.begin_object();
  out.key("id").value(alert.id);
  out.key("rule").value(to_string(alert.key.rule));
  out.key("severity").value(to_string(alert.severity));
  out.key("state").value(to_string(alert.state));
  out.key("step").value(alert.key.step);
  out.key("repo").value(alert.key.repo);
  out.key("branch").value(alert.key.branch);
  out.key("summary").value(alert.summary);
  out.key("value");
  optional_number(out, alert.value);
  out.key("limit");
  optional_number(out, alert.limit);
  out.key("first_seen").value(format_timestamp(alert.first_seen_us));
  out.key("last_seen").value(format_timestamp(alert.last_seen_us));
  out.key("count").value(alert.count);
  out.key("host").value(alert.host);
  out.end_object();
}

// The characters `text` takes once written as a JSON string value's contents decode.
std::size_t written_chars(std::string_view text) {
  const std::string encoded = needs_text_encoding(text) ? encode_text(text) : std::string(text);
  std::size_t chars = 0;
  for (char c : encoded) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return chars;
}

std::string slack_escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

const char* slack_emoji(NotifyEvent event, Severity severity) {
  switch (event) {
    case NotifyEvent::resolved:
      return ":white_check_mark:";
    case NotifyEvent::test:
      return ":test_tube:";
    case NotifyEvent::opened:
    case NotifyEvent::escalated:
      break;
  }
  switch (severity) {
    case Severity::critical:
      return ":rotating_light:";
    case Severity::warning:
      return ":warning:";
    case Severity::info:
      break;
  }
  return ":information_source:";
}

// A dedup key's readable parts keep to letters, digits, `.`, `_` and `-`, and are short.
std::string key_part(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    out.push_back(plain ? c : '_');
  }
  return out.empty() ? "-" : out;
}

std::string summary_or_default(const Alert& alert) {
  if (!alert.summary.empty()) return alert.summary;
  return alert.key.step + ": " + to_string(alert.key.rule) + " alert";
}

std::string headline(NotifyEvent event, const Alert& alert, std::string_view summary) {
  std::string out;
  switch (event) {
    case NotifyEvent::opened:
      out = to_string(alert.severity);
      break;
    case NotifyEvent::escalated:
      out = std::string("escalated to ") + to_string(alert.severity);
      break;
    case NotifyEvent::resolved:
      out = "resolved";
      break;
    case NotifyEvent::test:
      out = "test";
      break;
  }
  out += " \u2014 ";
  out += summary;
  out += " (" + repo_name(alert.key.repo);
  if (!alert.key.branch.empty()) out += ", " + alert.key.branch;
  out += ")";
  return out;
}

}  // namespace

const char* to_string(NotifyEvent event) {
  return kEvents[static_cast<std::size_t>(event)];
}

std::optional<NotifyEvent> parse_notify_event(std::string_view text) {
  for (std::size_t i = 0; i < kEvents.size(); ++i) {
    if (text == kEvents[i]) return static_cast<NotifyEvent>(i);
  }
  return std::nullopt;
}

bool webhook_wants(const Webhook& webhook, NotifyEvent event, Severity severity) {
  return event == NotifyEvent::test || severity >= webhook.min_severity;
}

Alert test_alert(std::string repo, std::string branch, std::string host, std::int64_t now_us) {
  Alert alert;
  alert.id = 0;
  alert.key.rule = AlertRuleKind::threshold;
  alert.key.step = "test";
  alert.key.repo = std::move(repo);
  alert.key.branch = std::move(branch);
  alert.severity = Severity::info;
  alert.state = AlertState::open;
  alert.summary = "a test message from perfguard: notifications reach this channel";
  alert.first_seen_us = now_us;
  alert.last_seen_us = now_us;
  alert.count = 1;
  alert.host = std::move(host);
  return alert;
}

std::string fit_text(std::string_view text, std::size_t max_chars) {
  if (written_chars(text) <= max_chars) return std::string(text);
  if (max_chars == 0) return {};
  // Where a cut may go: after each UTF-8 sequence, or after each byte that is not part of
  // one. A prefix longer than 4 bytes a character cannot fit, so the search stops there.
  std::vector<std::size_t> cuts = {0};
  for (std::size_t i = 0; i < text.size() && i <= 4 * max_chars;) {
    const std::size_t n = utf8_sequence_length(text, i);
    i += n == 0 ? 1 : n;
    cuts.push_back(i);
  }
  // Longer prefixes never take fewer characters: the longest that fits is found by halves.
  auto fits = [&](std::size_t cut) {
    return written_chars(std::string(text.substr(0, cut)) + "\u2026") <= max_chars;
  };
  std::size_t lo = 0, hi = cuts.size() - 1;  // cuts[lo] fits (or is 0)
  while (lo < hi) {
    const std::size_t mid = (lo + hi + 1) / 2;
    if (fits(cuts[mid])) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return std::string(text.substr(0, cuts[lo])) + "\u2026";
}

std::string notification_headline(NotifyEvent event, const Alert& alert) {
  return headline(event, alert, summary_or_default(alert));
}

std::string alert_document(NotifyEvent event, const Alert& alert, std::int64_t sent_us) {
  JsonWriter out;
  out.begin_object();
  out.key("type").value("perfguard.alert");
  out.key("event").value(to_string(event));
  out.key("alert");
  write_alert(out, alert);
  out.key("sent_at").value(format_timestamp(sent_us));
  out.end_object();
  return out.take();
}

std::string slack_message(NotifyEvent event, const Alert& alert) {
  const std::string summary = fit_text(summary_or_default(alert), 1000);
  std::string details = std::string(to_string(alert.key.rule)) + " alert";
  if (alert.id != 0) details += " #" + std::to_string(alert.id);
  if (!alert.key.step.empty()) details += " on " + alert.key.step;
  details += " \u00b7 seen " + std::to_string(alert.count) +
             (alert.count == 1 ? " time" : " times") + " since " +
             timestamp_seconds(alert.first_seen_us);
  if (!alert.host.empty()) details += " \u00b7 " + alert.host;
  if (!alert.key.repo.empty()) details += " \u00b7 " + alert.key.repo;

  std::string text = slack_emoji(event, alert.severity);
  text += ' ';
  text += slack_escaped(headline(event, alert, summary));
  text += '\n';
  text += slack_escaped(details);

  JsonWriter out;
  out.begin_object();
  out.key("text").value(text);
  out.end_object();
  return out.take();
}

std::string pagerduty_dedup_key(const Alert& alert) {
  Sha1 sha;
  const std::string id = std::to_string(alert.id);
  const std::string first_seen = std::to_string(alert.first_seen_us);
  for (std::string_view part :
       {std::string_view(alert.host), std::string_view(alert.key.repo),
        std::string_view(alert.key.branch), std::string_view(to_string(alert.key.rule)),
        std::string_view(alert.key.step), std::string_view(id), std::string_view(first_seen)}) {
    sha.update(part);
    sha.update(std::string_view("\0", 1));  // "a","bc" and "ab","c" differ
  }
  const auto digest = sha.finish();
  std::string key =
      "perfguard/" + key_part(to_string(alert.key.rule)) + "/" + key_part(alert.key.step) + "/";
  char hex[3];
  for (std::size_t i = 0; i < 12; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", digest[i]);
    key += hex;
  }
  return key;
}

std::string pagerduty_event(NotifyEvent event, const Alert& alert, std::string_view routing_key) {
  JsonWriter out;
  out.begin_object();
  out.key("routing_key").value(routing_key);
  out.key("event_action").value(event == NotifyEvent::resolved ? "resolve" : "trigger");
  out.key("dedup_key").value(pagerduty_dedup_key(alert));
  if (event != NotifyEvent::resolved) {
    // PagerDuty reads the payload of a trigger only; a resolve needs the key alone.
    out.key("payload").begin_object();
    out.key("summary").value(fit_text(notification_headline(event, alert), 1024));
    out.key("source").value(alert.host.empty() ? std::string("perfguard") : alert.host);
    out.key("severity").value(to_string(alert.severity));
    out.key("timestamp").value(format_timestamp(alert.last_seen_us));
    if (!alert.key.step.empty()) out.key("component").value(alert.key.step);
    if (!alert.key.repo.empty()) out.key("group").value(repo_name(alert.key.repo));
    out.key("class").value(to_string(alert.key.rule));
    out.key("custom_details").begin_object();
    out.key("event").value(to_string(event));
    out.key("alert");
    write_alert(out, alert);
    out.end_object();
    out.end_object();
  }
  out.key("client").value("perfguard");
  out.end_object();
  return out.take();
}

std::string webhook_body(const Webhook& webhook, NotifyEvent event, const Alert& alert,
                         std::int64_t sent_us) {
  switch (webhook.format) {
    case WebhookFormat::slack:
      return slack_message(event, alert);
    case WebhookFormat::pagerduty:
      return pagerduty_event(event, alert, webhook.routing_key);
    case WebhookFormat::json:
      break;
  }
  return alert_document(event, alert, sent_us);
}

}  // namespace perfguard
