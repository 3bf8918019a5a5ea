#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/json_reader.h"
#include "notify/channel.h"
#include "notify/deliver.h"
#include "notify/message.h"
#include "process/runner.h"
#include "support.h"

using namespace perfguard;
using perfguard::test::TempDir;

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

struct Request {
  std::string method, path, content_type, body;
};

// tests/cli/http-receiver.py on a free port of 127.0.0.1, for one test case: started by the
// runner as the code under test starts its children, stopped with SIGTERM at the end.
class Receiver {
 public:
  explicit Receiver(const std::vector<std::string>& options = {}) {
    const auto python = find_program("python3");
    REQUIRE_MESSAGE(python, "python3 is needed for the HTTP receiver");
    ChildCommand c;
    c.argv = {python->string(), PERFGUARD_TEST_SOURCE_DIR "/cli/http-receiver.py",
              (dir_ / "port").string(), log_.string()};
    c.argv.insert(c.argv.end(), options.begin(), options.end());
    c.out = StreamMode::to_stderr;
    c.timeout = Duration::seconds(120);  // a receiver that hangs cannot hang the tests
    auto started = spawn(c);
    REQUIRE_MESSAGE(started.ok(), (started.ok() ? "" : started.error().message));
    child_.emplace(std::move(*started));
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!std::filesystem::exists(dir_ / "port")) {
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, "the receiver did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    port_ = std::stoi(test::read_file(dir_ / "port"));
  }
  ~Receiver() {
    if (child_ && !stopped_) ::kill(child_->pid(), SIGTERM);
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string url(const std::string& path = kSecretPath) const { return origin() + path; }

  // Every request received so far, in order.
  std::vector<Request> requests() const {
    std::vector<Request> out;
    std::ifstream in(log_);
    std::string line;
    while (std::getline(in, line)) {
      JsonDocument doc;
      REQUIRE_FALSE(doc.parse(line));
      const JsonValue r = doc.root();
      out.push_back({std::string(r["method"].as_string()), std::string(r["path"].as_string()),
                     std::string(r["headers"]["content-type"].as_string()),
                     std::string(r["body"].as_string())});
    }
    return out;
  }

  // SIGTERM; the receiver's exit status.
  int stop() {
    ::kill(child_->pid(), SIGTERM);
    stopped_ = true;
    return child_->wait().exit_code;
  }

 private:
  TempDir dir_;
  std::filesystem::path log_ = dir_ / "requests.jsonl";
  std::optional<RunningChild> child_;
  int port_ = 0;
  bool stopped_ = false;
};

Webhook webhook_to(const std::string& url, WebhookFormat format = WebhookFormat::json) {
  Webhook w;
  w.url = url;
  w.format = format;
  if (format == WebhookFormat::pagerduty) w.routing_key = "R0UT1NGK3Y0000000000000000000000";
  return w;
}

Delivery post_ok(const Webhook& webhook, const std::string& body) {
  auto posted = post_webhook(webhook, body);
  REQUIRE_MESSAGE(posted.ok(), (posted.ok() ? "" : posted.error().message));
  return *posted;
}

Delivery run_ok(const CommandSpec& command, const std::string& json, Duration timeout) {
  auto ran = run_notify_command(command, json, timeout);
  REQUIRE_MESSAGE(ran.ok(), (ran.ok() ? "" : ran.error().message));
  return *ran;
}

// A port on 127.0.0.1 that refuses connections while this object lives: bound, so no one
// else takes it, and not listening.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

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
    auto posted = post_webhook(w, "{}");
    REQUIRE_FALSE(posted.ok());
    CHECK(posted.error().code == ExitCode::usage);
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

// --- webhooks, against a real HTTP server ------------------------------------------------

TEST_CASE("notify: a json webhook receives the document, POSTed as application/json") {
  Receiver receiver;
  const Webhook w = webhook_to(receiver.url());
  const std::string body = webhook_body(w, NotifyEvent::opened, sample_alert(), 1796038200000000);
  CHECK(body == alert_document(NotifyEvent::opened, sample_alert(), 1796038200000000));
  const Delivery d = post_ok(w, body);
  CHECK(d.delivered);
  CHECK_FALSE(d.retryable);
  CHECK_FALSE(d.permanent());
  CHECK(d.http_status == 200);
  CHECK(d.message == "delivered to " + receiver.origin() + " (HTTP 200)");
  check_no_secret(d.message);

  const auto requests = receiver.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].path == kSecretPath);
  CHECK(requests[0].content_type == "application/json");
  CHECK(requests[0].body == body);
  JsonDocument doc;
  REQUIRE_FALSE(doc.parse(requests[0].body));
  CHECK(doc.root()["alert"]["id"].as_int64() == 42);
  CHECK(receiver.stop() == 0);
}

TEST_CASE("notify: a slack webhook receives the escaped headline") {
  Receiver receiver;
  const Webhook w = webhook_to(receiver.url(), WebhookFormat::slack);
  Alert a = sample_alert();
  a.summary = "validate took 6s > 5s <@U123> & more";
  const Delivery d = post_ok(w, webhook_body(w, NotifyEvent::opened, a, 0));
  CHECK(d.delivered);
  const auto requests = receiver.requests();
  REQUIRE(requests.size() == 1);
  JsonDocument doc;
  REQUIRE_FALSE(doc.parse(requests[0].body));
  const std::string text(doc.root()["text"].as_string());
  CHECK(text.find("validate took 6s &gt; 5s &lt;@U123&gt; &amp; more") != std::string::npos);
  CHECK(text.find("<@U123>") == std::string::npos);
}

TEST_CASE("notify: pagerduty receives triggers and a resolve under one dedup key") {
  Receiver receiver;
  const Webhook w = webhook_to(receiver.url("/v2/enqueue"), WebhookFormat::pagerduty);
  Alert a = sample_alert();
  a.severity = Severity::warning;
  CHECK(post_ok(w, webhook_body(w, NotifyEvent::opened, a, 0)).delivered);
  CHECK(post_ok(w, webhook_body(w, NotifyEvent::opened, a, 0)).delivered);  // a re-send
  a.severity = Severity::critical;
  CHECK(post_ok(w, webhook_body(w, NotifyEvent::escalated, a, 0)).delivered);
  a.state = AlertState::resolved;
  CHECK(post_ok(w, webhook_body(w, NotifyEvent::resolved, a, 0)).delivered);

  const auto requests = receiver.requests();
  REQUIRE(requests.size() == 4);
  std::vector<std::string> actions, keys, severities;
  for (const auto& r : requests) {
    JsonDocument doc;
    REQUIRE_FALSE(doc.parse(r.body));
    CHECK(doc.root()["routing_key"].as_string() == w.routing_key);
    actions.emplace_back(doc.root()["event_action"].as_string());
    keys.emplace_back(doc.root()["dedup_key"].as_string());
    severities.emplace_back(doc.root()["payload"]["severity"].as_string());
  }
  CHECK(actions == std::vector<std::string>{"trigger", "trigger", "trigger", "resolve"});
  CHECK(severities == std::vector<std::string>{"warning", "warning", "critical", ""});
  CHECK_FALSE(keys[0].empty());
  CHECK(keys == std::vector<std::string>(4, keys[0]));
}

TEST_CASE("notify: a 5xx answer is a retryable failure, and the next attempt is delivered") {
  Receiver receiver({"--fail", "1", "--status", "500"});
  const Webhook w = webhook_to(receiver.url());
  const Delivery first = post_ok(w, "{}");
  CHECK_FALSE(first.delivered);
  CHECK(first.retryable);
  CHECK_FALSE(first.timed_out);
  CHECK(first.http_status == 500);
  // The answer is quoted, without the path it quoted.
  CHECK(first.message.rfind(receiver.origin() + " answered HTTP 500: failing as told: POST ", 0) ==
        0);
  check_no_secret(first.message);

  const Delivery second = post_ok(w, "{}");
  CHECK(second.delivered);
  CHECK(receiver.requests().size() == 2);
}

TEST_CASE("notify: a 5xx, 408 or 429 answer is retryable, any other 4xx permanent") {
  for (auto [status, retryable] :
       {std::pair{400, false}, std::pair{403, false}, std::pair{404, false}, std::pair{408, true},
        std::pair{429, true}, std::pair{503, true}}) {
    CAPTURE(status);
    Receiver receiver({"--fail", "1", "--status", std::to_string(status)});
    const Delivery d = post_ok(webhook_to(receiver.url()), "{}");
    CHECK_FALSE(d.delivered);
    CHECK(d.http_status == status);
    CHECK(d.retryable == retryable);
    CHECK(d.permanent() == !retryable);
    CHECK(d.message.find("HTTP " + std::to_string(status)) != std::string::npos);
    check_no_secret(d.message);
  }
}

TEST_CASE("notify: a Retry-After from the server is reported") {
  Receiver receiver({"--fail", "1", "--status", "429", "--retry-after", "7"});
  const Delivery d = post_ok(webhook_to(receiver.url()), "{}");
  CHECK(d.retryable);
  CHECK(d.retry_after == Duration::seconds(7));
  const Delivery next = post_ok(webhook_to(receiver.url()), "{}");
  CHECK(next.delivered);
  CHECK_FALSE(next.retry_after);
}

TEST_CASE("notify: a redirect is not followed, and is permanent") {
  Receiver receiver({"--fail", "1", "--status", "301"});
  const Delivery d = post_ok(webhook_to(receiver.url()), "{}");
  CHECK_FALSE(d.delivered);
  CHECK(d.permanent());
  CHECK(d.http_status == 301);
  CHECK(d.message.find("redirect") != std::string::npos);
  check_no_secret(d.message);
  CHECK(receiver.requests().size() == 1);
}

TEST_CASE("notify: a server slower than the timeout is a retryable timeout") {
  Receiver receiver({"--delay", "5"});
  Webhook w = webhook_to(receiver.url());
  w.timeout = Duration::millis(500);
  const auto start = std::chrono::steady_clock::now();
  const Delivery d = post_ok(w, "{}");
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK_FALSE(d.delivered);
  CHECK(d.timed_out);
  CHECK(d.retryable);
  CHECK_FALSE(d.http_status);
  CHECK(took < std::chrono::seconds(3));
  CHECK(d.elapsed >= Duration::millis(450));
  CHECK(d.message == receiver.origin() + " did not answer within 500ms");
  check_no_secret(d.message);
  CHECK(receiver.requests().size() == 1);  // it got there: a retry may repeat it
}

TEST_CASE("notify: nothing listening is a retryable failure") {
  const ClosedPort closed;
  const std::string origin = "http://127.0.0.1:" + std::to_string(closed.port());
  const Delivery d = post_ok(webhook_to(origin + kSecretPath), "{}");
  CHECK_FALSE(d.delivered);
  CHECK(d.retryable);
  CHECK_FALSE(d.timed_out);
  CHECK_FALSE(d.http_status);
  CHECK(d.message.rfind("cannot deliver to " + origin + ": ", 0) == 0);
  check_no_secret(d.message);
}

TEST_CASE("notify: a certificate that does not verify is a permanent failure") {
  TempDir tmp;
  // A self-signed certificate for 127.0.0.1: good TLS, but no authority vouches for it.
  test::sh(tmp.path(),
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
           " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout key.pem"
           " -out cert.pem 2>/dev/null");
  Receiver receiver({"--tls", (tmp / "cert.pem").string(), (tmp / "key.pem").string()});
  const std::string origin = "https" + receiver.origin().substr(4);
  const Delivery d = post_ok(webhook_to(origin + kSecretPath), "{}");
  CHECK_FALSE(d.delivered);
  CHECK(d.permanent());
  CHECK_FALSE(d.http_status);
  CHECK(d.message.rfind("cannot deliver to " + origin + ": ", 0) == 0);
  CHECK(d.message.find("certificate") != std::string::npos);
  check_no_secret(d.message);
  CHECK(receiver.requests().empty());  // nothing was sent over it
}

TEST_CASE("notify: a user and password in the URL are never shown") {
  const ClosedPort closed;
  const std::string url =
      "http://alice:pa55w0rd@127.0.0.1:" + std::to_string(closed.port()) + kSecretPath;
  const Delivery d = post_ok(webhook_to(url), "{}");
  CHECK_FALSE(d.delivered);
  CHECK(d.message.find("alice") == std::string::npos);
  CHECK(d.message.find("pa55w0rd") == std::string::npos);
  check_no_secret(d.message);
}

TEST_CASE("notify: an interrupt abandons a post, which stays retryable") {
  install_interrupt_forwarding();
  clear_received_interrupt();
  Receiver receiver({"--delay", "10"});
  Webhook w = webhook_to(receiver.url());
  w.timeout = Duration::seconds(20);
  std::thread interrupter([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(::getpid(), SIGINT);
  });
  const auto start = std::chrono::steady_clock::now();
  auto posted = post_webhook(w, "{}");
  const auto took = std::chrono::steady_clock::now() - start;
  interrupter.join();
  const int received = received_interrupt();
  clear_received_interrupt();
  REQUIRE(posted.ok());
  CHECK(received == SIGINT);
  CHECK_FALSE(posted->delivered);
  CHECK(posted->retryable);
  CHECK(posted->message == "interrupted before " + receiver.origin() + " answered");
  CHECK(took < std::chrono::seconds(5));
}

// --- the notify command ------------------------------------------------------------------

TEST_CASE("notify: the notify command receives the document on stdin") {
  TempDir tmp;
  const std::string json = alert_document(NotifyEvent::opened, sample_alert(), 1796038200000000);
  const auto out = tmp / "got.json";
  const Delivery d = run_ok(CommandSpec{{"tee", out.string()}, false}, json, Duration::seconds(10));
  CHECK(d.delivered);
  CHECK(d.exit_code == 0);
  CHECK(d.message == "delivered to the notify command");
  CHECK(test::read_file(out) == json);

  // A string command runs under /bin/sh -c, as config gives it.
  const auto out2 = tmp / "got2.json";
  const Delivery d2 = run_ok(CommandSpec{{"/bin/sh", "-c", "cat > '" + out2.string() + "'"}, true},
                             json, Duration::seconds(10));
  CHECK(d2.delivered);
  CHECK(test::read_file(out2) == json);
}

TEST_CASE("notify: a failing notify command is reported with the last line of its stderr") {
  const Delivery d =
      run_ok(CommandSpec{{"/bin/sh", "-c",
                          "cat >/dev/null; echo first >&2; echo 'smtp: connection refused' >&2;"
                          " echo >&2; exit 3"},
                         true},
             "{}", Duration::seconds(10));
  CHECK_FALSE(d.delivered);
  CHECK(d.retryable);
  CHECK_FALSE(d.timed_out);
  CHECK(d.exit_code == 3);
  CHECK(d.message == "notify command exited with 3: smtp: connection refused");

  const Delivery quiet =
      run_ok(CommandSpec{{"/bin/sh", "-c", "exit 1"}, true}, "{}", Duration::seconds(10));
  CHECK_FALSE(quiet.delivered);
  CHECK(quiet.message == "notify command exited with 1");

  const Delivery killed =
      run_ok(CommandSpec{{"/bin/sh", "-c", "kill -9 $$"}, true}, "{}", Duration::seconds(10));
  CHECK_FALSE(killed.delivered);
  CHECK(killed.retryable);
  CHECK(killed.message == "notify command was killed by signal 9");
}

TEST_CASE("notify: a notify command past its timeout is killed and reported") {
  const auto start = std::chrono::steady_clock::now();
  const Delivery d = run_ok(CommandSpec{{"sleep", "30"}, false}, "{}", Duration::millis(300));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK_FALSE(d.delivered);
  CHECK(d.timed_out);
  CHECK(d.retryable);
  CHECK(took < std::chrono::seconds(5));
  CHECK(d.message == "notify command did not finish within 300ms and was killed");
}

TEST_CASE("notify: a notify command that cannot be started is a retryable failure") {
  const Delivery d =
      run_ok(CommandSpec{{"perfguard-no-such-notifier"}, false}, "{}", Duration::seconds(10));
  CHECK_FALSE(d.delivered);
  CHECK(d.retryable);
  CHECK(d.message.find("perfguard-no-such-notifier") != std::string::npos);

  auto empty = run_notify_command(CommandSpec{}, "{}", Duration::seconds(10));
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == ExitCode::usage);
  auto no_time = run_notify_command(CommandSpec{{"true"}, false}, "{}", Duration{});
  REQUIRE_FALSE(no_time.ok());
  CHECK(no_time.error().code == ExitCode::usage);
}

// --- backoff -----------------------------------------------------------------------------

TEST_CASE("notify: retry_delay doubles from 30 s to a cap of one hour") {
  CHECK(retry_delay(0) == Duration{});
  CHECK(retry_delay(-3) == Duration{});
  const std::vector<Duration> expected = {
      Duration::seconds(30),   Duration::seconds(60),   Duration::seconds(120),
      Duration::seconds(240),  Duration::seconds(480),  Duration::seconds(960),
      Duration::seconds(1920), Duration::seconds(3600), Duration::seconds(3600)};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(retry_delay(static_cast<int>(i) + 1) == expected[i]);
  }
  CHECK(retry_delay(64) == Duration::seconds(3600));
  CHECK(retry_delay(INT_MAX) == Duration::seconds(3600));
}
