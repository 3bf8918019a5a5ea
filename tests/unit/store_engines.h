#pragma once
// The store's tests on both engines: each case gets a fresh SQLite file and a fresh
// PostgreSQL database (made on the server PERFGUARD_TEST_POSTGRES describes, dropped after).
// Without that server the PostgreSQL half fails: it is not skipped.
//
//   for (Engine engine : kEngines) {
//     CAPTURE(engine);
//     FreshStore fresh(engine);
//     Store& store = fresh.store();
//     …
//   }
//
// SQL the tests run themselves goes to SQLite through its C API and to PostgreSQL through
// psql, as any other program would read the store.

#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "store/postgres/postgres_store.h"
#include "store/store.h"
#include "support.h"

namespace perfguard::test {

enum class Engine { sqlite, postgresql };
inline constexpr Engine kEngines[] = {Engine::sqlite, Engine::postgresql};

inline std::ostream& operator<<(std::ostream& out, Engine e) {
  return out << (e == Engine::sqlite ? "sqlite" : "postgresql");
}

// Sets PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE from the file PERFGUARD_TEST_POSTGRES
// names (lines NAME='value', as tests/postgres/cluster writes them), once. False when the
// variable is not set or the file cannot be read.
inline bool postgres_environment() {
  static const bool ready = [] {
    enable_postgres_store();
    const char* file = std::getenv("PERFGUARD_TEST_POSTGRES");
    if (!file || !*file) return false;
    std::ifstream in(file);
    if (!in) return false;
    std::string line;
    int set = 0;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq == std::string::npos || line.rfind("export ", 0) == 0) continue;
      std::string name = line.substr(0, eq);
      std::string value = line.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
        value = value.substr(1, value.size() - 2);
      }
      if (name.rfind("PG", 0) == 0) {
        setenv(name.c_str(), value.c_str(), 1);
        ++set;
      }
    }
    return set > 0;
  }();
  return ready;
}

// Runs `sql` with psql on `database` as the cluster's administrator; returns the rows, their
// columns separated by tabs, NULL as "NULL". Throws when psql fails.
inline std::vector<std::vector<std::string>> psql_rows(const std::string& database,
                                                       const std::string& sql) {
  TempDir tmp;
  write_file(tmp / "query.sql", sql);
  std::string out = sh(tmp.path(), "psql -X -q -v ON_ERROR_STOP=1 -A -t -F '\t' -P null=NULL -d '" +
                                       database + "' -f query.sql 2>&1");
  std::vector<std::vector<std::string>> rows;
  std::size_t at = 0;
  while (at < out.size()) {
    std::size_t end = out.find('\n', at);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(at, end - at);
    at = end + 1;
    std::vector<std::string> row;
    std::size_t from = 0;
    for (;;) {
      std::size_t tab = line.find('\t', from);
      row.push_back(line.substr(from, tab == std::string::npos ? std::string::npos : tab - from));
      if (tab == std::string::npos) break;
      from = tab + 1;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// A new, empty PostgreSQL database with a unique name, dropped on destruction.
class TestDatabase {
 public:
  TestDatabase() {
    static std::atomic<int> counter{0};
    name_ = "perfguard_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    psql_rows("postgres", "CREATE DATABASE " + name_);
  }
  ~TestDatabase() {
    try {
      psql_rows("postgres", "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& name() const { return name_; }
  // A connection string for it; the rest comes from the environment (postgres_environment).
  std::string conninfo() const { return "dbname=" + name_; }

 private:
  std::string name_;
};

// A fresh store of one engine.
class FreshStore {
 public:
  explicit FreshStore(Engine engine) : engine_(engine) {
    if (engine == Engine::postgresql) {
      REQUIRE_MESSAGE(postgres_environment(),
                      "PERFGUARD_TEST_POSTGRES is not set or unreadable: the shared store's "
                      "half of this test needs a server (ctest starts one: fixture postgres)");
      database_ = std::make_unique<TestDatabase>();
    }
    store_ = open();
  }
  ~FreshStore() { store_.reset(); }

  Engine engine() const { return engine_; }
  Store& store() { return *store_; }
  StoreOptions options() const {
    StoreOptions o;
    if (engine_ == Engine::sqlite) {
      o.path = tmp_ / "perf.db";
    } else {
      o.shared = database_->conninfo();
    }
    return o;
  }
  // Another handle on the same store (another connection), as another process would open it.
  Store open() const {
    auto store = Store::open(options());
    REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().message));
    return std::move(store.value());
  }
  const std::string& database() const { return database_->name(); }

  // Every row of `sql`, each column as text ("NULL" for NULL), read by a connection of its own.
  std::vector<std::vector<std::string>> rows(const std::string& sql) const {
    if (engine_ == Engine::postgresql) return psql_rows(database_->name(), sql);
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2((tmp_ / "perf.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) ==
            SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::vector<std::vector<std::string>> out;
    const bool prepared = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK;
    std::string message = prepared ? "" : sqlite3_errmsg(db);
    while (prepared && sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* t = sqlite3_column_text(stmt, i);
        row.push_back(t ? reinterpret_cast<const char*>(t) : "NULL");
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    REQUIRE_MESSAGE(prepared, message);
    return out;
  }
  std::string one(const std::string& sql) const {
    auto r = rows(sql);
    REQUIRE(r.size() == 1);
    REQUIRE(!r[0].empty());
    return r[0][0];
  }

 private:
  Engine engine_;
  TempDir tmp_;
  std::unique_ptr<TestDatabase> database_;
  std::optional<Store> store_;
};

}  // namespace perfguard::test

// Runs the rest of the test case once per engine (doctest subcases named for them), with
// `engine` saying which.
#define PERFGUARD_EACH_ENGINE(engine)                                   \
  ::perfguard::test::Engine engine = ::perfguard::test::Engine::sqlite; \
  SUBCASE("sqlite") {}                                                  \
  SUBCASE("postgresql") {                                               \
    engine = ::perfguard::test::Engine::postgresql;                     \
  }                                                                     \
  CAPTURE(engine)
