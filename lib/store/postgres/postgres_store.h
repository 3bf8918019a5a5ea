#pragma once
// The shared store: a PostgreSQL database that a team's clones ship their records to
// (StoreOptions::shared). Only the programs that call enable_postgres_store() can open it,
// so that the hot-path tools never load libpq.

namespace perfguard {

// Lets Store::open open a shared store (a PostgreSQL connection string). Call it at the
// start of main.
void enable_postgres_store();

}  // namespace perfguard
