// What perf-alerts' commands share: the store, alert ids, severities and states on the
// command line.
#include <charconv>

#include "commands.h"

namespace perfguard::alerts_tool {

Result<Store> open_existing_store(const ToolSession& session) {
  return Store::open(session.store_options(/*create=*/false));
}

Result<Store> open_store_for_alerts(const ToolSession& session) {
  return Store::open(session.store_options(/*create=*/true));
}

Result<std::int64_t> parse_alert_id(std::string_view text) {
  std::string_view digits = text.starts_with('#') ? text.substr(1) : text;
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || id <= 0) {
    return make_error(ExitCode::usage, "'" + std::string(text) +
                                           "' is not an alert id: a number like 17 (see "
                                           "perf-alerts list)");
  }
  return id;
}

OptionType<Severity> severity_option() {
  return choice<Severity>("a severity", {"info", "warning", "critical"}, parse_severity, to_string);
}

OptionType<AlertState> alert_state() {
  return choice<AlertState>("a state", {"open", "acknowledged", "snoozed", "resolved"},
                            parse_alert_state, to_string);
}

void AlertPlace::add_options(CLI::App& command) {
  command.add_option("--repo", repo, "Only alerts on runs in this work tree (its absolute path)")
      ->type_name("PATH");
  command.add_option("--branch", branch, "Only alerts on runs on this branch")->type_name("NAME");
}

std::string AlertPlace::repo_for(const ToolSession& session) const {
  if (!repo.empty()) return repo;
  return session.in_repository && !session.store_is_shared() ? session.context.repo : "";
}

Result<std::vector<Alert>> AlertPlace::alerts(Store& store, AlertQuery query) const {
  if (branch.empty()) return store.alerts(query);
  const int limit = query.limit;
  query.limit = 0;
  auto found = store.alerts(query);
  if (!found) return found.error();
  std::erase_if(*found, [&](const Alert& a) { return a.key.branch != branch; });
  if (limit > 0 && found->size() > static_cast<std::size_t>(limit)) {
    found->resize(static_cast<std::size_t>(limit));
  }
  return found;
}

std::string plural(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace perfguard::alerts_tool
