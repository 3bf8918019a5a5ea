#pragma once
// Test support: temporary directories and real git repositories for the unit tests.

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "store/sqlite/schema.h"

namespace perfguard::test {

// A fresh directory under the build tree, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir() {
    std::filesystem::create_directories(PERFGUARD_TEST_TMP);
    std::string tmpl = std::string(PERFGUARD_TEST_TMP) + "/t.XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& p) const { return path_ / p; }

 private:
  std::filesystem::path path_;
};

// Runs a shell script in `dir` and returns its stdout; throws when it exits non-zero.
// Test set-up only: the code under test never goes through a shell.
inline std::string sh(const std::filesystem::path& dir, const std::string& script) {
  std::string cmd = "cd '" + dir.string() + "' && (" + script + ")";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (rc != 0) throw std::runtime_error("shell step failed: " + script);
  return out;
}

// A git repository with an identity set and one commit per entry of `commits` (0 = unborn).
// What `git ARGS` prints in `dir`, without the trailing line break.
inline std::string git_says(const std::filesystem::path& dir, const std::string& args) {
  std::string out = sh(dir, "git " + args);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

inline std::filesystem::path make_repo(const TempDir& tmp, int commits = 1,
                                       const std::string& name = "repo") {
  auto dir = tmp / name;
  std::filesystem::create_directories(dir);
  sh(dir,
     "git init -q -b main . && git config user.name Test && git config user.email t@example.com"
     " && git config commit.gpgsign false");
  for (int i = 0; i < commits; ++i) {
    sh(dir, "echo " + std::to_string(i) + " > file.txt && git add -A && git commit -qm c" +
                std::to_string(i));
  }
  return dir;
}

inline void write_file(const std::filesystem::path& p, const std::string& content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first column of the first row of `query`, read through a connection of its own (as
// any other program would read the store).
inline std::int64_t query_int(const std::filesystem::path& db_path, const std::string& query) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + db_path.string());
  }
  sqlite3_stmt* stmt = nullptr;
  std::int64_t value = -1;
  if (sqlite3_prepare_v2(db, query.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (value < 0) throw std::runtime_error("query failed: " + query);
  return value;
}

// A store as a release with schema `version` left it: every migration up to that version,
// then `data` (rows written as that version wrote them), then its user_version. Throws with
// SQLite's message when any of it fails.
inline void make_store_at_version(const std::filesystem::path& path, int version,
                                  const std::string& data) {
  std::string sql;
  for (const auto& m : schema::migrations()) {
    if (m.to_version <= version) sql += std::string(m.sql);
  }
  sql += data + ";\nPRAGMA user_version = " + std::to_string(version) + ";";
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK ||
      sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    const std::string message = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("cannot make a version " + std::to_string(version) +
                             " store: " + message);
  }
  sqlite3_close(db);
}

// Another process holding an flock on `path` from before the constructor returns: until
// release() kills it, or for `hold`, after which it creates `path`.released and exits, so
// that whoever has the lock next can tell that it waited for this holder.
class FlockHolder {
 public:
  explicit FlockHolder(const std::filesystem::path& path,
                       std::chrono::milliseconds hold = std::chrono::milliseconds::max()) {
    int ready[2];
    if (::pipe(ready) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      ::close(ready[0]);
      const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
      char c = 'r';
      if (::write(ready[1], &c, 1) != 1) ::_exit(1);
      if (hold == std::chrono::milliseconds::max()) {
        for (;;) ::pause();
      }
      std::this_thread::sleep_for(hold);
      std::ofstream(path.string() + ".released") << "released\n";
      ::_exit(0);
    }
    ::close(ready[1]);
    char c = 0;
    const bool held = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    if (!held) {
      release();
      throw std::runtime_error("the holder could not lock " + path.string());
    }
  }
  ~FlockHolder() { release(); }
  FlockHolder(const FlockHolder&) = delete;
  FlockHolder& operator=(const FlockHolder&) = delete;

  // Ends the holder (if it has not ended by itself) and reaps it: its lock goes with it.
  void release() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace perfguard::test
