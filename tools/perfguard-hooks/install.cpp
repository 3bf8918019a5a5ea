// perfguard-hooks install | uninstall | status [--global]: perfguard's hooks in the
// repository's effective hooks directory (core.hooksPath honoured), or in the user's global
// one; the user's own hooks chained and put back exactly.
#include <cstdio>

#include "hooks.h"
#include "hooks/installer.h"
#include "output/json.h"

namespace fs = std::filesystem;

namespace perfguard::hooks_tool {

namespace {

// This program's own path, which the hook files name (PATH's when it cannot be read).
fs::path this_program() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("perfguard-hooks") : self;
}

struct Place {
  HookPlace hooks;
  std::optional<GlobalHooks> global;
};

Result<Place> find_place(const InstallOptions& options) {
  Place place;
  if (options.global) {
    auto global = global_hooks(this_program());
    if (!global) return global.error();
    place.hooks = global->place;
    place.global = std::move(*global);
    return place;
  }
  auto session = open_session(kTool, options.common);
  if (!session) return session.error();
  auto dir = repository_hooks_dir(session->repository);
  if (!dir) return dir.error();
  place.hooks.hooks_dir = *dir;
  place.hooks.saved_dir = session->repository.perfguard_dir() / "saved-hooks";
  place.hooks.binary = this_program();
  return place;
}

void print_left(const std::vector<std::string>& left) {
  for (const std::string& line : left) {
    std::fprintf(stderr, "%s: warning: %s\n", kTool.c_str(), line.c_str());
  }
}

}  // namespace

int install(const InstallOptions& options) {
  auto place = find_place(options);
  if (!place) return report_error(kTool, place.error());
  Status done = place->global ? install_global_hooks(*place->global) : install_hooks(place->hooks);
  if (!done) return report_error(kTool, done.error());
  if (!options.common.quiet) {
    std::size_t chained = 0;
    for (const HookStatus& s : hook_status(place->hooks)) chained += s.state == HookState::chained;
    std::printf("perfguard's hooks are installed in %s", place->hooks.hooks_dir.c_str());
    if (chained > 0) std::printf(" (%zu of your hooks chained)", chained);
    std::printf("\n");
  }
  return 0;
}

int uninstall(const InstallOptions& options) {
  auto place = find_place(options);
  if (!place) return report_error(kTool, place.error());
  auto left =
      place->global ? uninstall_global_hooks(*place->global) : uninstall_hooks(place->hooks);
  if (!left) return report_error(kTool, left.error());
  print_left(*left);
  if (!options.common.quiet) {
    std::printf("perfguard's hooks are removed from %s\n", place->hooks.hooks_dir.c_str());
  }
  return 0;
}

int status(const InstallOptions& options) {
  auto place = find_place(options);
  if (!place) return report_error(kTool, place.error());
  auto format = parse_format(options.common.json ? "json" : options.common.format);
  if (!format) {
    return report_error(kTool,
                        make_error(ExitCode::usage, "unknown --format '" + options.common.format +
                                                        "': expected text or json"));
  }
  const auto all = hook_status(place->hooks);
  bool complete = true;
  for (const HookStatus& s : all) {
    complete = complete && (s.state == HookState::installed || s.state == HookState::chained);
  }
  if (*format == Format::json) {
    JsonWriter w;
    w.begin_object().key("hooks_dir").value(place->hooks.hooks_dir.string()).key("hooks");
    w.begin_array();
    for (const HookStatus& s : all) {
      w.begin_object().key("name").value(s.name).key("state").value(to_string(s.state));
      w.key("chained").value(s.chained.string()).end_object();
    }
    w.end_array().key("installed").value(complete).end_object();
    std::printf("%s\n", w.str().c_str());
  } else if (*format == Format::text) {
    std::printf("hooks directory: %s\n", place->hooks.hooks_dir.c_str());
    for (const HookStatus& s : all) {
      std::printf("%-19s %s", s.name.c_str(), to_string(s.state));
      if (s.state == HookState::chained) std::printf(" (runs %s too)", s.chained.c_str());
      std::printf("\n");
    }
  } else {
    return report_error(kTool, make_error(ExitCode::usage, "status writes text or json"));
  }
  return complete ? 0 : 1;
}

}  // namespace perfguard::hooks_tool
