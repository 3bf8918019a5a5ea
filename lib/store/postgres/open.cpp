// Opening the shared store: connecting, creating the schema in an empty database (once,
// however many processes try at the same moment), refusing a newer schema, and registering
// the engine with Store::open.

#include <string>

#include "store/postgres/postgres_engine.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres/schema.h"

namespace perfguard {

namespace {

constexpr std::string_view kOpenWhat = "cannot open the shared store";
constexpr std::string_view kCreateWhat = "cannot create the schema";
// The advisory lock under which the schema is created or migrated ("pfgd" and a version of
// the lock's meaning).
constexpr std::int64_t kSchemaLock = 0x7066676401;

Error newer_schema_error(const std::string& name, int version) {
  return Error{ExitCode::store, name + ": store schema version " + std::to_string(version) +
                                    " is newer than this perfguard understands (" +
                                    std::to_string(kSchemaVersion) + "): upgrade perfguard"};
}

// The version in the meta table's rows, -1 (with `error` set) when it has none.
int version_of(pq::Connection& c, const pq::Rows& version, std::optional<Error>& error) {
  if (version.size() == 0) {
    error = c.error(kOpenWhat,
                    "not a perfguard store (a table meta without a schema version); nothing was"
                    " changed: point --db at a perfguard store or an empty database");
    return -1;
  }
  return static_cast<int>(version.int64(0, 0));
}

constexpr std::string_view kVersionQuery = "SELECT value FROM meta WHERE key = 'schema_version'";

// The schema version the database holds: 0 when it has no schema yet, -1 (with `error` set)
// when it cannot be read or holds another program's `meta` table.
int read_version(pq::Connection& c, std::optional<Error>& error) {
  // From the catalog table itself, read with the statement's snapshot: to_regclass would
  // answer from this session's cache, which may not know yet of a table another process
  // just created.
  auto exists = c.exec(kOpenWhat,
                       "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables"
                       " WHERE schemaname = current_schema() AND tablename = 'meta')");
  if (!exists) {
    error = exists.error();
    return -1;
  }
  if (!exists->boolean(0, 0)) return 0;
  auto version = c.exec(kOpenWhat, std::string(kVersionQuery));
  if (!version) {
    error = version.error();
    return -1;
  }
  return version_of(c, *version, error);
}

// read_version in one round trip when the meta table is there, as it is on every open but a
// database's first; outside a transaction, which a missing table's error would end. With it,
// in the same round trip, whether any hour is marked stale (`stale`; left unset when the
// version comes from read_version).
int opening_version(pq::Connection& c, std::optional<Error>& error, std::optional<bool>& stale) {
  auto version = c.exec(kOpenWhat,
                        "SELECT value, EXISTS (SELECT 1 FROM stale_hours) FROM meta"
                        " WHERE key = 'schema_version'");
  if (version) {
    if (version->size() > 0) stale = version->boolean(0, 1);
    return version_of(c, *version, error);
  }
  if (c.last_sqlstate() != "42P01") {  // undefined_table
    error = version.error();
    return -1;
  }
  return read_version(c, error);
}

// Creates or migrates the schema in one transaction under kSchemaLock, reading the version
// again under the lock: another process may have created it meanwhile.
Status migrate(pq::Connection& c) {
  pq::Transaction tx(c);
  if (Status s = tx.begin(kCreateWhat); !s) return s;
  if (auto locked =
          c.exec(kCreateWhat, "SELECT pg_advisory_xact_lock($1)", pq::Params().add(kSchemaLock));
      !locked) {
    return locked.error();
  }
  std::optional<Error> error;
  const int version = read_version(c, error);
  if (version < 0) return *error;
  if (version > kSchemaVersion) return newer_schema_error(c.name(), version);
  if (version == kSchemaVersion) return tx.commit(kCreateWhat);
  for (const pgschema::Migration& m : pgschema::migrations()) {
    if (m.to_version <= version) continue;
    if (Status s = c.run(kCreateWhat, std::string(m.sql)); !s) return s;
  }
  if (auto marked = c.exec(kCreateWhat,
                           "INSERT INTO meta (key, value) VALUES ('schema_version', $1)"
                           " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           pq::Params().add(std::to_string(kSchemaVersion)));
      !marked) {
    return marked.error();
  }
  return tx.commit(kCreateWhat);
}

Result<OpenedEngine> open_shared(const StoreOptions& options) {
  auto store = PostgresStore::open(options);
  if (!store) return store.error();
  std::string name = (*store)->name();
  return OpenedEngine{std::move(*store), std::move(name)};
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const StoreOptions& options) {
  auto connection = pq::Connection::open(options.shared);
  if (!connection) return connection.error();
  auto store = std::make_unique<PostgresStore>(std::move(*connection));
  pq::Connection& c = store->connection();
  std::optional<Error> error;
  std::optional<bool> stale;
  const int version = opening_version(c, error, stale);
  if (version < 0) return *error;
  if (version > kSchemaVersion) return newer_schema_error(c.name(), version);
  if (version < kSchemaVersion) {
    if (version == 0 && !options.create) {
      return c.error(kOpenWhat, "the database holds no perfguard store");
    }
    if (Status s = migrate(c); !s) return s.error();
    stale.reset();
  }
  store->stale_when_opened_ = stale;
  return store;
}

PostgresStore::PostgresStore(std::unique_ptr<pq::Connection> connection)
    : connection_(std::move(connection)) {}

PostgresStore::~PostgresStore() = default;

int PostgresStore::schema_version() {
  std::optional<Error> error;
  return read_version(*connection_, error);
}

void PostgresStore::while_working(std::function<void()> tick) {
  tick_ = std::move(tick);
}

void enable_postgres_store() {
  register_shared_store(open_shared);
}

}  // namespace perfguard
