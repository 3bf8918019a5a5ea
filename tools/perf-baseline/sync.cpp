// perf-baseline sync: ships every record the shared store lacks and takes the team's baselines
// back, in the foreground, for the last step of a CI job: it waits for a shipper already at
// work and returns once the records are safe (or says why they are not). --status says where
// shipping stands without reaching the shared store.
#include <cstdio>

#include "commands.h"
#include "core/clock.h"
#include "output/progress.h"
#include "sync/target.h"

namespace perfguard::baseline_tool {

namespace {

std::string records(std::int64_t n) {
  return with_thousands(static_cast<std::uint64_t>(n)) + (n == 1 ? " record" : " records");
}

Cell time_or_null(std::int64_t unix_us) {
  return unix_us > 0 ? Cell(format_timestamp(unix_us)) : Cell();
}

Result<ExitCode> print_status(const ToolSession& session, const std::string& target) {
  auto store = Store::open({session.store_path(), session.config.busy_timeout, false});
  if (!store) return store.error();
  auto state = store->shipping_state();
  if (!state) return state.error();
  auto pending = pending_records(*store, target);
  if (!pending) return pending.error();
  auto mark = shipped_mark(*store, target);
  if (!mark) return mark.error();
  const std::optional<ShipFailure>& failure = state->failure;

  const Table summary{
      {"target", "pending", "shipped_id", "last_success", "last_shipped", "last_failure", "failure",
       "failure_reported"},
      {{target, *pending, *mark ? Cell((*mark)->id) : Cell(), time_or_null(state->last_success_us),
        state->last_shipped, time_or_null(failure ? failure->at_us : 0),
        failure ? Cell(failure->message) : Cell(), failure ? Cell(failure->reported) : Cell()}}};
  std::string text =
      "shared store:  " + target + "\npending:       " + records(*pending) + "\nshipped up to: ";
  text += *mark ? "step " + with_thousands(static_cast<std::uint64_t>((*mark)->id)) + " (" +
                      (*mark)->step + " started " + format_timestamp((*mark)->started_us) + ")"
                : std::string("nothing yet");
  text += "\nlast success:  ";
  text += state->last_success_us > 0 ? format_timestamp(state->last_success_us) + " (" +
                                           records(state->last_shipped) + " shipped)"
                                     : std::string("never");
  text += "\nlast failure:  ";
  text += failure ? format_timestamp(failure->at_us) + ": " + ship_failure_cause(*failure) +
                        (failure->reported ? " (reported)" : " (not reported yet)")
                  : std::string("none since the last success");
  print_summary(session, summary, text);
  return ExitCode::ok;
}

// Said here, on the terminal or in the CI log: no later tool run needs to say it again.
Error failed_sync(const ToolSession& session, const std::string& target, const Error& error) {
  std::string left;
  if (auto store = Store::open({session.store_path(), session.config.busy_timeout, false})) {
    (void)store->claim_ship_failure();
    if (auto pending = pending_records(*store, target)) {
      left = "; " + records(*pending) + " stay in the local store for the next ship";
    }
  }
  return make_error(error.code, error.message + left);
}

}  // namespace

Sync::Sync()
    : Command("sync",
              "Ship the records the shared store lacks and take the team's baselines back; "
              "wait until they are safe") {}

void Sync::add_options(CLI::App& command) {
  command.add_flag("--status", status,
                   "Say what is pending and how the last ships went, without connecting");
}

Result<ExitCode> Sync::run(ToolSession& session) {
  if (!session.config.shared) {
    return make_error(ExitCode::usage,
                      "no shared store to sync with: set [store] shared in your config (or "
                      "PERFGUARD_SHARED) to the team's store");
  }
  const std::string target = shared_store_name(*session.config.shared);
  if (status) return print_status(session, target);

  ShipperRequest request = shipper_request(session);
  request.wait = true;
  ShipperResult result;
  Status shipped = [&] {
    Progress progress(session.options.quiet);
    progress.begin("shipping to " + target, "records");
    request.after_batch = [&] { progress.update(0); };
    Status s = run_shipper(request, result);
    return s;
  }();  // the line cleared before anything is said
  if (!shipped) {
    if (shipped.error().code == ExitCode::interrupted) return shipped.error();
    return failed_sync(session, target, shipped.error());
  }

  const ShipSummary& s = result.shipped;
  const BaselinePull& b = result.baselines;
  const Table summary{
      {"target", "shipped", "new", "already_there", "batches", "seconds", "team_baselines",
       "baselines_changed"},
      {{target, s.read, s.stored, s.already, s.batches, s.seconds, b.team, b.changed}}};
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", s.seconds);
  std::string text =
      s.read == 0 ? "nothing new to ship to " + target
                  : "shipped " + records(s.read) + " to " + target + " in " + seconds + " s (" +
                        with_thousands(static_cast<std::uint64_t>(s.stored)) + " new, " +
                        with_thousands(static_cast<std::uint64_t>(s.already)) + " already there)";
  text += "; " + plural(static_cast<std::size_t>(b.team), "team baseline", "team baselines");
  if (b.changed > 0) text += " (" + std::to_string(b.changed) + " taken into the local store)";
  print_summary(session, summary, text);
  return ExitCode::ok;
}

}  // namespace perfguard::baseline_tool
