#include "health/git_settings.h"

#include <string>

#include "health/libgit2_handle.h"

namespace perfguard::health {

namespace {

Result<std::optional<std::int64_t>> config_int(git_config* config, const char* key) {
  std::int64_t value = 0;
  const int rc = git_config_get_int64(&value, config, key);
  if (rc == GIT_ENOTFOUND) return std::optional<std::int64_t>();
  if (rc != 0) {
    return make_error(ExitCode::usage, "git config " + std::string(key) + " is not a number (" +
                                           libgit2_message() + "): fix it with `git config " + key +
                                           " <number>`");
  }
  return std::optional<std::int64_t>(value);
}

Result<bool> config_bool(git_config* config, const char* key, bool fallback) {
  int value = 0;
  const int rc = git_config_get_bool(&value, config, key);
  if (rc == GIT_ENOTFOUND) return fallback;
  if (rc != 0) {
    return make_error(ExitCode::usage, "git config " + std::string(key) + " is not a boolean (" +
                                           libgit2_message() + "): fix it with `git config " + key +
                                           " true`");
  }
  return value != 0;
}

}  // namespace

Result<GitSettings> read_git_settings(git_repository* repo) {
  git_config* raw = nullptr;
  if (git_repository_config_snapshot(&raw, repo) != 0) {
    return make_error(ExitCode::usage, "git's config cannot be read: " + libgit2_message());
  }
  ConfigHandle config(raw);
  GitSettings s;
  auto gc_auto = config_int(raw, "gc.auto");
  if (!gc_auto) return gc_auto.error();
  auto pack_limit = config_int(raw, "gc.autoPackLimit");
  if (!pack_limit) return pack_limit.error();
  auto graph = config_bool(raw, "core.commitGraph", true);
  if (!graph) return graph.error();
  // core.untrackedCache is also "keep": only true says the cache is on for sure.
  int untracked = 0;
  s.untracked_cache = git_config_get_bool(&untracked, raw, "core.untrackedCache") == 0 && untracked;
  s.gc_auto = *gc_auto;
  s.gc_auto_pack_limit = *pack_limit;
  s.commit_graph = *graph;
  for (const char* key : kSpeedSettings) {
    git_buf value = GIT_BUF_INIT;
    if (git_config_get_string_buf(&value, raw, key) == 0) s.written[key] = value.ptr;
    git_buf_dispose(&value);
  }
  return s;
}

}  // namespace perfguard::health
