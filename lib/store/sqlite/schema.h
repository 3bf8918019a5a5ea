#pragma once
// Internal to the store: the schema, as a list of forward migrations.

#include <span>
#include <string_view>

namespace perfguard::schema {

// Migration `to_version` takes a file at `to_version - 1` to `to_version`. Migration 1
// creates everything. Each runs inside the store's BEGIN IMMEDIATE transaction, followed
// by `PRAGMA user_version = to_version`; the last one's version is kSchemaVersion.
struct Migration {
  int to_version;
  std::string_view sql;
};

std::span<const Migration> migrations();

}  // namespace perfguard::schema
