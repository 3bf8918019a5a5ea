#include "health/figures.h"

#include <string>
#include <utility>

#include "core/duration.h"

namespace perfguard::health {

namespace {

constexpr const char* kGcFix = "git maintenance run --task=gc";
constexpr const char* kGraphFix = "git commit-graph write --reachable";
// A count that parsed this many commits outside a commit-graph had none, or a stale one:
// about 15 ms of every history walk that a fresh graph would save.
constexpr std::uint64_t kParsedForGraphFix = 1'000;

// A limit and where it comes from.
struct Limit {
  std::optional<double> value;
  std::string reference;
};

// A limit of HealthLimits: named by its source while it has its default, else "configured".
Limit limit_of(std::int64_t limit, std::int64_t default_limit, const std::string& source,
               bool bytes) {
  if (limit <= 0) return {};
  const std::string shown = bytes ? format_size(limit) : std::to_string(limit);
  if (limit == default_limit) return {static_cast<double>(limit), source + " (" + shown + ")"};
  return {static_cast<double>(limit), "configured (" + shown + ")"};
}

// A limit of git's automatic gc: perfguard's own when set, else the repository's setting,
// else git's default. A setting of 0 or less turns git's automatic gc off; the loose objects
// and packs it would have dealt with pile up, so git's default judges them instead.
Limit gc_limit(std::optional<std::int64_t> configured, std::optional<std::int64_t> setting,
               const char* key, std::int64_t git_default) {
  if (configured) return limit_of(*configured, *configured, "configured", false);
  const std::string key_s = key;
  if (!setting) {
    return {static_cast<double>(git_default),
            key_s + " (" + std::to_string(git_default) + ", git's default)"};
  }
  if (*setting <= 0) {
    return {static_cast<double>(git_default),
            "git's default " + key_s + " (" + std::to_string(git_default) + "); " + key_s + " is " +
                std::to_string(*setting) + " here: automatic gc is off"};
  }
  return {static_cast<double>(*setting), key_s + " (" + std::to_string(*setting) + ")"};
}

HealthFigure figure(std::string name, double value, const char* unit, const Limit& limit = {}) {
  HealthFigure f;
  f.name = std::move(name);
  f.value = value;
  f.unit = unit;
  f.limit = limit.value;
  f.reference = limit.reference;
  f.level = !limit.value ? Concern::info : value >= *limit.value ? Concern::warning : Concern::ok;
  return f;
}

// What helps when a figure is at warning: a command (or none) and a sentence.
void advise(HealthFigure& f, std::string fix, std::string advice) {
  if (f.level != Concern::warning) return;
  f.fix = std::move(fix);
  f.advice = std::move(advice);
}

}  // namespace

std::vector<HealthFigure> judge_figures(const Measurements& m, const HealthLimits& limits) {
  std::vector<HealthFigure> figures;
  const HealthLimits seed;
  const auto d = [](std::uint64_t v) { return static_cast<double>(v); };

  const Limit loose_limit = gc_limit(limits.loose_objects, m.settings.gc_auto, "gc.auto", 6700);
  const Limit packs_limit =
      gc_limit(limits.packs, m.settings.gc_auto_pack_limit, "gc.autoPackLimit", 50);
  HealthFigure loose = figure("loose_objects", d(m.objects.loose_objects), "count", loose_limit);
  HealthFigure packs = figure("packs", d(m.objects.packs), "count", packs_limit);
  const bool gc_helps = loose.level == Concern::warning || packs.level == Concern::warning;

  HealthFigure size =
      figure("repository_size", d(m.objects.loose_size + m.objects.pack_size), "bytes",
             limit_of(limits.repository_size, seed.repository_size, "seed", true));
  advise(size, gc_helps ? kGcFix : "",
         "clones, fetches and repacks grow with it; the largest blobs (deep mode) show what "
         "git lfs or git filter-repo could move out of history");
  figures.push_back(std::move(size));

  advise(loose, kGcFix,
         "each loose object is a file of its own to find and open; gc packs them, as git's "
         "automatic gc does at gc.auto");
  figures.push_back(std::move(loose));
  figures.push_back(figure("loose_size", d(m.objects.loose_size), "bytes"));
  figures.push_back(figure("packed_objects", d(m.objects.packed_objects), "count"));
  advise(packs, "git repack -ad",
         "every object lookup searches the packs one by one; repacking makes them one");
  figures.push_back(std::move(packs));
  figures.push_back(figure("pack_size", d(m.objects.pack_size), "bytes"));

  HealthFigure garbage = figure("garbage", d(m.objects.garbage), "count",
                                limit_of(limits.garbage, seed.garbage, "none expected", false));
  advise(garbage, "git count-objects -v",
         "files git cannot use, left in the object directory by an interrupted fetch, gc or "
         "copy; count-objects names each on stderr: remove them once nothing git runs uses them");
  figures.push_back(std::move(garbage));
  figures.push_back(figure("garbage_size", d(m.objects.garbage_size), "bytes"));

  HealthFigure history = figure("commits", d(m.commits.commits), "count",
                                limit_of(limits.commits, seed.commits, "seed", false));
  history.lower_bound = !m.commits.complete;
  if (!m.commits.complete || m.commits.parsed >= kParsedForGraphFix) {
    advise(history, kGraphFix,
           m.commits.graph
               ? "the commit-graph lacks the newest commits, so every history walk (log, "
                 "merge-base, rev-list) parses them one by one; rewriting it makes them fast"
               : "there is no commit-graph, so every history walk (log, merge-base, rev-list) "
                 "parses each commit (git rev-list --count HEAD: 0.9 s for git's 82,000 "
                 "commits without one, 0.05 s with one)");
    if (history.lower_bound) {
      history.advice += "; this count stopped after " + std::to_string(m.commits.parsed) +
                        " commits read one by one: with a commit-graph it is exact";
    }
  } else {
    advise(history, "",
           "a long history slows walks that a commit-graph cannot shorten (blame, log of a "
           "path); CI can clone with --depth");
  }
  figures.push_back(std::move(history));

  HealthFigure ref_count =
      figure("refs", d(m.refs.refs), "count", limit_of(limits.refs, seed.refs, "git-sizer", false));
  advise(ref_count, "git fetch --prune",
         "every fetch and push lists every ref; delete the branches and tags nobody needs "
         "(git fetch --prune drops remote-tracking refs whose branch is gone)");
  figures.push_back(std::move(ref_count));
  HealthFigure loose_refs = figure("loose_refs", d(m.refs.loose), "count",
                                   limit_of(limits.loose_refs, seed.loose_refs, "seed", false));
  advise(loose_refs, "git pack-refs --all",
         "each loose ref is a file to read whenever refs are listed; packed, they are one file");
  figures.push_back(std::move(loose_refs));

  if (m.index) {
    HealthFigure entries =
        figure("index_entries", d(m.index->entries), "count",
               limit_of(limits.index_entries, seed.index_entries, "git-sizer", false));
    advise(entries, m.settings.untracked_cache ? "" : "git config core.untrackedCache true",
           "git status, git add -A and git commit check every entry (measured: add and commit "
           "2.3 s at 100,000 entries); the untracked cache took git status there from 1.7 s "
           "to 0.4 s, and git sparse-checkout shrinks the index itself");
    figures.push_back(std::move(entries));
    // Informative: reading 11.6 MB of index costs 0.07 s (git ls-files) where git status
    // over its 100,000 entries costs 1.7 s, so the entry count carries the limit.
    figures.push_back(figure("index_size", d(m.index->size), "bytes"));
  }

  if (m.largest) {
    HealthFigure blob =
        figure("largest_blob", m.largest->blobs.empty() ? 0 : d(m.largest->blobs[0].size), "bytes",
               limit_of(limits.largest_blob, seed.largest_blob, "git-sizer", true));
    advise(blob, "",
           "a blob this large is in every clone for ever; git lfs or git filter-repo can move "
           "it out of history (a rewrite everyone must fetch again)");
    figures.push_back(std::move(blob));
    HealthFigure tree = figure(
        "largest_tree_entries", m.largest->trees.empty() ? 0 : d(m.largest->trees[0].entries),
        "count",
        limit_of(limits.largest_tree_entries, seed.largest_tree_entries, "git-sizer", false));
    advise(tree, "",
           "every change in that directory writes a new tree this large; subdirectories keep "
           "trees small");
    figures.push_back(std::move(tree));
  }
  return figures;
}

}  // namespace perfguard::health
