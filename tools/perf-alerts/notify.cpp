// perf-alerts notify: sends the notifications waiting in the store's outbox (what perf-commit
// and perf-rollback queue, and start this command detached to send), or a test message
// through every configured channel.
#include <cstdio>

#include "commands.h"
#include "core/clock.h"
#include "notify/deliver.h"
#include "notify/message.h"
#include "notify/outbox.h"

namespace perfguard::alerts_tool {

namespace {

ExitCode send_test(const ToolSession& session) {
  const Config& config = session.config;
  if (!config.notify && config.alerts.webhooks.empty()) {
    std::printf(
        "no channel configured: set [alerts] notify or [[alerts.webhook]] (trusted "
        "config only)\n");
    return ExitCode::ok;
  }
  const std::int64_t now = now_unix_us();
  Alert alert = test_alert(session.context.repo, session.context.branch, session.context.host, now);
  bool all_delivered = true;
  auto report = [&](const std::string& channel, const Result<Delivery>& d) {
    bool ok = d && d->delivered;
    all_delivered = all_delivered && ok;
    std::printf("%s: %s\n", channel.c_str(), printable(d ? d->message : d.error().message).c_str());
  };
  if (config.notify) {
    report("notify",
           run_notify_command(*config.notify, alert_document(NotifyEvent::test, alert, now),
                              config.alerts.notify_timeout));
  }
  for (const Webhook& hook : config.alerts.webhooks) {
    report(channel_key(hook) + " " + redact_url(hook.url),
           post_webhook(hook, webhook_body(hook, NotifyEvent::test, alert, now)));
  }
  return all_delivered ? ExitCode::ok : ExitCode::step_failed;
}

}  // namespace

Result<ExitCode> Notify::run(ToolSession& session) {
  if (test) return send_test(session);
  if (!session.store_exists()) return ExitCode::ok;  // nothing queued
  auto store = open_existing_store(session);
  if (!store) return store.error();
  auto attempts = flush_outbox(*store, session.config, now_unix_us(), retry);
  if (!attempts) return attempts.error();
  bool failed = false;
  for (const OutboxAttempt& a : *attempts) {
    failed = failed || !a.sent;
    if (session.options.quiet && a.sent) continue;
    std::fprintf(a.sent ? stdout : stderr, "#%lld %s via %s: %s%s\n",
                 static_cast<long long>(a.alert_id), a.event.c_str(), a.channel.c_str(),
                 printable(a.message).c_str(),
                 a.sent      ? ""
                 : a.gave_up ? " (given up)"
                             : " (will be retried)");
  }
  if (attempts->empty() && !session.options.quiet) std::printf("nothing to send\n");
  return failed ? ExitCode::step_failed : ExitCode::ok;
}

}  // namespace perfguard::alerts_tool
