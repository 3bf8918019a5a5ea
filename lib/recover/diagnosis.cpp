#include "recover/diagnosis.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <utility>

#include "git/git.h"
#include "health/commit_graph.h"
#include "health/git_settings.h"
#include "health/libgit2_handle.h"
#include "process/runner.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

// The index header's version (bytes 4 to 7, big-endian), or nothing without an index.
std::optional<int> index_version(const fs::path& index_file) {
  std::ifstream in(index_file, std::ios::binary);
  unsigned char header[8];
  if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return std::nullopt;
  return static_cast<int>((header[4] << 24) | (header[5] << 16) | (header[6] << 8) | header[7]);
}

std::optional<LoadAverage> load_average() {
  std::ifstream in("/proc/loadavg");
  LoadAverage load;
  if (!(in >> load.one >> load.five >> load.fifteen)) return std::nullopt;
  return load;
}

// What the git on PATH says of itself: its version and whether it has the fsmonitor daemon.
void describe_git(RepositoryFacts& facts) {
  ChildCommand command;
  command.argv = {"git", "version", "--build-options"};
  command.out = StreamMode::capture;
  command.err = StreamMode::capture;
  auto outcome = run_child(command);
  if (!outcome || !outcome->success()) return;
  const std::string& out = outcome->out;
  const std::string prefix = "git version ";
  if (out.rfind(prefix, 0) == 0) {
    facts.git_version = out.substr(prefix.size(), out.find('\n') - prefix.size());
  }
  facts.fsmonitor_daemon = out.find("feature: fsmonitor--daemon") != std::string::npos;
}

fs::path env_path(const char* name, fs::path fallback) {
  const char* v = std::getenv(name);
  return v && *v ? fs::path(v) : std::move(fallback);
}

}  // namespace

std::optional<bool> git_bool(const std::string& text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "true" || t == "yes" || t == "on") return true;
  if (t.empty() || t == "false" || t == "no" || t == "off") return false;
  long long n = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec == std::errc() && end == t.data() + t.size()) return n != 0;
  return std::nullopt;
}

Result<RepositoryFacts> gather_facts(const fs::path& repo_dir) {
  RepositoryFacts facts;
  auto health = measure_health(repo_dir, {});
  if (!health) return health.error();
  facts.health = std::move(*health);

  auto repo = health::open_repository(repo_dir);
  if (!repo) return repo.error();
  auto settings = health::read_git_settings(repo->get());
  if (!settings) return settings.error();
  facts.settings = settings->written;
  const fs::path common_dir = health::directory_path(git_repository_commondir(repo->get()));
  const fs::path objects_dir = env_path("GIT_OBJECT_DIRECTORY", common_dir / "objects");
  if (auto graph = health::CommitGraph::open(objects_dir)) {
    facts.commit_graph = true;
    facts.commit_graph_layers = graph->layers();
  }
  if (!facts.health.bare) {
    facts.index_version = index_version(env_path("GIT_INDEX_FILE", facts.health.git_dir / "index"));
  }
  describe_git(facts);
  if (struct statvfs st; ::statvfs(facts.health.git_dir.c_str(), &st) == 0) {
    facts.disk_free = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
    facts.disk_total = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
  }
  facts.load = load_average();
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  facts.cpus = cpus > 0 ? static_cast<unsigned>(cpus) : 1;
  return facts;
}

}  // namespace perfguard
