#include "store/baselines.h"

namespace perfguard {

const char* to_string(BaselineScope scope) {
  switch (scope) {
    case BaselineScope::all:
      return "all";
    case BaselineScope::repo:
      return "repo";
    case BaselineScope::branch:
      return "branch";
  }
  return "all";
}

std::optional<BaselineScope> parse_baseline_scope(std::string_view text) {
  for (auto s : {BaselineScope::all, BaselineScope::repo, BaselineScope::branch}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

}  // namespace perfguard
