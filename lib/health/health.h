#pragma once
// A repository's health, measured the way git-sizer and `git count-objects -v` measure it:
// the figures that make git's everyday steps slow (loose objects, packs, history, refs, the
// index) and, on request, the largest objects. `perf-alerts health` prints and records them.
//
// Read only: nothing here writes to the repository. It reads git's files (object directory,
// commit-graph, index header) and asks libgit2 the rest, so only perfguard_health links
// libgit2 and the hot-path tools never load it.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace perfguard {

// ok: below its limit. info: no limit applies; the figure informs. warning: at or above
// its limit.
enum class Concern { ok, info, warning };
const char* to_string(Concern level);

// One measured figure. Its name is a stable contract (snake_case, never renamed).
struct HealthFigure {
  std::string name;  // "loose_objects"
  double value = 0;  // in `unit`
  std::string unit;  // "count" or "bytes"
  std::optional<double> limit;
  Concern level = Concern::info;
  std::string reference;  // where the limit comes from: "gc.auto (6700)", "seed (100MB)"
  std::string fix;        // the command that helps; "" when ok or when no command helps
  std::string advice;     // one sentence for a person: why it matters, what to do
  // The value is a lower bound: counting stopped early (see HealthOptions::commit_budget).
  bool lower_bound = false;
};

// A blob or tree that deep mode ranks among the largest.
struct LargeObject {
  std::string oid;            // 40 hex digits
  std::uint64_t size = 0;     // bytes of its content, as `git cat-file -s` says
  std::uint64_t entries = 0;  // a tree's entries (0 for a blob)
  // Where HEAD's tree holds it, as a revision git reads (`HEAD:src/big.bin`, `HEAD:` for
  // the root tree); empty when HEAD's tree does not hold it (history, other branches).
  std::string path;
};

// The limits figures are judged against. A figure reaches `warning` at or above its limit.
// A limit of 0 judges nothing: the figure is then `info`.
struct HealthLimits {
  // Loose plus packed bytes (the seed's 100 MB). Clones and repacks grow with it.
  std::int64_t repository_size = 100'000'000;
  // Commits in HEAD's history: the seed's limit, 1,000, meant to be configured per
  // repository; what it guards is the speed of history walks (log, merge-base, rev-list).
  std::int64_t commits = 1'000;
  // Unset: the repository's gc.auto, as `git config` reads it (git's default 6700), the count
  // at which git's automatic gc packs loose objects.
  std::optional<std::int64_t> loose_objects;
  // Unset: the repository's gc.autoPackLimit (git's default 50), the pack count at which
  // git's automatic gc repacks. Every object lookup searches every pack.
  std::optional<std::int64_t> packs;
  // Any file git cannot use in the object directory (left by an interrupted fetch or gc).
  std::int64_t garbage = 1;
  // Entries in the index. git add -A and git commit check every entry: with git 2.39 on a
  // small machine they took 2.3 s at 100,000 entries and 0.3 s at 10,000, so about 50,000
  // is where the commit step's 1 s threshold is reached. It is also git-sizer's first level
  // of concern for files in a checkout.
  std::int64_t index_entries = 50'000;
  // Refs, loose and packed: git-sizer's first level of concern (25,000). Every fetch and
  // push lists them all.
  std::int64_t refs = 25'000;
  // Loose refs: each is a file to open whenever refs are listed, where packed refs are one
  // file; `git gc` packs them, so a thousand means gc has not run for a long time.
  std::int64_t loose_refs = 1'000;
  // --deep only: git-sizer's first levels of concern for the largest blob (10 MB) and the
  // tree with the most entries (2,500).
  std::int64_t largest_blob = 10'000'000;
  std::int64_t largest_tree_entries = 2'500;
};

struct HealthOptions {
  HealthLimits limits;
  // Also read every object's header for the largest blobs and trees (seconds on a large
  // repository, where the rest takes milliseconds), and count the commits without a budget.
  bool deep = false;
  std::size_t largest = 10;  // how many blobs and trees deep mode lists
  // Commits the count may parse from the object database (those a commit-graph does not
  // hold) before it stops and reports a lower bound: 10,000 took 0.15 to 0.2 s in git's own
  // history on a busy 2-core machine. The count always goes on to the commits limit, so the
  // level is exact. 0: no budget.
  std::uint64_t commit_budget = 10'000;
  // Deep mode's progress, over two passes that each go from 0 to their end: (headers read,
  // objects), then (trees read, trees), the second ending early once no tree left can rank.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct HealthReport {
  std::filesystem::path git_dir;    // the repository's git directory
  std::filesystem::path work_tree;  // empty when bare
  bool bare = false;
  bool deep = false;
  // In this order (the object directory's figures are local: alternates are not counted,
  // as in `git count-objects -v`):
  //   repository_size       bytes  loose_size + pack_size
  //   loose_objects         count  loose objects (count-objects "count")
  //   loose_size            bytes  their disk usage, st_blocks x 512 ("size" is this / 1024)
  //   packed_objects        count  objects in packs, from the .idx headers ("in-pack")
  //   packs                 count  packs with a usable .idx ("packs")
  //   pack_size             bytes  .pack and .idx file sizes ("size-pack" is this / 1024)
  //   garbage               count  files git cannot use there ("garbage")
  //   garbage_size          bytes  their file sizes ("size-garbage" is this / 1024)
  //   commits               count  `git rev-list --count HEAD` (0 when HEAD is unborn)
  //   refs                  count  `git for-each-ref | wc -l`
  //   loose_refs            count  files under refs/
  //   index_entries         count  the index header's count (unless bare)
  //   index_size            bytes  the index file (unless bare)
  //   largest_blob          bytes  deep mode: largest_blobs[0].size, 0 when there is none
  //   largest_tree_entries  count  deep mode: largest_trees[0].entries, 0 when none
  std::vector<HealthFigure> figures;
  std::vector<LargeObject> largest_blobs;  // deep only; the largest first
  std::vector<LargeObject> largest_trees;  // deep only; the most entries first

  const HealthFigure* find(std::string_view name) const;
  // warning when any figure is at warning, else ok.
  Concern worst() const;
};

// Measures the repository at or above `repo_dir` (a work tree, a subdirectory of one, or a
// git directory; bare repositories too), found as git finds it: GIT_CEILING_DIRECTORIES,
// GIT_INDEX_FILE and GIT_OBJECT_DIRECTORY are honoured (GIT_DIR is not: the path says
// where). Errors: not in a repository (usage), a damaged pack index, index or commit, an
// unreadable directory, a config value that is not a number.
Result<HealthReport> measure_health(const std::filesystem::path& repo_dir,
                                    const HealthOptions& options);

}  // namespace perfguard
