#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_reader.h"
#include "notify/channel.h"
#include "notify/message.h"

using namespace perfguard;

namespace {

// Where a Slack webhook keeps its credential: in the path and the query. No message may
// show any of it.
constexpr const char* kSecretPath = "/services/T0001/B0002/s3cr3tT0k3n?token=hunter2";
const std::vector<std::string> kSecrets = {"services", "T0001", "s3cr3tT0k3n", "token", "hunter2"};

void check_no_secret(const std::string& message) {
  for (const auto& secret : kSecrets) {
    CHECK_MESSAGE(message.find(secret) == std::string::npos,
                  "'" << secret << "' shown in: " << message);
  }
}

Alert sample_alert() {
  Alert a;
  a.id = 42;
  a.key = {AlertRuleKind::threshold, "commit", "/home/dev/src/app", "main"};
  a.severity = Severity::critical;
  a.state = AlertState::open;
  a.summary = "commit took 1.42s, over its 1s threshold";
  a.value = 1.42;
  a.limit = 1.0;
  a.first_seen_us = 1796034497123456;  // 2026-11-30T10:28:17.123456Z
  a.last_seen_us = 1796038097000001;   // 2026-11-30T11:28:17.000001Z
  a.count = 3;
  a.host = "build-7";
  return a;
}

// The number of characters (code points) of UTF-8 text.
std::size_t chars(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// A JSON text parsed, kept with its text (a JsonValue's strings are views into it).
class Parsed {
 public:
  explicit Parsed(std::string text) : text_(std::move(text)) {
    const auto error = doc_.parse(text_);
    REQUIRE_MESSAGE(!error, (error ? to_string(*error) : "") << ": " << text_);
  }
  Parsed(const Parsed&) = delete;
  Parsed& operator=(const Parsed&) = delete;
  JsonValue root() const { return doc_.root(); }
  JsonValue operator[](std::string_view key) const { return root()[key]; }

 private:
  std::string text_;
  JsonDocument doc_;
};

Webhook webhook_to(const std::string& url, WebhookFormat format = WebhookFormat::json) {
  Webhook w;
  w.url = url;
  w.format = format;
  if (format == WebhookFormat::pagerduty) w.routing_key = "R0UT1NGK3Y0000000000000000000000";
  return w;
}

}  // namespace

// --- names and channels ------------------------------------------------------------------

TEST_CASE("notify: formats and events read back from their names") {
  for (auto f : {WebhookFormat::json, WebhookFormat::slack, WebhookFormat::pagerduty}) {
    CHECK(parse_webhook_format(to_string(f)) == f);
  }
  CHECK(std::string(to_string(WebhookFormat::pagerduty)) == "pagerduty");
  CHECK_FALSE(parse_webhook_format("Slack"));
  CHECK_FALSE(parse_webhook_format(""));
  for (auto e :
       {NotifyEvent::opened, NotifyEvent::escalated, NotifyEvent::resolved, NotifyEvent::test}) {
    CHECK(parse_notify_event(to_string(e)) == e);
  }
  CHECK(std::string(to_string(NotifyEvent::escalated)) == "escalated");
  CHECK_FALSE(parse_notify_event("closed"));
}

TEST_CASE("notify: a webhook's defaults are json, warning and above, 10 s") {
  const Webhook w;
  CHECK(w.format == WebhookFormat::json);
  CHECK(w.min_severity == Severity::warning);
  CHECK(w.timeout == Duration::seconds(10));
  CHECK(w.routing_key.empty());
}

TEST_CASE("notify: a URL is shown as scheme://host[:port] only") {
  CHECK(redact_url("https://hooks.slack.com/services/T0/B0/XXXX") == "https://hooks.slack.com");
  CHECK(redact_url("HTTPS://user:pass@Hooks.Example.COM:8443/p?q=1#f") ==
        "https://hooks.example.com:8443");
  CHECK(redact_url("http://[::1]:8080/x") == "http://[::1]:8080");
  CHECK(redact_url("http://example.com?token=1") == "http://example.com");
  CHECK(redact_url("http://a@b@example.com/x") == "http://example.com");
  CHECK(redact_url("hooks.slack.com/services/T0/B0/XXXX") == "(an invalid URL)");
  CHECK(redact_url("https:///path") == "(an invalid URL)");
  CHECK(redact_url("https://host:99999/") == "(an invalid URL)");
}

TEST_CASE("notify: a webhook that cannot be used is refused without showing its secrets") {
  const std::string secret_path = kSecretPath;
  auto refused = [&](const Webhook& w) {
    const Status checked = check_webhook(w);
    REQUIRE_FALSE(checked.ok());
    CHECK(checked.error().code == ExitCode::usage);
    check_no_secret(checked.error().message);
    CHECK(checked.error().message.find("R0UT1NG") == std::string::npos);
    return checked.error().message;
  };
  CHECK(refused(webhook_to("ftp://example.com" + secret_path)).find("http") != std::string::npos);
  refused(webhook_to("example.com" + secret_path));
  refused(webhook_to("https://" + secret_path));
  CHECK(refused(webhook_to("https://example.com/a b" + secret_path)).find("example.com") !=
        std::string::npos);
  Webhook no_key = webhook_to("https://events.pagerduty.com/v2/enqueue", WebhookFormat::pagerduty);
  no_key.routing_key.clear();
  CHECK(refused(no_key).find("routing_key") != std::string::npos);
  Webhook no_time = webhook_to("https://example.com" + secret_path);
  no_time.timeout = Duration{};
  CHECK(refused(no_time).find("timeout") != std::string::npos);

  CHECK(check_webhook(webhook_to("https://example.com" + secret_path)).ok());
  CHECK(check_webhook(webhook_to("http://127.0.0.1:8080/", WebhookFormat::pagerduty)).ok());
}

TEST_CASE("notify: channel keys are stable, one per URL and routing key, and hold no secret") {
  CHECK(kNotifyCommandChannel == "notify");
  const Webhook slack =
      webhook_to("https://hooks.slack.com" + std::string(kSecretPath), WebhookFormat::slack);
  const std::string key = channel_key(slack);
  CHECK(key == channel_key(slack));
  CHECK(key.rfind("webhook:slack:", 0) == 0);
  CHECK(key.size() == std::string("webhook:slack:").size() + 16);
  check_no_secret(key);
  CHECK(key.find("slack.com") == std::string::npos);

  Webhook other = slack;
  other.url += "x";
  CHECK(channel_key(other) != key);
  Webhook slower = slack;  // what is not where it goes does not make another channel
  slower.timeout = Duration::seconds(30);
  slower.min_severity = Severity::critical;
  CHECK(channel_key(slower) == key);

  Webhook pd1 = webhook_to("https://events.pagerduty.com/v2/enqueue", WebhookFormat::pagerduty);
  Webhook pd2 = pd1;
  pd2.routing_key = "another service's key";
  CHECK(channel_key(pd1) != channel_key(pd2));
  CHECK(channel_key(pd1).find(pd1.routing_key) == std::string::npos);
  CHECK(channel_key(pd1).rfind("webhook:pagerduty:", 0) == 0);
}

TEST_CASE("notify: webhooks take events at or above their minimum severity, and every test") {
  Webhook w;
  w.min_severity = Severity::warning;
  CHECK(webhook_wants(w, NotifyEvent::opened, Severity::warning));
  CHECK(webhook_wants(w, NotifyEvent::escalated, Severity::critical));
  CHECK(webhook_wants(w, NotifyEvent::resolved, Severity::critical));
  CHECK_FALSE(webhook_wants(w, NotifyEvent::opened, Severity::info));
  CHECK_FALSE(webhook_wants(w, NotifyEvent::resolved, Severity::info));
  CHECK(webhook_wants(w, NotifyEvent::test, Severity::info));
  w.min_severity = Severity::critical;
  CHECK_FALSE(webhook_wants(w, NotifyEvent::escalated, Severity::warning));
  CHECK(webhook_wants(w, NotifyEvent::escalated, Severity::critical));
}

// --- messages ----------------------------------------------------------------------------

TEST_CASE("notify: the json document carries every field of the alert, times in RFC 3339 UTC") {
  const std::string text = alert_document(NotifyEvent::escalated, sample_alert(), 1796038200000000);
  JsonDocument doc;
  REQUIRE_FALSE(doc.parse(text));
  const JsonValue root = doc.root();
  CHECK(root.size() == 4);
  CHECK(root["type"].as_string() == "perfguard.alert");
  CHECK(root["event"].as_string() == "escalated");
  CHECK(root["sent_at"].as_string() == "2026-11-30T11:30:00.000000Z");
  const JsonValue a = root["alert"];
  CHECK(a.size() == 14);
  CHECK(a["id"].as_int64() == 42);
  CHECK(a["rule"].as_string() == "threshold");
  CHECK(a["severity"].as_string() == "critical");
  CHECK(a["state"].as_string() == "open");
  CHECK(a["step"].as_string() == "commit");
  CHECK(a["repo"].as_string() == "/home/dev/src/app");
  CHECK(a["branch"].as_string() == "main");
  CHECK(a["summary"].as_string() == "commit took 1.42s, over its 1s threshold");
  CHECK(a["value"].as_double() == 1.42);
  CHECK(a["limit"].as_double() == 1.0);
  CHECK(a["first_seen"].as_string() == "2026-11-30T10:28:17.123456Z");
  CHECK(a["last_seen"].as_string() == "2026-11-30T11:28:17.000001Z");
  CHECK(a["count"].as_int64() == 3);
  CHECK(a["host"].as_string() == "build-7");

  Alert bare = sample_alert();
  bare.value.reset();
  bare.limit.reset();
  bare.key.branch.clear();
  bare.state = AlertState::resolved;
  JsonDocument doc2;
  const std::string text2 = alert_document(NotifyEvent::resolved, bare, 0);
  REQUIRE_FALSE(doc2.parse(text2));
  CHECK(doc2.root()["alert"]["value"].is_null());
  CHECK(doc2.root()["alert"]["limit"].is_null());
  CHECK(doc2.root()["alert"]["branch"].as_string() == "");
  CHECK(doc2.root()["alert"]["state"].as_string() == "resolved");
  CHECK(doc2.root()["event"].as_string() == "resolved");
}

TEST_CASE("notify: the headline says what happened, the summary, the repository and branch") {
  const Alert a = sample_alert();
  CHECK(notification_headline(NotifyEvent::opened, a) ==
        "critical \u2014 commit took 1.42s, over its 1s threshold (app, main)");
  CHECK(
      notification_headline(NotifyEvent::escalated, a).rfind("escalated to critical \u2014 ", 0) ==
      0);
  CHECK(notification_headline(NotifyEvent::resolved, a).rfind("resolved \u2014 ", 0) == 0);
  Alert detached = a;
  detached.key.branch.clear();
  detached.key.repo = "/srv/repos/api/";
  CHECK(notification_headline(NotifyEvent::opened, detached) ==
        "critical \u2014 commit took 1.42s, over its 1s threshold (api)");
}

TEST_CASE("notify: a slack message is a headline with &, < and > escaped") {
  Alert a = sample_alert();
  a.summary = "commit took 3s > 1s on <main> & <!channel>";
  JsonDocument doc;
  const std::string body = slack_message(NotifyEvent::opened, a);
  REQUIRE_FALSE(doc.parse(body));
  const std::string text(doc.root()["text"].as_string());
  CHECK(text.rfind(":rotating_light: critical \u2014 commit took 3s &gt; 1s on &lt;main&gt; "
                   "&amp; &lt;!channel&gt; (app, main)\n",
                   0) == 0);
  CHECK(text.find('<') == std::string::npos);
  CHECK(text.find('>') == std::string::npos);
  CHECK(text.find("#42") != std::string::npos);
  CHECK(text.find("seen 3 times since 2026-11-30T10:28:17Z") != std::string::npos);

  a.severity = Severity::warning;
  CHECK(slack_message(NotifyEvent::opened, a).find(":warning: warning") != std::string::npos);
  CHECK(slack_message(NotifyEvent::resolved, a).find(":white_check_mark: resolved") !=
        std::string::npos);
}

TEST_CASE("notify: pagerduty events trigger, resolve, and keep one dedup key per alert") {
  const Alert a = sample_alert();
  const Parsed parsed(pagerduty_event(NotifyEvent::opened, a, "KEY"));
  const JsonValue e = parsed.root();
  CHECK(e["routing_key"].as_string() == "KEY");
  CHECK(e["event_action"].as_string() == "trigger");
  CHECK(e["dedup_key"].as_string() == pagerduty_dedup_key(a));
  const JsonValue p = e["payload"];
  CHECK(p["summary"].as_string() == notification_headline(NotifyEvent::opened, a));
  CHECK(p["source"].as_string() == "build-7");
  CHECK(p["severity"].as_string() == "critical");
  CHECK(p["timestamp"].as_string() == "2026-11-30T11:28:17.000001Z");
  CHECK(p["component"].as_string() == "commit");
  CHECK(p["group"].as_string() == "app");
  CHECK(p["class"].as_string() == "threshold");
  CHECK(p["custom_details"]["event"].as_string() == "opened");
  CHECK(p["custom_details"]["alert"]["id"].as_int64() == 42);

  for (auto [severity, name] :
       {std::pair{Severity::info, "info"}, std::pair{Severity::warning, "warning"},
        std::pair{Severity::critical, "critical"}}) {
    Alert s = a;
    s.severity = severity;
    const Parsed d(pagerduty_event(NotifyEvent::escalated, s, "KEY"));
    CHECK(d["event_action"].as_string() == "trigger");
    CHECK(d["payload"]["severity"].as_string() == name);
  }

  Alert r = a;
  r.state = AlertState::resolved;
  r.last_seen_us += 1000;
  r.count = 9;
  const Parsed resolved(pagerduty_event(NotifyEvent::resolved, r, "KEY"));
  CHECK(resolved["event_action"].as_string() == "resolve");
  CHECK(resolved["dedup_key"].as_string() == pagerduty_dedup_key(a));
  CHECK(resolved["routing_key"].as_string() == "KEY");

  // The key: the same for the alert's whole life, another for another alert.
  const std::string key = pagerduty_dedup_key(a);
  CHECK(key.rfind("perfguard/threshold/commit/", 0) == 0);
  CHECK(key.size() <= 255);
  Alert escalated = a;
  escalated.severity = Severity::warning;
  escalated.summary = "something else";
  CHECK(pagerduty_dedup_key(escalated) == key);
  std::set<std::string> keys = {key};
  Alert other = a;
  other.id = 43;
  keys.insert(pagerduty_dedup_key(other));
  other = a;
  other.host = "build-8";  // another store's alert #42
  keys.insert(pagerduty_dedup_key(other));
  other = a;
  other.key.branch = "release";
  keys.insert(pagerduty_dedup_key(other));
  other = a;
  other.first_seen_us += 1;
  keys.insert(pagerduty_dedup_key(other));
  CHECK(keys.size() == 5);

  Alert odd = a;
  odd.key.step = std::string(300, 'x') + "/ \"\n";
  const std::string odd_key = pagerduty_dedup_key(odd);
  CHECK(odd_key.size() <= 255);
  CHECK(odd_key.find_first_of(" \"\n") == std::string::npos);
}

TEST_CASE("notify: the PagerDuty summary is cut to 1,024 characters") {
  Alert a = sample_alert();
  a.summary.clear();
  for (int i = 0; i < 800; ++i) a.summary += "\u00e9\u2192";  // 2 and 3 bytes
  const Parsed event(pagerduty_event(NotifyEvent::opened, a, "KEY"));
  const std::string summary(event["payload"]["summary"].as_string());
  CHECK(chars(summary) == 1024);
  CHECK(summary.rfind("\u2026") == summary.size() - 3);

  a.summary = std::string(2000, 'a') + "\xff";  // not UTF-8: written percent-encoded
  const Parsed encoded(pagerduty_event(NotifyEvent::opened, a, "KEY"));
  CHECK(chars(encoded["payload"]["summary"].as_string()) <= 1024);
}

TEST_CASE("notify: fit_text cuts at a character boundary and marks the cut") {
  CHECK(fit_text("short", 10) == "short");
  CHECK(fit_text("exactly10!", 10) == "exactly10!");
  CHECK(fit_text("eleven chars", 10) == "eleven ch\u2026");
  CHECK(fit_text("\u00e9\u00e9\u00e9\u00e9", 3) == "\u00e9\u00e9\u2026");
  CHECK(fit_text("abc", 0) == "");
  // 100% is written as 100%25 once a string needs encoding: the cut counts that.
  const std::string encoded = fit_text("100%41 \xff\xff\xff\xff", 8);
  CHECK(encoded.rfind("\u2026") == encoded.size() - 3);
  CHECK(encoded.size() < 12);
}

TEST_CASE("notify: a test message is an alert of its own each time") {
  const Alert t1 = test_alert("/home/dev/src/app", "main", "build-7", 1796038200000000);
  const Alert t2 = test_alert("/home/dev/src/app", "main", "build-7", 1796038260000000);
  CHECK(t1.severity == Severity::info);
  CHECK(t1.key.step == "test");
  CHECK(pagerduty_dedup_key(t1) != pagerduty_dedup_key(t2));
  CHECK(notification_headline(NotifyEvent::test, t1).rfind("test \u2014 ", 0) == 0);
  const Parsed doc(webhook_body(webhook_to("http://x/"), NotifyEvent::test, t1, 0));
  CHECK(doc["event"].as_string() == "test");
  CHECK(slack_message(NotifyEvent::test, t1).find(":test_tube: test") != std::string::npos);
}
