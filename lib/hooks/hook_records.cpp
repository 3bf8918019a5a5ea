#include "hooks/hook_records.h"

#include <algorithm>

namespace perfguard {

namespace {

Span span_between(const std::string& name, const Stamp& from, const Stamp& to) {
  Span span;
  span.name = name;
  span.start_us = from.wall_us;
  span.duration = Duration::micros(std::max<std::int64_t>(0, to.monotonic_us - from.monotonic_us));
  return span;
}

}  // namespace

std::optional<StepRecord> commit_record(const CommitStamps& stamps, const Stamp& post_commit,
                                        Duration threshold) {
  if (!stamps.pre_commit || !stamps.before_editor || !stamps.after_editor) return std::nullopt;
  StepRecord record;
  record.step = "commit";
  record.root.name = "commit";
  record.root.start_us = stamps.pre_commit->wall_us;
  record.root.children = {span_between("before-editor", *stamps.pre_commit, *stamps.before_editor),
                          span_between("after-editor", *stamps.after_editor, post_commit)};
  record.root.duration = record.root.children[0].duration + record.root.children[1].duration;
  record.threshold = threshold;
  record.status = record.root.duration > threshold ? StepStatus::breach : StepStatus::ok;
  record.exit_code = 0;
  record.head_before = stamps.head_before;
  record.labels = {{"source", "hook"}, {"timing", "hook-stamps"}};
  return record;
}

std::optional<std::string> step_closed_by(const std::string& hook,
                                          const std::vector<std::string>& args,
                                          const GitProcess& git) {
  if (hook == "post-merge") {
    // git merge, or the merge git pull runs; not a merge inside a rebase or the like.
    if (git.subcommand == "merge" || git.subcommand == "pull") return "merge";
    return std::nullopt;
  }
  if (hook == "post-checkout") {
    // args: old HEAD, new HEAD, 1 for a branch checkout (0: files). A clone's first checkout
    // comes from all zeros; a rebase or worktree add checks out on its way.
    if (args.size() < 3 || args[2] != "1") return std::nullopt;
    if (args[0].find_first_not_of('0') == std::string::npos) return std::nullopt;
    if (git.subcommand != "checkout" && git.subcommand != "switch") return std::nullopt;
    return "checkout";
  }
  if (hook == "post-rewrite") {
    if (!args.empty() && args[0] == "rebase" && git.subcommand == "rebase") return "rebase";
    return std::nullopt;  // amend: post-commit recorded the commit
  }
  return std::nullopt;
}

StepRecord git_process_record(const std::string& step, const GitProcess& git, const Stamp& now) {
  StepRecord record;
  record.step = step;
  record.root.name = step;
  record.root.duration = git_process_age(git);
  record.root.start_us = now.wall_us - record.root.duration.us;
  record.status = StepStatus::ok;
  record.exit_code = 0;
  record.labels = {{"source", "hook"}, {"timing", "process-start"}};
  return record;
}

}  // namespace perfguard
