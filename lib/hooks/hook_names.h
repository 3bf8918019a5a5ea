#pragma once
// The git hooks perfguard has a part in, and where its part goes among the user's own.

#include <array>
#include <string_view>

namespace perfguard {

struct HookName {
  std::string_view name;
  // Its part runs before the user's hook (pre-commit stamps the start; commit-msg stamps the
  // end of the editor; pre-push gates; the post-* hooks time what git did before them) or
  // after it (prepare-commit-msg and post-commit: a person waits for the user's hook too).
  bool perfguard_first;
};

inline constexpr std::array<HookName, 8> kHookNames{{
    {"pre-commit", true},
    {"prepare-commit-msg", false},
    {"commit-msg", true},
    {"post-commit", false},
    {"post-merge", true},
    {"post-checkout", true},
    {"post-rewrite", true},
    {"pre-push", true},
}};

inline const HookName* find_hook_name(std::string_view name) {
  for (const HookName& h : kHookNames) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

}  // namespace perfguard
