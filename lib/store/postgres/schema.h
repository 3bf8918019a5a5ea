#pragma once
// Internal to the PostgreSQL engine: the shared store's schema, as forward migrations with
// the SQLite file's version numbers (store/sqlite/schema.h). Each runs in the transaction
// that creates or migrates the schema, under the schema's advisory lock.

#include <span>
#include <string_view>

namespace perfguard::pgschema {

struct Migration {
  int to_version;
  std::string_view sql;
};

std::span<const Migration> migrations();

}  // namespace perfguard::pgschema
