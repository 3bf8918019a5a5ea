#pragma once
// `perf-recover optimize`: the recommendations applied through the git executable, as a
// person would type them (their own git, config and hooks apply), and maintenance scheduled.
// Settings go to the repository's own config only, never to the user's global config; no
// step writes the index or resets (DESIGN.md, "Talking to git").

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/result.h"
#include "git/repository.h"
#include "recover/recommendations.h"

namespace perfguard {

struct AppliedRecommendation {
  Recommendation recommendation;
  bool ok = false;
  std::string error;  // git's message when it failed
  Duration took;
};

// Runs each recommendation's command in the repository, in rank order, each whether or not
// the one before worked. `progress` (when set) hears each before it runs. A command that is
// not a `git config` of the repository or a maintenance command is refused (usage) before
// anything runs.
Result<std::vector<AppliedRecommendation>> apply_recommendations(
    const Repository& repo, const std::vector<Recommendation>& recommendations,
    const std::function<void(const Recommendation&)>& progress = {});

// The repository's settings that the recommendations set, as `git -c` would give them to a
// git that does not read the repository's config (a throwaway clone): KEY=VALUE pairs.
std::vector<std::pair<std::string, std::string>> recommended_settings(
    const std::vector<Recommendation>& recommendations);

struct MaintenanceSchedule {
  bool registered = false;           // `git maintenance start` did it
  std::string why_not;               // git's message when it could not
  std::vector<std::string> crontab;  // the lines to add instead (crontab -e)
};

// Registers the repository's background maintenance with `git maintenance start` (git then
// adds it to the user's maintenance.repo list and sets up systemd timers, launchd or cron);
// where git cannot, the crontab lines that do the same: daily `git gc --auto`, weekly
// `git repack -ad`, monthly `git fsck --full`.
MaintenanceSchedule schedule_maintenance(const Repository& repo);

// The crontab lines for the repository at `dir`.
std::vector<std::string> crontab_lines(const std::filesystem::path& dir);

}  // namespace perfguard
