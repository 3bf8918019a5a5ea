#pragma once
// The shared store a local store ships to, as the configuration names it ([store] shared: a
// libpq connection string or service name): its name for people, and opening it.

#include <string>

#include "core/duration.h"
#include "core/result.h"
#include "store/store.h"

namespace perfguard {

// The connection string without its password, for messages and for the local store's record
// of where it shipped: `postgresql://writer@db/perf` for `postgresql://writer:pw@db/perf`,
// `host=db dbname=perf` for `host=db password=pw dbname=perf`.
std::string shared_store_name(const std::string& conninfo);

// Opens the shared store through Store::open. The tool must have enabled the engine that
// serves it (a PostgreSQL store: enable_postgres_store()); a build without that engine gets an
// ExitCode::store error naming the store.
Result<Store> open_shared_store(const std::string& conninfo, Duration busy_timeout);

}  // namespace perfguard
