// What the store keeps of its ships to a shared store (store/shipping.h): rows of the meta
// table whose keys start with "ship.", so that no schema change is needed. The steps' ids are
// step_rows' rowids.

#include <charconv>
#include <map>
#include <string>

#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

namespace {

using sql::Statement;

constexpr std::string_view kState = "cannot read the shipping state";
constexpr std::string_view kKeep = "cannot keep the shipping state";

std::int64_t to_int64(const std::string& text) {
  std::int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// "ID TRACE STARTED STEP": the step's name last, for it may hold spaces.
std::string encode_mark(const ShippedMark& m) {
  return std::to_string(m.id) + " " + std::to_string(m.trace_id) + " " +
         std::to_string(m.started_us) + " " + m.step;
}

std::optional<ShippedMark> decode_mark(const std::string& text) {
  ShippedMark m;
  const char* p = text.data();
  const char* end = p + text.size();
  auto field = [&](auto& out) {
    auto [next, ec] = std::from_chars(p, end, out);
    if (ec != std::errc() || next == end || *next != ' ') return false;
    p = next + 1;
    return true;
  };
  if (!field(m.id) || !field(m.trace_id) || !field(m.started_us)) return std::nullopt;
  m.step.assign(p, end);
  return m;
}

Result<std::map<std::string, std::string>> ship_rows(sqlite3* db,
                                                     const std::filesystem::path& path) {
  Statement s =
      sql::prepare(db, "SELECT key, value FROM meta WHERE key >= 'ship.' AND key < 'ship/'");
  if (!s) return sql::error(db, path, kState);
  std::map<std::string, std::string> rows;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    rows.emplace(sql::column_text(s.get(), 0), sql::column_text(s.get(), 1));
  }
  if (rc != SQLITE_DONE) return sql::error(db, path, kState);
  return rows;
}

std::optional<ShipFailure> failure_of(const std::map<std::string, std::string>& rows) {
  auto at = rows.find("ship.failure_at_us");
  if (at == rows.end()) return std::nullopt;
  auto text = [&](const char* key) {
    auto it = rows.find(key);
    return it == rows.end() ? std::string() : it->second;
  };
  return ShipFailure{text("ship.failure_target"), text("ship.failure_message"),
                     to_int64(at->second), text("ship.failure_reported") == "1"};
}

// Sets the rows (an empty optional deletes one), inside the caller's transaction.
bool put_rows(sqlite3* db,
              const std::vector<std::pair<std::string_view, std::optional<std::string>>>& rows) {
  Statement put = sql::prepare(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
  Statement drop = sql::prepare(db, "DELETE FROM meta WHERE key = ?1");
  if (!put || !drop) return false;
  for (const auto& [key, value] : rows) {
    sqlite3_stmt* s = value ? put.get() : drop.get();
    sqlite3_reset(s);
    sql::bind_borrowed_text(s, 1, key);
    if (value) sql::bind_borrowed_text(s, 2, *value);
    if (sqlite3_step(s) != SQLITE_DONE) return false;
  }
  return true;
}

}  // namespace

Result<std::int64_t> SqliteStore::count_steps_after(std::int64_t after_id) {
  Statement s = sql::prepare(db_, "SELECT count(*) FROM step_rows WHERE id > ?1");
  if (!s) return sql::error(db_, path_, "cannot count the recorded steps");
  sqlite3_bind_int64(s.get(), 1, after_id);
  if (sqlite3_step(s.get()) != SQLITE_ROW) {
    return sql::error(db_, path_, "cannot count the recorded steps");
  }
  return sqlite3_column_int64(s.get(), 0);
}

Result<ShippingState> SqliteStore::shipping_state() {
  auto rows = ship_rows(db_, path_);
  if (!rows) return rows.error();
  ShippingState state;
  if (auto it = rows->find("ship.target"); it != rows->end()) state.target = it->second;
  if (auto it = rows->find("ship.shipped"); it != rows->end())
    state.shipped = decode_mark(it->second);
  if (auto it = rows->find("ship.last_success_us"); it != rows->end()) {
    state.last_success_us = to_int64(it->second);
  }
  if (auto it = rows->find("ship.last_shipped"); it != rows->end()) {
    state.last_shipped = to_int64(it->second);
  }
  state.failure = failure_of(*rows);
  return state;
}

Status SqliteStore::save_shipped(const std::string& target, const ShippedMark& mark) {
  sql::WriteTransaction tx(db_, writers_);
  if (!tx.begin() ||
      !put_rows(db_, {{"ship.target", target}, {"ship.shipped", encode_mark(mark)}}) ||
      !tx.commit()) {
    return sql::error(db_, path_, kKeep);
  }
  fold_log(false);
  return {};
}

Status SqliteStore::record_ship_outcome(std::int64_t at_us, std::int64_t shipped,
                                        const std::optional<ShipFailure>& failure) {
  sql::WriteTransaction tx(db_, writers_);
  if (!tx.begin()) return sql::error(db_, path_, kKeep);
  bool written;
  if (!failure) {
    written = put_rows(db_, {{"ship.last_success_us", std::to_string(at_us)},
                             {"ship.last_shipped", std::to_string(shipped)},
                             {"ship.failure_target", std::nullopt},
                             {"ship.failure_message", std::nullopt},
                             {"ship.failure_at_us", std::nullopt},
                             {"ship.failure_reported", std::nullopt}});
  } else {
    auto rows = ship_rows(db_, path_);
    if (!rows) return rows.error();
    auto kept = failure_of(*rows);
    const bool reported = kept && kept->reported;
    written = put_rows(db_, {{"ship.failure_target", failure->target},
                             {"ship.failure_message", failure->message},
                             {"ship.failure_at_us", std::to_string(at_us)},
                             {"ship.failure_reported", reported ? "1" : "0"}});
  }
  if (!written || !tx.commit()) return sql::error(db_, path_, kKeep);
  fold_log(false);
  return {};
}

Result<std::optional<ShipFailure>> SqliteStore::claim_ship_failure() {
  sql::WriteTransaction tx(db_, writers_);
  if (!tx.begin()) return sql::error(db_, path_, kKeep);
  auto rows = ship_rows(db_, path_);
  if (!rows) return rows.error();
  auto failure = failure_of(*rows);
  if (!failure || failure->reported) return std::optional<ShipFailure>{};
  if (!put_rows(db_, {{"ship.failure_reported", "1"}}) || !tx.commit()) {
    return sql::error(db_, path_, kKeep);
  }
  fold_log(false);
  return failure;
}

}  // namespace perfguard
