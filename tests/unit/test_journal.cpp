#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <sqlite3.h>
#include <algorithm>
#include "exchange/exchange.h"
#include "store/journal.h"
#include "store/store.h"
#include "support.h"

using namespace perfguard;
using perfguard::test::query_int;
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

Store open_store(const std::filesystem::path& path) {
  auto store = Store::open(StoreOptions{path});
  REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().message));
  return std::move(store.value());
}

// Takes the store's journals back as `perf-baseline import --format journal` does.
ImportSummary import_journal(Store& store, bool skip_bad = false) {
  ImportRequest request;
  request.format = ImportFormat::journal;
  request.skip_bad = skip_bad;
  request.options.now_us = 1795447812123456;
  ImportSummary summary;
  Status s = import_records(store, request, summary);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  return summary;
}

std::int64_t count_rows(Store& store, const std::string& sql) {
  return query_int(store.path(), sql);
}

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
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

// ---------------------------------------------------------------------------------------
// Faults: a write cut short, a writer killed mid-line

TEST_CASE("a journal write cut short by a file size limit is undone; the record goes on") {
  TempDir tmp;
  ScopedEnv xdg("XDG_STATE_HOME", (tmp / "state").string());
  auto store = tmp / "perf.db";
  REQUIRE(append_to_journal(store, {record(1, "commit")}));
  const auto journal = journal_path_for(store);
  const auto before = perfguard::test::read_file(journal);

  // A real short write: the kernel writes up to the limit, then fails with EFBIG, as a full
  // disk does with ENOSPC.
  struct rlimit old_limit;
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = old_limit;
  limit.rlim_cur = before.size() + 100;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
  auto written = append_to_journal(store, {record(2, "commit")});
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);

  REQUIRE_MESSAGE(written.ok(), (written.ok() ? "" : written.error().message));
  CHECK(*written == tmp / "state/perfguard/journal.jsonl");
  CHECK(perfguard::test::read_file(journal) == before);  // cut back: no half record

  REQUIRE(append_to_journal(store, {record(3, "commit")}));
  CHECK(lines_of(perfguard::test::read_file(journal)).size() == 2);
  Store s = open_store(store);
  ImportSummary summary = import_journal(s);
  CHECK(summary.imported == 3);
  CHECK(summary.bad == 0);
}

TEST_CASE("a journal ending in half a line gets the next record on a line of its own") {
  TempDir tmp;
  auto store = tmp / "perf.db";
  REQUIRE(append_to_journal(store, {record(1, "commit"), record(2, "commit")}));
  const auto journal = journal_path_for(store);
  // As a writer killed mid-write leaves it: the second record cut in half.
  const auto whole = perfguard::test::read_file(journal);
  std::filesystem::resize_file(journal, whole.size() - 40);
  REQUIRE(append_to_journal(store, {record(3, "commit")}));
  auto lines = lines_of(perfguard::test::read_file(journal));
  REQUIRE(lines.size() == 3);
  CHECK(lines[2].find(R"("trace_id":"0000000000000003")") != std::string::npos);

  Store s = open_store(store);
  ImportSummary summary = import_journal(s, /*skip_bad=*/true);
  CHECK(summary.imported == 2);
  CHECK(summary.bad == 1);
  CHECK(count_rows(s, "SELECT count(*) FROM steps") == 2);
}

// ---------------------------------------------------------------------------------------
// What import takes

TEST_CASE("a rollback's snapshot row travels in the journal and comes back with it") {
  TempDir tmp;
  auto store = tmp / "perf.db";
  SnapshotRow row{"20261123-153012-abc", std::string(40, 'a'), std::string(40, 'b'),       "main",
                  1795447812123456,      "perf-rollback",      "before rollback to HEAD~1"};
  REQUIRE(append_to_journal(store, {record(1, "rollback"), record(1, "validate")}, row));
  auto lines = lines_of(perfguard::test::read_file(journal_path_for(store)));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find(R"("snapshot":{"id":"20261123-153012-abc",)") != std::string::npos);
  CHECK(lines[1].find("snapshot") == std::string::npos);

  Store s = open_store(store);
  ImportSummary summary = import_journal(s);
  CHECK(summary.imported == 2);
  CHECK(summary.snapshots == 1);
  CHECK(count_rows(s,
                   "SELECT count(*) FROM snapshots WHERE id = '20261123-153012-abc' AND "
                   "branch = 'main' AND tool = 'perf-rollback' AND created_us = "
                   "1795447812123456") == 1);
}

TEST_CASE("the fallback journal gives each store its own records and keeps the others") {
  TempDir tmp;
  ScopedEnv xdg("XDG_STATE_HOME", (tmp / "state").string());
  perfguard::test::write_file(tmp / "file", "not a directory");
  // Neither store's directory can hold a journal: both go to the one fallback journal.
  const auto a = tmp / "file/a.db", b = tmp / "file/b.db";
  REQUIRE(append_to_journal(a, {record(1, "commit")}));
  REQUIRE(append_to_journal(b, {record(2, "commit"), record(3, "commit")}));
  REQUIRE(append_to_journal(a, {record(4, "commit")}));
  const auto fallback = tmp / "state/perfguard/journal.jsonl";
  CHECK(lines_of(perfguard::test::read_file(fallback)).size() == 4);

  // The stores are opened where they can be; the journal names the path it was meant for.
  std::filesystem::remove(tmp / "file");
  std::filesystem::create_directories(tmp / "file");
  {
    Store s = open_store(a);
    ImportSummary summary = import_journal(s);
    CHECK(summary.imported == 2);
    CHECK(summary.other_stores == 2);
    CHECK(count_rows(s, "SELECT count(*) FROM steps") == 2);
    // Named, the fallback file gives this store nothing more: the rest is b's.
    ImportRequest named;
    named.format = ImportFormat::journal;
    named.input = fallback;
    ImportSummary by_name;
    REQUIRE(import_records(s, named, by_name));
    CHECK(by_name.imported == 0);
    CHECK(by_name.other_stores == 2);
    CHECK(count_rows(s, "SELECT count(*) FROM steps") == 2);
  }
  auto left = lines_of(perfguard::test::read_file(fallback));
  REQUIRE(left.size() == 2);
  for (const auto& line : left) CHECK(line.find(journal_store_key(b)) != std::string::npos);
  {
    Store s = open_store(b);
    ImportSummary summary = import_journal(s);
    CHECK(summary.imported == 2);
    CHECK(summary.other_stores == 0);
  }
  CHECK_FALSE(std::filesystem::exists(fallback));
  CHECK(names_in(tmp / "state/perfguard") == std::vector<std::string>{});
}

TEST_CASE("a file a killed import left is taken, never renamed onto, whatever its PID") {
  TempDir tmp;
  auto store = tmp / "perf.db";
  REQUIRE(append_to_journal(store, {record(1, "commit")}));
  const auto journal = journal_path_for(store);
  // Left by an import that had this very PID (containers reuse the same few PIDs).
  auto left = journal;
  left += ".importing-" + std::to_string(::getpid());
  std::filesystem::rename(journal, left);
  REQUIRE(append_to_journal(store, {record(2, "commit")}));

  Store s = open_store(store);
  ImportSummary summary = import_journal(s);
  CHECK(summary.imported == 2);
  CHECK(names_in(tmp.path()) ==
        std::vector<std::string>{"perf.db", "perf.db-shm", "perf.db-wal", "perf.db.write.lock"});
}

TEST_CASE("a journal moved aside gets a name no other file has") {
  TempDir tmp;
  const auto journal = journal_path_for(tmp / "perf.db");
  std::vector<std::filesystem::path> names;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(append_to_journal(tmp / "perf.db", {record(1, "commit")}));
    auto aside = move_journal_aside(journal);
    REQUIRE(aside.ok());
    CHECK(aside->filename().string().rfind(journal_in_flight_prefix(journal), 0) == 0);
    names.push_back(*aside);
  }
  std::sort(names.begin(), names.end());
  CHECK(std::unique(names.begin(), names.end()) == names.end());
  auto none = move_journal_aside(journal);
  REQUIRE(none.ok());
  CHECK(none->empty());
}
