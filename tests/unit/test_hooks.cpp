#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "hooks/commit_stamps.h"
#include "hooks/git_process.h"
#include "hooks/hook_records.h"
#include "hooks/installer.h"

namespace fs = std::filesystem;
using namespace perfguard;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char name[] = "/tmp/perfguard-hooks-XXXXXX";
    path = ::mkdtemp(name);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// This process stands in for a git: it is running, with its own start time.
GitProcess this_process() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string f;
  GitProcess git;
  git.pid = static_cast<int>(::getpid());
  for (int i = 3; i <= 22 && fields >> f; ++i) {
    if (i == 22) git.start_ticks = std::stoull(f);
  }
  return git;
}

}  // namespace

TEST_CASE("the commit is its hooks' time without the editor's") {
  CommitStamps stamps;
  stamps.head_before = std::string(40, 'a');
  stamps.pre_commit = Stamp{1000000, 5000000};
  stamps.before_editor = Stamp{1030000, 5030000};
  stamps.after_editor = Stamp{9030000, 13030000};  // eight seconds in the editor
  auto record = commit_record(stamps, Stamp{9050000, 13050000}, Duration::seconds(1));
  REQUIRE(record);
  CHECK(record->step == "commit");
  CHECK(record->root.duration == Duration::millis(50));
  CHECK(record->root.start_us == 5000000);
  REQUIRE(record->root.children.size() == 2);
  CHECK(record->root.children[0].name == "before-editor");
  CHECK(record->root.children[0].duration == Duration::millis(30));
  CHECK(record->root.children[1].name == "after-editor");
  CHECK(record->root.children[1].start_us == 13030000);
  CHECK(record->status == StepStatus::ok);
  CHECK(record->exit_code == 0);
  CHECK(record->head_before == stamps.head_before);

  auto slow = commit_record(stamps, Stamp{9050000, 13050000}, Duration::millis(40));
  REQUIRE(slow);
  CHECK(slow->status == StepStatus::breach);
  CHECK(slow->exit_code == 0);  // a hook never fails the commit

  stamps.pre_commit.reset();  // --no-verify: no pre-commit, no record
  CHECK_FALSE(commit_record(stamps, Stamp{9050000, 13050000}, Duration::seconds(1)));
}

TEST_CASE("only what a post hook claims is timed") {
  GitProcess git;
  const std::string a(40, '1'), b(40, '2'), zero(40, '0');
  git.subcommand = "checkout";
  CHECK(step_closed_by("post-checkout", {a, b, "1"}, git) == "checkout");
  CHECK_FALSE(step_closed_by("post-checkout", {a, b, "0"}, git));     // files
  CHECK_FALSE(step_closed_by("post-checkout", {zero, b, "1"}, git));  // a clone's first
  git.subcommand = "switch";
  CHECK(step_closed_by("post-checkout", {a, b, "1"}, git) == "checkout");
  git.subcommand = "rebase";
  CHECK_FALSE(step_closed_by("post-checkout", {a, b, "1"}, git));  // on a rebase's way
  CHECK(step_closed_by("post-rewrite", {"rebase"}, git) == "rebase");
  git.subcommand = "commit";
  CHECK_FALSE(step_closed_by("post-rewrite", {"amend"}, git));
  git.subcommand = "merge";
  CHECK(step_closed_by("post-merge", {"0"}, git) == "merge");
}

TEST_CASE("stamps belong to one git process and are taken once") {
  TempDir dir;
  const GitProcess git = this_process();
  REQUIRE(git.start_ticks > 0);
  CHECK(is_running(git));
  REQUIRE(start_commit_stamps(dir.path, git, "abc", Stamp{1, 2}));
  REQUIRE(add_commit_stamp(dir.path, git, "before-editor", Stamp{3, 4}));
  REQUIRE(add_commit_stamp(dir.path, git, "after-editor", Stamp{5, 6}));

  GitProcess other = git;  // the same pid, another start: a reused pid
  other.start_ticks += 1;
  CHECK_FALSE(take_commit_stamps(dir.path, other));  // and the file is gone
  CHECK_FALSE(fs::exists(commit_stamps_path(dir.path, git)));

  REQUIRE(start_commit_stamps(dir.path, git, "abc", Stamp{1, 2}));
  REQUIRE(add_commit_stamp(dir.path, git, "before-editor", Stamp{3, 4}));
  REQUIRE(add_commit_stamp(dir.path, git, "after-editor", Stamp{5, 6}));
  auto stamps = take_commit_stamps(dir.path, git);
  REQUIRE(stamps);
  CHECK(stamps->head_before == "abc");
  CHECK(stamps->after_editor->monotonic_us == 5);
  CHECK_FALSE(take_commit_stamps(dir.path, git));  // used once

  // Without pre-commit nothing is added to.
  REQUIRE(add_commit_stamp(dir.path, git, "before-editor", Stamp{3, 4}));
  CHECK_FALSE(fs::exists(commit_stamps_path(dir.path, git)));
}

TEST_CASE("a stale stamp of an ended git is removed by the next pre-commit") {
  TempDir dir;
  GitProcess ended{999999999, 1, "commit"};  // no such process
  fs::create_directories(dir.path / "hook-stamps");
  std::ofstream(commit_stamps_path(dir.path, ended)) << "git=999999999 1\npre-commit=1 2\n";
  REQUIRE(start_commit_stamps(dir.path, this_process(), "", Stamp{1, 2}));
  CHECK_FALSE(fs::exists(commit_stamps_path(dir.path, ended)));
}

TEST_CASE("the installed script names the binary and the chained hook, quoted") {
  HookPlace place;
  place.hooks_dir = "/h";
  place.binary = "/opt/it's/perfguard-hooks";
  const std::string s = hook_script(place, "pre-commit", "/saved/pre-commit");
  CHECK(s.starts_with("#!/bin/sh\n# perfguard-hooks: pre-commit hook"));
  CHECK(s.find("perfguard='/opt/it'\\''s/perfguard-hooks'\n") != std::string::npos);
  CHECK(s.find("chained='/saved/pre-commit'\n") != std::string::npos);
  CHECK(s.find("\"$perfguard\" run pre-commit \"$@\" </dev/null") != std::string::npos);
  // pre-commit stamps before the user's hook runs; post-commit records after it.
  CHECK(s.find("perfguard_run \"$@\"\nif") != std::string::npos);
  const std::string post = hook_script(place, "post-commit", "");
  CHECK(post.find("fi\nperfguard_run \"$@\"\nexit $status") != std::string::npos);
  CHECK(post.find("git rev-parse") == std::string::npos);
  place.global = true;
  CHECK(hook_script(place, "post-commit", "").find("git rev-parse --git-common-dir") !=
        std::string::npos);
}
