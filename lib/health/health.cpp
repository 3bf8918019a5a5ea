#include "health/health.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "health/figures.h"
#include "health/libgit2_handle.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

fs::path env_path(const char* name, fs::path fallback) {
  const char* v = std::getenv(name);
  return v && *v ? fs::path(v) : std::move(fallback);
}

}  // namespace

const char* to_string(Concern level) {
  switch (level) {
    case Concern::ok:
      return "ok";
    case Concern::info:
      return "info";
    case Concern::warning:
      return "warning";
  }
  return "info";
}

const HealthFigure* HealthReport::find(std::string_view name) const {
  for (const HealthFigure& f : figures) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Concern HealthReport::worst() const {
  const bool any = std::any_of(figures.begin(), figures.end(),
                               [](const HealthFigure& f) { return f.level == Concern::warning; });
  return any ? Concern::warning : Concern::ok;
}

Result<HealthReport> measure_health(const fs::path& repo_dir, const HealthOptions& options) {
  auto opened = health::open_repository(repo_dir);
  if (!opened) return opened.error();
  health::RepositoryHandle repo = std::move(*opened);

  HealthReport report;
  report.git_dir = health::directory_path(git_repository_path(repo.get()));
  report.bare = git_repository_is_bare(repo.get()) != 0;
  if (const char* wt = git_repository_workdir(repo.get()); wt && !report.bare) {
    report.work_tree = health::directory_path(wt);
  }
  report.deep = options.deep;
  const fs::path common_dir = health::directory_path(git_repository_commondir(repo.get()));
  const fs::path objects_dir = env_path("GIT_OBJECT_DIRECTORY", common_dir / "objects");
  // Errors name the repository: the tool adds only its own name.
  const std::string where = (report.bare ? report.git_dir : report.work_tree).string() + ": ";
  const auto fail = [&](const Error& e) { return make_error(e.code, where + e.message); };

  health::Measurements m;
  auto settings = health::read_git_settings(repo.get());
  if (!settings) return fail(settings.error());
  m.settings = *settings;

  auto objects = health::count_objects(objects_dir);
  if (!objects) return fail(objects.error());
  m.objects = *objects;

  // Deep mode counts every commit; otherwise the budget bounds the time a repository without
  // a commit-graph costs, but never stops short of the limit, so the level stays exact.
  health::CommitWalk walk{objects_dir, common_dir, m.settings.commit_graph, 0};
  if (!options.deep && options.commit_budget > 0) {
    const auto limit =
        static_cast<std::uint64_t>(std::max<std::int64_t>(options.limits.commits, 0));
    walk.parse_budget = std::max(options.commit_budget, limit);
  }
  auto commits = health::count_commits(repo.get(), walk);
  if (!commits) return fail(commits.error());
  m.commits = *commits;

  auto refs = health::count_refs(repo.get(), common_dir, report.git_dir);
  if (!refs) return fail(refs.error());
  m.refs = *refs;

  if (!report.bare) {
    auto index = health::count_index(env_path("GIT_INDEX_FILE", report.git_dir / "index"));
    if (!index) return fail(index.error());
    m.index = *index;
  }

  if (options.deep) {
    auto largest = health::find_largest_objects(repo.get(), options.largest, options.progress);
    if (!largest) return fail(largest.error());
    m.largest = std::move(*largest);
  }

  report.figures = health::judge_figures(m, options.limits);
  if (m.largest) {
    report.largest_blobs = std::move(m.largest->blobs);
    report.largest_trees = std::move(m.largest->trees);
  }
  return report;
}

}  // namespace perfguard
