// perf-baseline show: the active baselines, with each step's threshold and the headroom.
#include "commands.h"
#include "core/clock.h"

namespace perfguard::baseline_tool {

Show::Show()
    : Command("show", "The active baselines, with each step's threshold and the headroom to p99") {}

Result<ExitCode> Show::run(ToolSession& session) {
  auto store = open_existing_store(session);
  if (!store) return store.error();
  auto baselines = store->active_baselines();
  if (!baselines) return baselines.error();
  print_show(render_context(session, now_unix_us()),
             with_headroom(*baselines, session.config.thresholds));
  return ExitCode::ok;
}

}  // namespace perfguard::baseline_tool
