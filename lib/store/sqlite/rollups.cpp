#include "store/sqlite/rollups.h"

#include <algorithm>

#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

namespace {

using sql::Statement;

constexpr std::string_view kReadWhat = "cannot read the recorded steps";

// An hour's step ids: sorted, the first as a varint, then each as the difference from the
// one before (a byte a step while steps are recorded in time order).
std::string encode_ids(std::vector<std::int64_t>& ids) {
  std::sort(ids.begin(), ids.end());
  std::string out;
  std::uint64_t previous = 0;
  for (std::int64_t id : ids) {
    auto v = static_cast<std::uint64_t>(id);
    for (std::uint64_t d = v - previous;; d >>= 7) {
      if (d < 0x80) {
        out.push_back(static_cast<char>(d));
        break;
      }
      out.push_back(static_cast<char>((d & 0x7F) | 0x80));
    }
    previous = v;
  }
  return out;
}

// Calls visit(id) for each id of the blob in order; false when the blob is damaged.
template <class Visit>
bool decode_ids(const unsigned char* p, std::size_t size, Visit&& visit) {
  const unsigned char* end = p + size;
  std::uint64_t id = 0;
  while (p < end) {
    std::uint64_t d = 0;
    for (int shift = 0;; shift += 7) {
      if (p == end || shift > 63) return false;
      unsigned char byte = *p++;
      d |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) break;
    }
    id += d;
    visit(static_cast<std::int64_t>(id));
  }
  return true;
}

}  // namespace

bool row_ranges(sqlite3_stmt* r, int col, IdRanges& ranges, std::int64_t gap) {
  if (sqlite3_column_int(r, col + 2) != 0 || sql::column_is_null(r, col + 3)) {
    ranges.emplace_back(sqlite3_column_int64(r, col), sqlite3_column_int64(r, col + 1));
    return true;
  }
  const auto* blob = static_cast<const unsigned char*>(sqlite3_column_blob(r, col + 3));
  return decode_ids(
      blob, static_cast<std::size_t>(sqlite3_column_bytes(r, col + 3)), [&](std::int64_t id) {
        if (!ranges.empty() && id >= ranges.back().first && id <= ranges.back().second + gap) {
          ranges.back().second = std::max(ranges.back().second, id);
        } else {
          ranges.emplace_back(id, id);
        }
      });
}

namespace {

// Sorts and merges overlapping or close ranges.
IdRanges merge_ranges(IdRanges ranges) {
  std::sort(ranges.begin(), ranges.end());
  IdRanges merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + kIdGap) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

// The steps of one name and hour with ids in `ranges` (up to `max_id`) and started at or
// after since_us, read from step_rows: how a stale hour or the cut first hour of a range is
// read, and how Store::record rebuilds an hour it adds to.
bool scan_hour(sqlite3* db, std::int64_t name_id, std::int64_t hour, const IdRanges& ranges,
               std::int64_t max_id, std::int64_t since_us, HourRollups::State& state) {
  Statement s = sql::prepare(db,
                             "SELECT id, trace_id, started_us, duration_us, status FROM step_rows"
                             " WHERE id BETWEEN ?1 AND ?2 AND name_id = ?3"
                             " AND started_us >= ?4 AND started_us / 3600000000 = ?5");
  if (!s) return false;
  for (const auto& [first, last] : ranges) {
    if (first > max_id) continue;
    sqlite3_reset(s.get());
    sqlite3_bind_int64(s.get(), 1, first);
    sqlite3_bind_int64(s.get(), 2, std::min(last, max_id));
    sqlite3_bind_int64(s.get(), 3, name_id);
    sqlite3_bind_int64(s.get(), 4, since_us);
    sqlite3_bind_int64(s.get(), 5, hour);
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      std::int64_t id = sqlite3_column_int64(s.get(), 0);
      auto status = status_from_code(sqlite3_column_int(s.get(), 4));
      state.counts.add(status);
      if (is_completed(status)) state.durations.push_back(sqlite3_column_int64(s.get(), 3));
      state.first_id = std::min(state.first_id, id);
      state.last_id = std::max(state.last_id, id);
      state.ids.push_back(id);
      state.keys.emplace(static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 1)),
                         sqlite3_column_int64(s.get(), 2));
    }
    if (rc != SQLITE_DONE) return false;
  }
  return true;
}

}  // namespace

// Steps are recorded in time order, so this is usually one range; steps imported later for
// an earlier time make a few more.
Result<IdRanges> id_ranges(SqliteStore& store, std::optional<std::int64_t> name_id,
                           std::int64_t from_hour) {
  Statement s = sql::prepare(store.db(),
                             "SELECT h.first_id, h.last_id, h.stale, h.ids FROM names AS n"
                             " CROSS JOIN step_hours AS h ON h.name_id = n.id AND h.hour >= ?1"
                             " WHERE ?2 IS NULL OR n.id = ?2");
  if (!s) return sql::error(store.db(), store.path(), kReadWhat);
  sqlite3_bind_int64(s.get(), 1, from_hour);
  if (name_id) sqlite3_bind_int64(s.get(), 2, *name_id);
  IdRanges ranges;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    if (!row_ranges(s.get(), 0, ranges)) {
      return sql::error(store.path(), kReadWhat, "a damaged rollup row");
    }
  }
  if (rc != SQLITE_DONE) return sql::error(store.db(), store.path(), kReadWhat);
  return merge_ranges(std::move(ranges));
}

bool read_hour_steps(sqlite3* db, sqlite3_stmt* row, int col, std::int64_t name_id,
                     std::int64_t hour, std::int64_t since_us, HourRollups::State& state) {
  IdRanges ranges;
  return row_ranges(row, col, ranges) &&
         scan_hour(db, name_id, hour, ranges, std::numeric_limits<std::int64_t>::max(), since_us,
                   state);
}

void summarize_hour(const std::vector<std::int64_t>& durations, Moments& timing,
                    DurationHistogram& histogram) {
  timing = Moments::of(durations);
  for (std::int64_t d : durations) histogram.add(d);
}

StepStatus status_from_code(int code) {
  switch (code) {
    case 0:
      return StepStatus::ok;
    case 1:
      return StepStatus::breach;
    case 3:
      return StepStatus::timeout;
    case 4:
      return StepStatus::interrupted;
    default:
      return StepStatus::failed;
  }
}

// --- Maintenance ---------------------------------------------------------------------------

HourRollups::State* HourRollups::load(std::int64_t name_id, std::int64_t hour) {
  auto [it, inserted] = hours_.try_emplace({name_id, hour});
  if (!inserted) return &it->second;
  // An hour already in step_hours is rebuilt from its steps: exact whatever happened to
  // them since (a stale row heals here), and it yields the keys that detect a re-import.
  // Steps past scan_limit_ are left to catch_up and add, which count them.
  Statement s = sql::prepare(db_,
                             "SELECT first_id, last_id, stale, ids FROM step_hours"
                             " WHERE name_id = ?1 AND hour = ?2");
  if (!s) return nullptr;
  sqlite3_bind_int64(s.get(), 1, name_id);
  sqlite3_bind_int64(s.get(), 2, hour);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) {
    IdRanges ranges;
    if (!row_ranges(s.get(), 0, ranges) ||
        !scan_hour(db_, name_id, hour, ranges, scan_limit_,
                   std::numeric_limits<std::int64_t>::min(), it->second)) {
      return nullptr;
    }
  } else if (rc != SQLITE_DONE) {
    return nullptr;
  }
  return &it->second;
}

bool HourRollups::catch_up() {
  Statement rolled = sql::prepare(db_,
                                  "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta"
                                  " WHERE key = 'rolled_up_to'), 0),"
                                  " coalesce((SELECT max(id) FROM step_rows), 0)");
  if (!rolled || sqlite3_step(rolled.get()) != SQLITE_ROW) return false;
  rolled_up_to_ = sqlite3_column_int64(rolled.get(), 0);
  max_id_ = sqlite3_column_int64(rolled.get(), 1);
  if (max_id_ <= rolled_up_to_) {
    scan_limit_ = max_id_;
    return true;
  }
  Statement s = sql::prepare(db_,
                             "SELECT id, trace_id, name_id, started_us, duration_us, status"
                             " FROM step_rows WHERE id > ?1 ORDER BY id");
  if (!s) return false;
  sqlite3_bind_int64(s.get(), 1, rolled_up_to_);
  // While catching up, an hour's stored steps are those rolled up before; the loop adds
  // the rest. Afterwards every step up to max_id_ is in some loaded hour or in its row.
  scan_limit_ = rolled_up_to_;
  struct Done {
    HourRollups& self;
    ~Done() { self.scan_limit_ = self.max_id_; }
  } done{*this};
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    std::int64_t name_id = sqlite3_column_int64(s.get(), 2);
    std::int64_t started = sqlite3_column_int64(s.get(), 3);
    if (!load(name_id, hour_of(started))) return false;
    add(name_id, started, sqlite3_column_int64(s.get(), 4),
        status_from_code(sqlite3_column_int(s.get(), 5)),
        static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 1)),
        sqlite3_column_int64(s.get(), 0));
  }
  return rc == SQLITE_DONE;
}

bool HourRollups::refresh_stale() {
  Statement s = sql::prepare(db_, "SELECT name_id, hour FROM step_hours WHERE stale");
  if (!s) return false;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    if (!load(sqlite3_column_int64(s.get(), 0), sqlite3_column_int64(s.get(), 1))) return false;
  }
  if (rc != SQLITE_DONE) return false;
  return sql::exec(db_, "DELETE FROM meta WHERE key = 'stale_hours'");
}

std::optional<bool> HourRollups::contains(std::int64_t name_id, std::int64_t started_us,
                                          std::uint64_t trace_id) {
  State* state = load(name_id, hour_of(started_us));
  if (!state) return std::nullopt;
  return state->keys.contains({trace_id, started_us});
}

void HourRollups::add(std::int64_t name_id, std::int64_t started_us, std::int64_t duration_us,
                      StepStatus status, std::uint64_t trace_id, std::int64_t step_id) {
  State& state = hours_[{name_id, hour_of(started_us)}];
  state.counts.add(status);
  if (is_completed(status)) state.durations.push_back(duration_us);
  state.first_id = std::min(state.first_id, step_id);
  state.last_id = std::max(state.last_id, step_id);
  state.ids.push_back(step_id);
  state.keys.emplace(trace_id, started_us);
  last_added_ = std::max(last_added_, step_id);
}

bool HourRollups::flush() {
  Statement put = sql::prepare(db_,
                               "INSERT OR REPLACE INTO step_hours (name_id, hour, n_ok, n_breach,"
                               " n_failed, n_timeout, n_interrupted, first_id, last_id, stale,"
                               " sum_us, m2, min_us, max_us, histogram, ids) VALUES (?1, ?2, ?3,"
                               " ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?11, ?12, ?13, ?14, ?15)");
  Statement drop = sql::prepare(db_, "DELETE FROM step_hours WHERE name_id = ?1 AND hour = ?2");
  if (!put || !drop) return false;
  for (auto& [key, state] : hours_) {
    sqlite3_stmt* s = state.counts.total() == 0 ? drop.get() : put.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, key.first);
    sqlite3_bind_int64(s, 2, key.second);
    if (s == put.get()) {
      const StatusCounts& c = state.counts;
      std::int64_t counts[] = {c.ok, c.breach, c.failed, c.timeout, c.interrupted};
      for (int i = 0; i < 5; ++i) sqlite3_bind_int64(s, 3 + i, counts[i]);
      sqlite3_bind_int64(s, 8, state.first_id);
      sqlite3_bind_int64(s, 9, state.last_id);
      Moments timing;
      DurationHistogram histogram;
      summarize_hour(state.durations, timing, histogram);
      sqlite3_bind_int64(s, 10, static_cast<std::int64_t>(timing.sum));
      sqlite3_bind_double(s, 11, timing.m2);
      sqlite3_bind_int64(s, 12, timing.min);
      sqlite3_bind_int64(s, 13, timing.max);
      std::string blob = histogram.encode();
      sqlite3_bind_blob(s, 14, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
      std::string ids = encode_ids(state.ids);
      sqlite3_bind_blob(s, 15, ids.data(), static_cast<int>(ids.size()), SQLITE_TRANSIENT);
    }
    if (sqlite3_step(s) != SQLITE_DONE) return false;
  }
  hours_.clear();
  // Every step id up to here is rolled up. (Set down as well as up: when the newest steps
  // were deleted, their ids are handed out again and must not count as rolled up.)
  std::int64_t rolled = std::max(max_id_, last_added_);
  if (rolled != rolled_up_to_) {
    Statement mark =
        sql::prepare(db_, "INSERT OR REPLACE INTO meta (key, value) VALUES ('rolled_up_to', ?1)");
    if (!mark) return false;
    sql::bind_text(mark.get(), 1, std::to_string(rolled));
    if (sqlite3_step(mark.get()) != SQLITE_DONE) return false;
    rolled_up_to_ = rolled;
  }
  return true;
}

// Rolls up the steps that were added without a RecordWriter (plain SQL), and rebuilds the
// hours marked stale by deletions or changes (a prune).
Status SqliteStore::catch_up() {
  sqlite3* db = db_;
  constexpr std::string_view kWhat = "cannot roll up the recorded steps";
  {
    // Most of the time there is nothing to do: find out without taking the write lock.
    Statement check =
        sql::prepare(db,
                     "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta"
                     " WHERE key = 'rolled_up_to'), 0)"
                     " >= coalesce((SELECT max(id) FROM step_rows), 0)"
                     " AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'stale_hours')");
    if (!check || sqlite3_step(check.get()) != SQLITE_ROW) {
      return sql::error(db, path_, kWhat);
    }
    if (sqlite3_column_int(check.get(), 0)) return {};
  }
  sql::WriteTransaction tx(db, writers_);
  if (!tx.begin()) return sql::error(db, path_, kWhat);
  HourRollups rollups(db);
  if (!rollups.catch_up() || !rollups.refresh_stale() || !rollups.flush() || !tx.commit()) {
    return sql::error(db, path_, kWhat);
  }
  fold_log(false);
  return {};
}

}  // namespace perfguard
