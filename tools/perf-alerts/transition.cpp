// perf-alerts ack, snooze and resolve: a person's transition of one or more alerts, kept in
// each alert's history. All or nothing: one unknown or resolved id changes none of them.
#include <cstdio>

#include "alerts/channels.h"
#include "commands.h"
#include "core/clock.h"

namespace perfguard::alerts_tool {

namespace {

const char* name_of(AlertState to) {
  switch (to) {
    case AlertState::acknowledged:
      return "ack";
    case AlertState::snoozed:
      return "snooze";
    default:
      return "resolve";
  }
}

const char* description_of(AlertState to) {
  switch (to) {
    case AlertState::acknowledged:
      return "Acknowledge alerts: someone is on it (check no longer blocks on them)";
    case AlertState::snoozed:
      return "Snooze alerts for a while (--for 2h); they count again when it runs out";
    default:
      return "Resolve alerts by hand, with a note";
  }
}

}  // namespace

Transition::Transition(AlertState state)
    : Command(name_of(state), description_of(state)), to(state) {}

void Transition::add_options(CLI::App& command) {
  command.add_option("id", ids, "The alerts' ids (perf-alerts list)")->required()->type_name("ID");
  command.add_option("--by", by, "Who (default: the user name)")->type_name("NAME");
  command.add_option("--note", note, "Why, kept in the alert's history")->type_name("TEXT");
  if (to == AlertState::snoozed) {
    add_typed_option(command, "--for", snooze_for, positive_duration(),
                     "How long (`30m`, `2h`, `1d`)")
        ->required()
        ->type_name("DURATION");
  }
}

Result<ExitCode> Transition::run(ToolSession& session) {
  std::vector<std::int64_t> numbers;
  for (const std::string& text : ids) {
    auto id = parse_alert_id(text);
    if (!id) return id.error();
    numbers.push_back(*id);
  }
  auto store = open_existing_store(session);
  if (!store) return store.error();
  AlertTransition t;
  t.to = to;
  t.by = by.empty() ? session.context.user : by;
  t.note = note;
  t.now_us = now_unix_us();
  if (to == AlertState::snoozed) t.until_us = t.now_us + snooze_for.us;
  t.channels = notify_channels(session.config);
  auto changes = store->transition(numbers, t);
  if (!changes) return changes.error();
  send_notifications_later(session, *changes);

  if (session.format != Format::text) {
    std::vector<Alert> alerts;
    for (const AlertChange& c : *changes) alerts.push_back(c.alert);
    write_table(stdout, session.format, alert_table(alerts, t.now_us), "alerts");
  } else if (!session.options.quiet) {
    for (const AlertChange& c : *changes) {
      std::string what = to_string(c.kind);
      if (t.until_us) what += " until " + format_timestamp(*t.until_us);
      std::printf("#%lld %s: %s\n", static_cast<long long>(c.alert.id), what.c_str(),
                  printable(c.alert.summary).c_str());
    }
  }
  return ExitCode::ok;
}

}  // namespace perfguard::alerts_tool
