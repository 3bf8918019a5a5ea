#pragma once
// The message an alert event becomes, in each format a channel takes. Pure functions of
// the alert: the same alert and event give the same bytes (for a given sent_us), so a
// message can be built again for a retry.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "alerts/alert.h"
#include "notify/channel.h"

namespace perfguard {

// Why a notification is sent: an alert was opened, escalated to a higher severity, or
// resolved; or someone asked for a test message.
enum class NotifyEvent { opened, escalated, resolved, test };
const char* to_string(NotifyEvent event);
std::optional<NotifyEvent> parse_notify_event(std::string_view text);

// Whether `webhook` takes this event about an alert of `severity` (its severity now: for an
// escalation the new one, for a resolution the last one): at or above its min_severity; a
// test message always. The notify command takes every event.
bool webhook_wants(const Webhook& webhook, NotifyEvent event, Severity severity);

// The alert a test message is about: rule threshold, step `test`, severity info, id 0, first
// and last seen `now_us` (so each test is an alert of its own, also to PagerDuty).
Alert test_alert(std::string repo, std::string branch, std::string host, std::int64_t now_us);

// One line for people, without markup: what happened, the alert's summary, and where:
//   critical — commit took 1.42s, over its 1s threshold (app, main)
//   escalated to critical — …   resolved — …   test — …
// The repository is named by the last part of its path; the branch is left out when empty.
std::string notification_headline(NotifyEvent event, const Alert& alert);

// perfguard's own document: the json webhook format, and what the notify command reads on
// stdin. A contract: fields are added, never renamed or removed. One object:
//
//   type        "perfguard.alert", always (what this document is)
//   event       "opened", "escalated", "resolved" or "test"
//   alert       the alert as it is after the event:
//     id          the alert's number in the store (0 for a test message)
//     rule        threshold, baseline, anomaly, degradation, prediction, consecutive,
//                 rollback_rate, failure, health or manual_recovery
//     severity    "info", "warning" or "critical" (after an escalation: the new one)
//     state       "open", "acknowledged", "snoozed" or "resolved"
//     step        the step it concerns (commit, rollback, validate, recover, …); for health,
//                 the figure's name
//     repo        the work tree's path
//     branch      the branch; "" when HEAD was detached
//     summary     one line for people: "commit took 1.42s, over its 1s threshold"
//     value       the figure that fired the rule, in the rule's unit (seconds for timings, a
//                 count otherwise); null when the rule has none
//     limit       what the figure was compared with, in the same unit; null when none
//     first_seen  when the rule first fired for this alert (RFC 3339, UTC, microseconds:
//                 2026-11-30T10:28:17.123456Z)
//     last_seen   when it last fired (same form)
//     count       how many times it fired while unresolved (1 when just opened)
//     host        the host it was first raised on
//   sent_at     when this message was built (same form as first_seen)
//
// Strings are written as every perfguard output writes them: one that holds bytes that are
// not UTF-8 (or `%` and two hex digits) is percent-encoded (TEXT ENCODING in perfguard(7)).
std::string alert_document(NotifyEvent event, const Alert& alert, std::int64_t sent_us);

// A Slack incoming-webhook message: {"text": "<emoji> <headline>\n<details>"}, with `&`,
// `<` and `>` escaped as Slack asks (so nothing in a summary can become a link or a
// mention), e.g.
//   :rotating_light: critical — commit took 1.42s, over its 1s threshold (app, main)
//   threshold alert #42 on commit · seen 3 times since 2026-11-30T10:28:17Z · build-7 · /src/app
// Emoji: :rotating_light: critical, :warning: warning, :information_source: info,
// :white_check_mark: resolved, :test_tube: test. The summary is cut to 1,000 characters.
std::string slack_message(NotifyEvent event, const Alert& alert);

// A PagerDuty Events API v2 event. Opened, escalated and test messages trigger, with the
// payload (summary: the headline, cut to 1,024 characters;
// source: the host; severity: info, warning or critical; component: the step; group: the
// repository's name; class: the rule; timestamp: last_seen; custom_details: the event and
// the alert as in alert_document()). Resolved resolves. Every event about one alert carries
// the same dedup_key, so an escalation updates the incident the opening raised, a resolution
// closes it, and a retry or a repeat is deduplicated by PagerDuty.
std::string pagerduty_event(NotifyEvent event, const Alert& alert, std::string_view routing_key);

// `perfguard/<rule>/<step>/<24 hex>`: the hex is the SHA-1 of what identifies the alert
// everywhere (host first raised on, repository, branch, rule, step, id, first seen), so two
// stores' alert #1 are different incidents. At most 255 characters, as PagerDuty requires.
std::string pagerduty_dedup_key(const Alert& alert);

// The body for `webhook` in its format (`sent_us` is the json document's sent_at).
std::string webhook_body(const Webhook& webhook, NotifyEvent event, const Alert& alert,
                         std::int64_t sent_us);

// `text` cut so that, as perfguard writes strings (see alert_document), it takes at most
// `max_chars` characters, ending in `…` when it was cut. Never splits a UTF-8 sequence.
std::string fit_text(std::string_view text, std::size_t max_chars);

}  // namespace perfguard
