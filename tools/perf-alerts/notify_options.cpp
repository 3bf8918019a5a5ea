// The command line of perf-alerts notify, which perf-alerts and perf-alerts-notify share.
// Its work is in notify.cpp, linked only into perf-alerts-notify: it needs libcurl, whose
// loading alone would cost every other perf-alerts command (list, check) milliseconds.
#include "commands.h"

namespace perfguard::alerts_tool {

Notify::Notify()
    : Command("notify", "Send the alert notifications waiting in the outbox (or --test one)") {}

void Notify::add_options(CLI::App& command) {
  auto* r = command.add_flag("--retry", retry,
                             "Every pending notification now, whatever its backoff says");
  command.add_flag("--test", test, "A test message through every channel; say what each answered")
      ->excludes(r);
}

}  // namespace perfguard::alerts_tool
