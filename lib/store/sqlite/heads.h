#pragma once
// Internal to the SQLite engine: how a HEAD is stored. As its binary object id (20 bytes for
// SHA-1, 32 for SHA-256), NULL when empty, and as text when it is anything else.

#include <sqlite3.h>

#include <string>

namespace perfguard::sql {

void bind_head(sqlite3_stmt* stmt, int index, const std::string& head);
std::string column_head(sqlite3_stmt* stmt, int col);

}  // namespace perfguard::sql
