#include "trace/context.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "core/version.h"

namespace perfguard {

namespace {

std::string get(const std::map<std::string, std::string>& env, const char* name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

std::string getenv_str(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

CiJob detect_ci(const std::map<std::string, std::string>& env) {
  if (get(env, "GITHUB_ACTIONS") == "true") {
    std::string job = get(env, "GITHUB_RUN_ID");
    if (!get(env, "GITHUB_JOB").empty()) job += (job.empty() ? "" : "/") + get(env, "GITHUB_JOB");
    return {"github", job};
  }
  if (!get(env, "GITLAB_CI").empty()) return {"gitlab", get(env, "CI_JOB_ID")};
  if (!get(env, "BUILDKITE").empty()) return {"buildkite", get(env, "BUILDKITE_JOB_ID")};
  if (!get(env, "JENKINS_URL").empty()) {
    std::string tag = get(env, "BUILD_TAG");
    return {"jenkins", tag.empty() ? get(env, "BUILD_NUMBER") : tag};
  }
  std::string ci = get(env, "CI");
  if (!ci.empty() && ci != "false" && ci != "0") return {"ci", ""};
  return {};
}

CiJob detect_ci() {
  std::map<std::string, std::string> env;
  for (const char* name :
       {"GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITHUB_JOB", "GITLAB_CI", "CI_JOB_ID", "BUILDKITE",
        "BUILDKITE_JOB_ID", "JENKINS_URL", "BUILD_TAG", "BUILD_NUMBER", "CI"}) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  return detect_ci(env);
}

RunContext process_context(const std::string& tool) {
  RunContext ctx;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) ctx.host = host;
  ctx.user = getenv_str("USER");
  if (ctx.user.empty()) {
    if (const passwd* pw = getpwuid(geteuid())) ctx.user = pw->pw_name;
  }
  CiJob ci = detect_ci();
  ctx.ci_provider = ci.provider;
  ctx.ci_job = ci.job;
  ctx.tool = tool;
  ctx.tool_version = kVersion;
  return ctx;
}

}  // namespace perfguard
