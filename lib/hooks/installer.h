#pragma once
// Puts perfguard's hooks into a hooks directory and takes them out again. A hook the user
// already has is chained, never replaced: perfguard keeps the original (bytes and mode) in
// a directory of its own, the installed file runs it with the same arguments and stdin and
// exits with its status, and uninstall puts it back exactly.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "git/repository.h"

namespace perfguard {

// Where the hooks go and what the installed files name.
struct HookPlace {
  std::filesystem::path hooks_dir;  // git's effective hooks directory (core.hooksPath)
  std::filesystem::path saved_dir;  // perfguard's copies of the user's hooks it chains
  std::filesystem::path binary;     // the perfguard-hooks the files call (else PATH's)
  // Installed as the user's global core.hooksPath, which hides each repository's own hooks:
  // the files then run $GIT_COMMON_DIR/hooks/<name> too.
  bool global = false;
};

enum class HookState {
  installed,  // perfguard's, with no user hook chained
  chained,    // perfguard's, running the user's hook as well
  missing,    // no hook of that name
  foreign     // someone else's hook
};

const char* to_string(HookState state);

struct HookStatus {
  std::string name;
  HookState state = HookState::missing;
  std::filesystem::path path;
  std::filesystem::path chained;  // the user's hook it runs, when chained
};

// The installed file's text for `name`, running `chained` (when not empty) as well.
std::string hook_script(const HookPlace& place, const std::string& name,
                        const std::filesystem::path& chained);

// The state of each of perfguard's hooks in the place.
std::vector<HookStatus> hook_status(const HookPlace& place);

// Installs every hook, chaining the user's. Checks first and changes nothing when it cannot
// do all of it (ExitCode::usage). Installing again writes the same bytes.
Status install_hooks(const HookPlace& place);

// Takes perfguard's hooks out, putting back each chained user hook as it was; a hook that
// is not perfguard's is left alone. Returns what it did not touch and why, for warnings.
Result<std::vector<std::string>> uninstall_hooks(const HookPlace& place);

// The repository's effective hooks directory (`git rev-parse --git-path hooks`, so
// core.hooksPath counts), made absolute.
Result<std::filesystem::path> repository_hooks_dir(const Repository& repo);

// The user's global install: a hooks directory of perfguard's under the user's config
// directory, made the global core.hooksPath; or, when the user already has a global
// core.hooksPath, that directory (then core.hooksPath is left as it is).
struct GlobalHooks {
  HookPlace place;
  std::optional<std::string> hooks_path;  // the global core.hooksPath now
  std::filesystem::path state_file;       // what install changed, for uninstall
  bool set_hooks_path = false;            // install sets core.hooksPath to place.hooks_dir
};

Result<GlobalHooks> global_hooks(const std::filesystem::path& binary);
Status install_global_hooks(const GlobalHooks& global);
Result<std::vector<std::string>> uninstall_global_hooks(const GlobalHooks& global);

}  // namespace perfguard
