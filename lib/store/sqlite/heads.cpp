#include "store/sqlite/heads.h"

#include <array>
#include <string_view>

#include "store/sqlite/sql.h"

namespace perfguard::sql {

namespace {

// The value of a hex digit, or -1, by table: HEADs are random digits, on which the
// branches of a range test mispredict (they were a tenth of a bulk import's time).
constexpr auto kHexValues = [] {
  std::array<signed char, 256> t{};
  for (int i = 0; i < 256; ++i) {
    t[i] = static_cast<signed char>(i >= '0' && i <= '9'   ? i - '0'
                                    : i >= 'a' && i <= 'f' ? i - 'a' + 10
                                    : i >= 'A' && i <= 'F' ? i - 'A' + 10
                                                           : -1);
  }
  return t;
}();

int hex_value(char c) {
  return kHexValues[static_cast<unsigned char>(c)];
}

bool is_hex(std::string_view s) {
  int all = 0;
  for (char c : s) all |= hex_value(c);
  return all >= 0;
}

}  // namespace

void bind_head(sqlite3_stmt* stmt, int index, const std::string& head) {
  if (head.empty()) {
    sqlite3_bind_null(stmt, index);
  } else if ((head.size() == 40 || head.size() == 64) && is_hex(head)) {
    unsigned char bytes[32];
    for (std::size_t i = 0; i < head.size() / 2; ++i) {
      bytes[i] =
          static_cast<unsigned char>(hex_value(head[2 * i]) << 4 | hex_value(head[2 * i + 1]));
    }
    sqlite3_bind_blob(stmt, index, bytes, static_cast<int>(head.size() / 2), SQLITE_TRANSIENT);
  } else {
    sqlite3_bind_text(stmt, index, head.data(), static_cast<int>(head.size()), SQLITE_TRANSIENT);
  }
}

std::string column_head(sqlite3_stmt* stmt, int col) {
  if (sqlite3_column_type(stmt, col) != SQLITE_BLOB) return column_text(stmt, col);
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* bytes = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, col));
  int n = sqlite3_column_bytes(stmt, col);
  std::string hex;
  hex.reserve(static_cast<std::size_t>(n) * 2);
  for (int i = 0; i < n; ++i) {
    hex.push_back(kHex[bytes[i] >> 4]);
    hex.push_back(kHex[bytes[i] & 0xF]);
  }
  return hex;
}

}  // namespace perfguard::sql
