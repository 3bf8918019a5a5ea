#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "store/journal.h"
#include "support.h"

using namespace perfguard;
using perfguard::test::TempDir;

namespace {

// Sets an environment variable for one scope, restoring the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

StepRecord record(std::uint64_t trace_id, const std::string& step) {
  StepRecord r;
  r.trace_id = trace_id;
  r.step = step;
  r.root.name = step;
  r.root.start_us = 1795447812123456;
  r.root.duration = Duration::micros(1500);
  r.root.children.push_back(Span{"add", r.root.start_us + 3, Duration::micros(700), 0, {}, {}});
  r.status = StepStatus::breach;
  r.threshold = Duration::millis(1);
  r.exit_code = 3;
  r.context.repo = "/srv/repo";
  r.context.tool = "perf-commit";
  r.labels = {{"note", "line\nbreak"}};
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    REQUIRE(end != std::string::npos);  // every line is complete
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

unsigned file_mode(const std::filesystem::path& p) {
  struct stat st;
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("the journal sits beside the store, named after it") {
  CHECK(journal_path_for("/x/perf.db") == "/x/perf.db.journal.jsonl");
  CHECK(journal_path_for("rel/dir/perf.db") == "rel/dir/perf.db.journal.jsonl");
}

TEST_CASE("the journal appends one JSON line per record, mode 0600") {
  TempDir tmp;
  auto store = tmp / "perf.db";
  auto written = append_to_journal(store, {record(0x1f, "rollback"), record(0x20, "validate")});
  REQUIRE_MESSAGE(written.ok(), (written.ok() ? "" : written.error().message));
  CHECK(*written == tmp / "perf.db.journal.jsonl");
  auto again = append_to_journal(store, {record(0x21, "commit")});
  REQUIRE(again.ok());
  CHECK(*again == *written);
  CHECK(file_mode(*written) == 0600);

  auto lines = lines_of(perfguard::test::read_file(*written));
  REQUIRE(lines.size() == 3);
  const char* steps[] = {"rollback", "validate", "commit"};
  const char* ids[] = {"000000000000001f", "0000000000000020", "0000000000000021"};
  for (int i = 0; i < 3; ++i) {
    CAPTURE(lines[i]);
    CHECK(lines[i].front() == '{');
    CHECK(lines[i].back() == '}');
    CHECK(lines[i].find(std::string(R"("trace_id":")") + ids[i] + "\"") != std::string::npos);
    CHECK(lines[i].find(std::string(R"("step":")") + steps[i] + "\"") != std::string::npos);
    CHECK(lines[i].find(R"("status":"breach")") != std::string::npos);
    CHECK(lines[i].find(R"("started_at":"2026-11-23T15:30:12.123456Z")") != std::string::npos);
    CHECK(lines[i].find(R"("threshold_us":1000)") != std::string::npos);
    CHECK(lines[i].find(R"("spans":[{"name":"add","offset_us":3,)") != std::string::npos);
    CHECK(lines[i].find(R"("labels":{"note":"line\nbreak"})") != std::string::npos);
  }
}

TEST_CASE("the journal falls back to the state directory when the store's cannot be created") {
  TempDir tmp;
  perfguard::test::write_file(tmp / "file", "not a directory");
  ScopedEnv xdg("XDG_STATE_HOME", (tmp / "state").string());
  auto written = append_to_journal(tmp / "file/perf.db", {record(1, "commit")});
  REQUIRE_MESSAGE(written.ok(), (written.ok() ? "" : written.error().message));
  CHECK(*written == tmp / "state/perfguard/journal.jsonl");
  CHECK(file_mode(tmp / "state/perfguard") == 0700);
  CHECK(file_mode(*written) == 0600);
  CHECK(lines_of(perfguard::test::read_file(*written)).size() == 1);
}

TEST_CASE("the journal falls back to ~/.local/state without XDG_STATE_HOME") {
  TempDir tmp;
  perfguard::test::write_file(tmp / "file", "not a directory");
  ScopedEnv xdg("XDG_STATE_HOME", std::nullopt);
  ScopedEnv home("HOME", (tmp / "home").string());
  auto written = append_to_journal(tmp / "file/perf.db", {record(1, "commit")});
  REQUIRE_MESSAGE(written.ok(), (written.ok() ? "" : written.error().message));
  CHECK(*written == tmp / "home/.local/state/perfguard/journal.jsonl");
  CHECK(file_mode(tmp / "home/.local/state/perfguard") == 0700);
}

TEST_CASE("the journal falls back when the store's directory is not writable") {
  if (::geteuid() == 0) {
    MESSAGE("skipped: root writes read-only directories; the CLI suites cover this as a user");
    return;
  }
  TempDir tmp;
  std::filesystem::create_directories(tmp / "locked");
  ::chmod((tmp / "locked").c_str(), 0500);
  ScopedEnv xdg("XDG_STATE_HOME", (tmp / "state").string());
  auto written = append_to_journal(tmp / "locked/perf.db", {record(1, "commit")});
  ::chmod((tmp / "locked").c_str(), 0700);
  REQUIRE_MESSAGE(written.ok(), (written.ok() ? "" : written.error().message));
  CHECK(*written == tmp / "state/perfguard/journal.jsonl");
}

TEST_CASE("the journal is a store error naming both places when neither can be written") {
  TempDir tmp;
  perfguard::test::write_file(tmp / "file", "not a directory");
  ScopedEnv xdg("XDG_STATE_HOME", (tmp / "file/state").string());
  auto written = append_to_journal(tmp / "file/perf.db", {record(1, "commit")});
  REQUIRE_FALSE(written.ok());
  CHECK(written.error().code == ExitCode::store);
  const std::string& m = written.error().message;
  CHECK(m.find("cannot write the journal: ") == 0);
  CHECK(m.find((tmp / "file/perf.db.journal.jsonl").string() + ": Not a directory") !=
        std::string::npos);
  CHECK(m.find((tmp / "file/state/perfguard/journal.jsonl").string() + ": Not a directory") !=
        std::string::npos);
}
