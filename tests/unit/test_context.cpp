#include <doctest/doctest.h>

#include "trace/context.h"

using namespace perfguard;

TEST_CASE("CI providers are told apart by their variables") {
  CHECK(detect_ci({}).provider.empty());
  CHECK(detect_ci({{"CI", "false"}}).provider.empty());
  auto gh = detect_ci({{"GITHUB_ACTIONS", "true"},
                       {"GITHUB_RUN_ID", "7"},
                       {"GITHUB_JOB", "build"},
                       {"CI", "true"}});
  CHECK(gh.provider == "github");
  CHECK(gh.job == "7/build");
  auto gl = detect_ci({{"GITLAB_CI", "true"}, {"CI_JOB_ID", "99"}});
  CHECK(gl.provider == "gitlab");
  CHECK(gl.job == "99");
  CHECK(detect_ci({{"JENKINS_URL", "http://j"}, {"BUILD_TAG", "jenkins-x-1"}}).job ==
        "jenkins-x-1");
  CHECK(detect_ci({{"BUILDKITE", "true"}, {"BUILDKITE_JOB_ID", "b1"}}).provider == "buildkite");
  auto plain = detect_ci({{"CI", "true"}});
  CHECK(plain.provider == "ci");
  CHECK(plain.job.empty());
}

TEST_CASE("the process context names host, user and tool") {
  RunContext ctx = process_context("perf-commit");
  CHECK_FALSE(ctx.host.empty());
  CHECK_FALSE(ctx.user.empty());
  CHECK(ctx.tool == "perf-commit");
  CHECK_FALSE(ctx.tool_version.empty());
}
