#include "recover/target.h"

#include <map>

#include "core/clock.h"
#include "git/git.h"
#include "git/object_reader.h"
#include "git/tree_diff.h"

namespace perfguard {

namespace {

// HEAD's first-parent history after HEAD itself, newest first: read in-process, and from
// `git rev-list` from the first commit the reader cannot read on (an alternate, a damaged
// pack).
Result<std::vector<std::string>> first_parents(const Repository& repo, const std::string& head,
                                               int limit) {
  std::vector<std::string> out;
  std::string at = head;
  auto reader = ObjectReader::open(repo);
  while (reader && static_cast<int>(out.size()) < limit) {
    auto object = reader->read(at);
    if (!object || object->type != "commit") break;
    auto commit = parse_commit(object->content);
    if (!commit) break;
    if (commit->parents.empty()) return out;  // the root commit
    at = commit->parents.front();
    out.push_back(at);
  }
  if (static_cast<int>(out.size()) >= limit) return out;
  auto listed = git_output(repo, {"rev-list", "--first-parent",
                                  "--max-count=" + std::to_string(limit - out.size() + 1), at});
  if (!listed) return listed.error();
  std::size_t pos = 0;
  bool first = true;
  while (pos < listed->size()) {
    std::size_t end = listed->find('\n', pos);
    if (end == std::string::npos) end = listed->size();
    std::string oid = listed->substr(pos, end - pos);
    pos = end + 1;
    if (first) {  // `at` itself, listed already (or HEAD)
      first = false;
      continue;
    }
    if (!oid.empty()) out.push_back(oid);
  }
  return out;
}

std::string ago(std::int64_t us) {
  return format_duration(Duration{std::max<std::int64_t>(now_unix_us() - us, 0)}) + " ago";
}

}  // namespace

Result<RecoveryTarget> choose_target(const Repository& repo, const Head& head,
                                     const std::string& to,
                                     const Result<std::vector<HeadVerdict>>& verdicts) {
  if (!to.empty()) {
    // HEAD~N or a full commit id in-process; anything else (a branch, a tag) asks git.
    std::optional<std::string> oid;
    if (auto reader = ObjectReader::open(repo)) oid = resolve_commit(repo, head, to, *reader);
    if (!oid) oid = rev_parse_commit(repo, to);
    if (!oid) {
      return make_error(ExitCode::usage,
                        "--to " + to + " names no commit here (a branch, tag or commit id)");
    }
    return RecoveryTarget{to, *oid, "named with --to"};
  }
  auto parents = first_parents(repo, head.oid, kKnownGoodSearched);
  if (!parents) return parents.error();
  if (parents->empty()) {
    return make_error(ExitCode::refused,
                      "HEAD is the root commit: there is no earlier commit to recover to "
                      "(name one with --to)");
  }
  const std::string previous = parents->front();
  if (!verdicts) {
    return RecoveryTarget{"HEAD~1", previous,
                          "HEAD~1: the store could not be read (" + verdicts.error().message + ")"};
  }
  std::map<std::string, const HeadVerdict*> by_head;
  for (const HeadVerdict& v : *verdicts) by_head[v.head] = &v;
  for (std::size_t i = 0; i < parents->size(); ++i) {
    auto found = by_head.find((*parents)[i]);
    if (found == by_head.end()) continue;
    const HeadVerdict& v = *found->second;
    if (v.not_ok > 0 || v.alerted) continue;
    return RecoveryTarget{(*parents)[i].substr(0, 12), (*parents)[i],
                          "last known good: HEAD~" + std::to_string(i + 1) + ", " +
                              std::to_string(v.runs) + (v.runs == 1 ? " step" : " steps") +
                              " recorded at it, all within threshold, the " + "newest " +
                              ago(v.last_us) + ", and no open critical alert on them"};
  }
  return RecoveryTarget{"HEAD~1", previous,
                        "HEAD~1: the store knows no commit on HEAD's first-parent history whose "
                        "steps were all within threshold"};
}

}  // namespace perfguard
