#include "notify/deliver.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/text_encoding.h"
#include "core/version.h"
#include "notify/message.h"
#include "notify/url.h"
#include "process/runner.h"
#include "process/sigpipe.h"

namespace perfguard {

namespace {

using Clock = std::chrono::steady_clock;

// One line of text from outside (a server's answer, a command's stderr, libcurl's words),
// fit for a one-line message and the store: control characters become spaces, bytes that
// are not UTF-8 become `?`, and it is cut to `max_chars` characters.
std::string printable_line(std::string_view text, std::size_t max_chars) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out.push_back('?');
      ++i;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (n == 1 && (c < 0x20 || c == 0x7f)) {
      out.push_back(' ');
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  const auto first = out.find_first_not_of(' ');
  const auto last = out.find_last_not_of(' ');
  out = first == std::string::npos ? std::string() : out.substr(first, last - first + 1);
  return fit_text(out, max_chars);
}

// The last line with something on it.
std::string last_line(std::string_view text) {
  std::size_t end = text.size();
  while (end > 0) {
    const auto start = text.rfind('\n', end - 1);
    const std::size_t from = start == std::string_view::npos ? 0 : start + 1;
    const std::string line = printable_line(text.substr(from, end - from), 300);
    if (!line.empty()) return line;
    if (start == std::string_view::npos) break;
    end = start;
  }
  return {};
}

// --- webhooks ----------------------------------------------------------------------------

struct CurlEasyFree {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlSlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

bool curl_initialised() {
  // Once per process, never undone: curl_global_cleanup would have to wait for every
  // other user of libcurl in the process, and the process ends soon anyway.
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ok;
}

// The start of the server's answer: enough for its error message (Slack's
// `invalid_token`, PagerDuty's JSON errors), never an unbounded buffer.
constexpr std::size_t kAnswerKept = 2048;

std::size_t keep_answer(char* data, std::size_t size, std::size_t count, void* user) {
  auto* answer = static_cast<std::string*>(user);
  const std::size_t bytes = size * count;
  if (answer->size() < kAnswerKept) {
    answer->append(data, std::min(bytes, kAnswerKept - answer->size()));
  }
  return bytes;
}

int abandon_on_interrupt(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return received_interrupt() != 0 ? 1 : 0;
}

// `text` without any part of the webhook that may be a secret: the URL, its path, query,
// fragment and user, and the routing key. Servers and libcurl sometimes quote them.
std::string without_secrets(std::string text, const Webhook& webhook, const UrlParts& url) {
  std::vector<std::string> secrets = {webhook.url, url.rest, url.userinfo, webhook.routing_key};
  const std::string_view rest = url.rest;
  const auto query = rest.find_first_of("?#");
  secrets.emplace_back(rest.substr(0, query));  // the path
  if (query != std::string_view::npos) secrets.emplace_back(rest.substr(query + 1));
  // Longest first, so that a part of a longer secret is not left behind half-replaced.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& secret : secrets) {
    if (secret.size() < 2) continue;  // "/" or nothing: no secret there
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "\u2026");
    }
  }
  return text;
}

bool retryable_status(long status) {
  return status == 408 || status == 425 || status == 429 || status >= 500;
}

// Whether a transfer that failed in libcurl may succeed later. The ones that cannot are
// the configuration's: a URL or protocol it refuses, a certificate that does not verify.
bool retryable_transfer(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
      return false;
    default:
      return true;
  }
}

}  // namespace

Result<Delivery> post_webhook(const Webhook& webhook, const std::string& body) {
  if (auto checked = check_webhook(webhook); !checked) return checked.error();
  const UrlParts url = *split_url(webhook.url);
  const std::string origin = url.origin();
  if (!curl_initialised()) {
    return make_error(ExitCode::step_failed,
                      "cannot post to " + origin + ": libcurl could not be initialised");
  }
  std::unique_ptr<CURL, CurlEasyFree> curl(curl_easy_init());
  if (!curl) {
    return make_error(ExitCode::step_failed,
                      "cannot post to " + origin + ": libcurl could not make a handle");
  }
  std::unique_ptr<curl_slist, CurlSlistFree> headers;
  for (const char* header : {"Content-Type: application/json",
                             // No `Expect: 100-continue` wait before a larger body.
                             "Expect:"}) {
    curl_slist* list = curl_slist_append(headers.get(), header);
    if (list == nullptr) {
      return make_error(ExitCode::step_failed, "cannot post to " + origin + ": out of memory");
    }
    (void)headers.release();
    headers.reset(list);
  }

  const long timeout_ms =
      static_cast<long>(std::clamp<std::int64_t>(webhook.timeout.us / 1000, 1, 24 * 3600 * 1000));
  const std::string user_agent = std::string("perfguard/") + kVersion;
  std::string answer;
  char error_text[CURL_ERROR_SIZE] = {};

  CURLcode setup = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (setup == CURLE_OK) setup = curl_easy_setopt(curl.get(), option, value);
  };
  set(CURLOPT_URL, webhook.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_POST, 1L);
  set(CURLOPT_POSTFIELDS, body.data());
  set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  set(CURLOPT_HTTPHEADER, headers.get());
  set(CURLOPT_USERAGENT, user_agent.c_str());
  set(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  set(CURLOPT_TIMEOUT_MS, timeout_ms);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_ERRORBUFFER, error_text);
  set(CURLOPT_WRITEFUNCTION, keep_answer);
  set(CURLOPT_WRITEDATA, &answer);
  set(CURLOPT_NOPROGRESS, 0L);
  set(CURLOPT_XFERINFOFUNCTION, abandon_on_interrupt);
  if (setup != CURLE_OK) {
    return make_error(ExitCode::step_failed,
                      "cannot post to " + origin + ": libcurl: " + curl_easy_strerror(setup));
  }

  Delivery d;
  const auto start = Clock::now();
  CURLcode code;
  {
    // libcurl is told not to touch signals (CURLOPT_NOSIGNAL): a write to a connection the
    // server closed would raise SIGPIPE.
    SigpipeBlock no_sigpipe(true);
    code = curl_easy_perform(curl.get());
  }
  d.elapsed = elapsed_since(start);

  if (code != CURLE_OK) {
    const std::string said =
        error_text[0] != '\0' ? std::string(error_text) : curl_easy_strerror(code);
    const std::string detail = printable_line(without_secrets(said, webhook, url), 300);
    d.retryable = retryable_transfer(code);
    if (code == CURLE_OPERATION_TIMEDOUT) {
      curl_off_t connected_us = 0;
      curl_easy_getinfo(curl.get(), CURLINFO_CONNECT_TIME_T, &connected_us);
      d.timed_out = true;
      d.message = (connected_us > 0 ? origin + " did not answer within "
                                    : "could not connect to " + origin + " within ") +
                  format_duration(webhook.timeout);
    } else if (code == CURLE_ABORTED_BY_CALLBACK) {
      d.message = "interrupted before " + origin + " answered";
    } else {
      d.message = "cannot deliver to " + origin + ": " + detail;
    }
    return d;
  }

  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  d.http_status = static_cast<int>(status);
  curl_off_t retry_after_s = 0;
  if (curl_easy_getinfo(curl.get(), CURLINFO_RETRY_AFTER, &retry_after_s) == CURLE_OK &&
      retry_after_s > 0) {
    d.retry_after = Duration::seconds(std::min<curl_off_t>(retry_after_s, 7 * 24 * 3600));
  }
  const std::string status_text = "HTTP " + std::to_string(status);
  if (status >= 200 && status < 300) {
    d.delivered = true;
    d.message = "delivered to " + origin + " (" + status_text + ")";
    return d;
  }
  d.retryable = retryable_status(status);
  if (status >= 300 && status < 400) {
    d.message = origin + " answered " + status_text +
                ", a redirect, which is not followed: set the webhook's url to where it leads";
    return d;
  }
  d.message = origin + " answered " + status_text;
  const std::string_view first = std::string_view(answer).substr(0, answer.find('\n'));
  const std::string quoted = printable_line(without_secrets(std::string(first), webhook, url), 200);
  if (!quoted.empty()) d.message += ": " + quoted;
  return d;
}

// --- the notify command ------------------------------------------------------------------

Result<Delivery> run_notify_command(const CommandSpec& command, const std::string& json,
                                    Duration timeout) {
  if (command.argv.empty()) {
    return make_error(ExitCode::usage,
                      "the notify command is empty: set [alerts] notify to a command");
  }
  if (timeout.us <= 0) {
    return make_error(ExitCode::usage, "the notify command's timeout must be longer than 0");
  }
  ChildCommand child;
  child.argv = without_needless_shell(command.argv);
  child.stdin_data = json;
  child.out = StreamMode::discard;  // the library prints nothing; stderr says what failed
  child.err = StreamMode::capture;
  child.timeout = timeout;

  Delivery d;
  const auto start = Clock::now();
  auto ran = run_child(child);
  d.elapsed = elapsed_since(start);
  if (!ran) {
    // Not started (not found, not executable, no process left): it may be installed later.
    d.retryable = true;
    d.message = "notify command: " + ran.error().message;
    return d;
  }
  const ChildOutcome& outcome = *ran;
  d.exit_code = outcome.exit_code;
  if (outcome.success()) {
    d.delivered = true;
    d.message = "delivered to the notify command";
    return d;
  }
  d.retryable = true;
  if (outcome.timed_out) {
    d.timed_out = true;
    d.message =
        "notify command did not finish within " + format_duration(timeout) + " and was killed";
  } else if (outcome.interrupted) {
    d.message = "notify command was interrupted";
  } else if (outcome.signal) {
    d.message = "notify command was killed by signal " + std::to_string(*outcome.signal);
  } else {
    d.message = "notify command exited with " + std::to_string(outcome.exit_code);
  }
  if (const std::string said = last_line(outcome.err); !said.empty()) d.message += ": " + said;
  return d;
}

// --- backoff -----------------------------------------------------------------------------

Duration retry_delay(int attempts) {
  constexpr Duration kFirst = Duration::seconds(30);
  constexpr Duration kCap = Duration::seconds(3600);
  if (attempts <= 0) return Duration{};
  if (attempts > 8) return kCap;  // 30 s × 2^7 is past the cap already; no shift overflows
  return std::min(Duration::micros(kFirst.us << (attempts - 1)), kCap);
}

}  // namespace perfguard
