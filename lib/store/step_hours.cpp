#include "store/step_hours.h"

#include <sqlite3.h>

#include <algorithm>
#include <unordered_map>

#include "store/sql.h"

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

Result<std::unordered_map<std::int64_t, std::string>> read_names(Store& store) {
  Statement s = sql::prepare(sql::connection(store), "SELECT id, name FROM names");
  if (!s) return sql::error(sql::connection(store), store.path(), kReadWhat);
  std::unordered_map<std::int64_t, std::string> names;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    names.emplace(sqlite3_column_int64(s.get(), 0), sql::column_text(s.get(), 1));
  }
  if (rc != SQLITE_DONE) return sql::error(sql::connection(store), store.path(), kReadWhat);
  return names;
}

// The id of a step name; nothing when no step of that name was ever recorded.
Result<std::optional<std::int64_t>> find_name(Store& store, const std::string& name) {
  Statement s = sql::prepare(sql::connection(store), "SELECT id FROM names WHERE name = ?1");
  if (!s) return sql::error(sql::connection(store), store.path(), kReadWhat);
  sql::bind_text(s.get(), 1, name);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return std::optional<std::int64_t>(sqlite3_column_int64(s.get(), 0));
  if (rc != SQLITE_DONE) return sql::error(sql::connection(store), store.path(), kReadWhat);
  return std::optional<std::int64_t>();
}

using IdRanges = std::vector<std::pair<std::int64_t, std::int64_t>>;

// Ids less than this far apart are read as one range: reading a few rows more costs less
// than another search.
constexpr std::int64_t kGap = 1024;

// Appends to `ranges` the ids of one step_hours row (columns first_id, last_id, stale, ids
// from `col` on) as runs. A stale row's list may miss steps changed since: its bounds, which
// hold them all, are used instead. False when the list is damaged.
bool row_ranges(sqlite3_stmt* r, int col, IdRanges& ranges) {
  if (sqlite3_column_int(r, col + 2) != 0 || sql::column_is_null(r, col + 3)) {
    ranges.emplace_back(sqlite3_column_int64(r, col), sqlite3_column_int64(r, col + 1));
    return true;
  }
  const auto* blob = static_cast<const unsigned char*>(sqlite3_column_blob(r, col + 3));
  return decode_ids(
      blob, static_cast<std::size_t>(sqlite3_column_bytes(r, col + 3)), [&](std::int64_t id) {
        if (!ranges.empty() && id >= ranges.back().first && id <= ranges.back().second + kGap) {
          ranges.back().second = std::max(ranges.back().second, id);
        } else {
          ranges.emplace_back(id, id);
        }
      });
}

// Sorts and merges overlapping or close ranges.
IdRanges merge_ranges(IdRanges ranges) {
  std::sort(ranges.begin(), ranges.end());
  IdRanges merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + kGap) {
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

// The id ranges that hold the steps of the hours from `from_hour` on (of one name, or all),
// merged. Steps are recorded in time order, so this is usually one range; steps imported
// later for an earlier time make a few more.
Result<IdRanges> id_ranges(Store& store, std::optional<std::int64_t> name_id,
                           std::int64_t from_hour) {
  Statement s = sql::prepare(sql::connection(store),
                             "SELECT h.first_id, h.last_id, h.stale, h.ids FROM names AS n"
                             " CROSS JOIN step_hours AS h ON h.name_id = n.id AND h.hour >= ?1"
                             " WHERE ?2 IS NULL OR n.id = ?2");
  if (!s) return sql::error(sql::connection(store), store.path(), kReadWhat);
  sqlite3_bind_int64(s.get(), 1, from_hour);
  if (name_id) sqlite3_bind_int64(s.get(), 2, *name_id);
  IdRanges ranges;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    if (!row_ranges(s.get(), 0, ranges)) {
      return Error{ExitCode::store, store.path().string() + ": " + std::string(kReadWhat) +
                                        ": a damaged rollup row"};
    }
  }
  if (rc != SQLITE_DONE) return sql::error(sql::connection(store), store.path(), kReadWhat);
  return merge_ranges(std::move(ranges));
}

// Fills a rollup's timing from the completed durations of its hour.
void summarize_hour(const std::vector<std::int64_t>& durations, Moments& timing,
                    DurationHistogram& histogram) {
  timing = Moments::of(durations);
  for (std::int64_t d : durations) histogram.add(d);
}

}  // namespace

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

void StatusCounts::add(StepStatus s, std::int64_t n) {
  switch (s) {
    case StepStatus::ok:
      ok += n;
      break;
    case StepStatus::breach:
      breach += n;
      break;
    case StepStatus::failed:
      failed += n;
      break;
    case StepStatus::timeout:
      timeout += n;
      break;
    case StepStatus::interrupted:
      interrupted += n;
      break;
  }
}

StatusCounts& StatusCounts::operator+=(const StatusCounts& o) {
  ok += o.ok;
  breach += o.breach;
  failed += o.failed;
  timeout += o.timeout;
  interrupted += o.interrupted;
  return *this;
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

namespace {

// Which step a query is limited to: none (every step), one the store knows, or one it has
// never seen (then nothing matches).
struct StepFilter {
  std::optional<std::int64_t> only;
  bool unknown = false;
};

Result<StepFilter> step_filter(Store& store, const std::string& step) {
  StepFilter filter;
  if (step.empty()) return filter;
  auto id = find_name(store, step);
  if (!id) return id.error();
  if (*id) {
    filter.only = **id;
  } else {
    filter.unknown = true;
  }
  return filter;
}

}  // namespace

Result<std::vector<std::pair<std::int64_t, std::int64_t>>> step_id_ranges(Store& store,
                                                                          const std::string& step,
                                                                          std::int64_t since_us) {
  auto filter = step_filter(store, step);
  if (!filter) return filter.error();
  if (filter->unknown) return IdRanges{};
  const std::optional<std::int64_t> only = filter->only;
  return id_ranges(store, only, hour_of(since_us));
}

Status catch_up_rollups(Store& store) {
  sqlite3* db = sql::connection(store);
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
      return sql::error(db, store.path(), kWhat);
    }
    if (sqlite3_column_int(check.get(), 0)) return {};
  }
  sql::WriteTransaction tx(db);
  if (!tx.begin()) return sql::error(db, store.path(), kWhat);
  HourRollups rollups(db);
  if (!rollups.catch_up() || !rollups.refresh_stale() || !rollups.flush() || !tx.commit()) {
    return sql::error(db, store.path(), kWhat);
  }
  store.fold_log(false);
  return {};
}

// --- Reads ---------------------------------------------------------------------------------

Result<std::vector<StepHour>> read_step_hours(Store& store, const std::string& step,
                                              std::int64_t since_us) {
  sqlite3* db = sql::connection(store);
  sql::ReadTransaction read(db);
  if (!read.ok()) return sql::error(db, store.path(), kReadWhat);
  auto names = read_names(store);
  if (!names) return names.error();
  auto filter = step_filter(store, step);
  if (!filter) return filter.error();
  if (filter->unknown) return std::vector<StepHour>{};
  const std::optional<std::int64_t> only = filter->only;

  // Through `names`, so each name's hours are one range of the (name_id, hour) key.
  Statement s = sql::prepare(db,
                             "SELECT h.name_id, h.hour, h.n_ok, h.n_breach, h.n_failed,"
                             " h.n_timeout, h.n_interrupted, h.first_id, h.last_id, h.stale,"
                             " h.ids, h.sum_us, h.m2, h.min_us, h.max_us, h.histogram"
                             " FROM names AS n CROSS JOIN step_hours AS h"
                             " ON h.name_id = n.id AND h.hour >= ?1"
                             " WHERE (?2 IS NULL OR n.id = ?2) ORDER BY n.name, h.hour");
  if (!s) return sql::error(db, store.path(), kReadWhat);
  const std::int64_t first_hour = hour_of(since_us);
  const bool cut = since_us != first_hour * kHourUs;
  sqlite3_bind_int64(s.get(), 1, first_hour);
  if (only) sqlite3_bind_int64(s.get(), 2, *only);

  std::vector<StepHour> hours;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    sqlite3_stmt* r = s.get();
    StepHour h;
    std::int64_t name_id = sqlite3_column_int64(r, 0);
    auto name = names->find(name_id);
    h.step = name != names->end() ? name->second : std::to_string(name_id);
    h.hour = sqlite3_column_int64(r, 1);
    const bool stale = sqlite3_column_int(r, 9) != 0;
    if (stale || (cut && h.hour == first_hour)) {
      HourRollups::State state;
      IdRanges ranges;
      if (!row_ranges(r, 7, ranges) ||
          !scan_hour(db, name_id, h.hour, ranges, std::numeric_limits<std::int64_t>::max(),
                     since_us, state)) {
        return sql::error(db, store.path(), kReadWhat);
      }
      h.counts = state.counts;
      DurationHistogram histogram;
      summarize_hour(state.durations, h.timing, histogram);
      h.histogram = histogram.encode();
    } else {
      h.counts = {sqlite3_column_int64(r, 2), sqlite3_column_int64(r, 3),
                  sqlite3_column_int64(r, 4), sqlite3_column_int64(r, 5),
                  sqlite3_column_int64(r, 6)};
      h.timing.n = h.counts.completed();
      h.timing.sum = static_cast<double>(sqlite3_column_int64(r, 11));
      h.timing.m2 = sqlite3_column_double(r, 12);
      h.timing.min = sqlite3_column_int64(r, 13);
      h.timing.max = sqlite3_column_int64(r, 14);
      const auto* blob = static_cast<const char*>(sqlite3_column_blob(r, 15));
      h.histogram.assign(blob ? blob : "", static_cast<std::size_t>(sqlite3_column_bytes(r, 15)));
      if (h.timing.n > 0 && h.histogram.empty()) {
        return Error{ExitCode::store, store.path().string() + ": " + std::string(kReadWhat) +
                                          ": a damaged rollup row for " + h.step};
      }
    }
    if (h.counts.total() > 0) hours.push_back(std::move(h));
  }
  if (rc != SQLITE_DONE) return sql::error(db, store.path(), kReadWhat);
  return hours;
}

Result<std::vector<StepSample>> read_step_samples(Store& store, const std::string& step,
                                                  std::int64_t since_us, bool with_context) {
  sqlite3* db = sql::connection(store);
  sql::ReadTransaction read(db);
  if (!read.ok()) return sql::error(db, store.path(), kReadWhat);
  auto names = read_names(store);
  if (!names) return names.error();
  auto filter = step_filter(store, step);
  if (!filter) return filter.error();
  if (filter->unknown) return std::vector<StepSample>{};
  const std::optional<std::int64_t> only = filter->only;
  auto ranges = id_ranges(store, only, hour_of(since_us));
  if (!ranges) return ranges.error();
  // Contexts are few: read once, not joined to every step.
  std::unordered_map<std::int64_t, std::pair<std::string, std::string>> contexts;
  if (with_context) {
    Statement c = sql::prepare(db, "SELECT id, repo, branch FROM contexts");
    if (!c) return sql::error(db, store.path(), kReadWhat);
    int rc;
    while ((rc = sqlite3_step(c.get())) == SQLITE_ROW) {
      contexts.emplace(sqlite3_column_int64(c.get(), 0),
                       std::pair{sql::column_text(c.get(), 1), sql::column_text(c.get(), 2)});
    }
    if (rc != SQLITE_DONE) return sql::error(db, store.path(), kReadWhat);
  }
  Statement s = sql::prepare(db,
                             "SELECT name_id, started_us, duration_us, status, context_id"
                             " FROM step_rows WHERE id BETWEEN ?1 AND ?2"
                             " AND started_us >= ?3 AND (?4 IS NULL OR name_id = ?4)");
  if (!s) return sql::error(db, store.path(), kReadWhat);
  std::vector<StepSample> samples;
  std::int64_t last_name = -1;
  std::string name_text;
  for (const auto& [first, last] : *ranges) {
    sqlite3_stmt* r = s.get();
    sqlite3_reset(r);
    sqlite3_bind_int64(r, 1, first);
    sqlite3_bind_int64(r, 2, last);
    sqlite3_bind_int64(r, 3, since_us);
    if (only) sqlite3_bind_int64(r, 4, *only);
    int rc;
    while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
      StepSample& sample = samples.emplace_back();
      if (std::int64_t name_id = sqlite3_column_int64(r, 0); name_id != last_name) {
        auto name = names->find(name_id);
        name_text = name != names->end() ? name->second : std::to_string(name_id);
        last_name = name_id;
      }
      sample.step = name_text;
      sample.started_us = sqlite3_column_int64(r, 1);
      sample.duration_us = sqlite3_column_int64(r, 2);
      sample.status = status_from_code(sqlite3_column_int(r, 3));
      if (with_context) {
        auto context = contexts.find(sqlite3_column_int64(r, 4));
        if (context != contexts.end()) {
          sample.repo = context->second.first;
          sample.branch = context->second.second;
        }
      }
    }
    if (rc != SQLITE_DONE) return sql::error(db, store.path(), kReadWhat);
  }
  return samples;
}

Result<std::vector<SlowStep>> read_slowest_steps(Store& store, std::int64_t since_us, int limit,
                                                 const std::string& step, int max_children) {
  sqlite3* db = sql::connection(store);
  sql::ReadTransaction read(db);
  if (!read.ok()) return sql::error(db, store.path(), kReadWhat);
  auto names = read_names(store);
  if (!names) return names.error();
  auto filter = step_filter(store, step);
  if (!filter) return filter.error();
  if (filter->unknown) return std::vector<SlowStep>{};
  const std::optional<std::int64_t> only = filter->only;
  auto ranges = id_ranges(store, only, hour_of(since_us));
  if (!ranges) return ranges.error();
  std::vector<SlowStep> slowest;
  if (limit <= 0) return slowest;

  // The slowest `limit` of each id range, then the slowest `limit` of those.
  Statement s = sql::prepare(db,
                             "SELECT s.id, s.trace_id, s.name_id, s.started_us, s.duration_us,"
                             " s.status, s.threshold_us, c.repo, c.branch"
                             " FROM step_rows AS s JOIN contexts AS c ON c.id = s.context_id"
                             " WHERE s.id BETWEEN ?1 AND ?2 AND s.started_us >= ?3"
                             " AND (?4 IS NULL OR s.name_id = ?4)"
                             " ORDER BY s.duration_us DESC, s.started_us DESC LIMIT ?5");
  Statement children = sql::prepare(db,
                                    "SELECT name_id, offset_us, duration_us, exit_code,"
                                    " cpu_user_us, cpu_sys_us, max_rss_kb FROM span_rows"
                                    " WHERE step_id = ?1 AND parent_seq IS NULL"
                                    " ORDER BY duration_us DESC, seq LIMIT ?2");
  if (!s || !children) return sql::error(db, store.path(), kReadWhat);
  int rc = SQLITE_DONE;
  for (const auto& [first, last] : *ranges) {
    sqlite3_stmt* r = s.get();
    sqlite3_reset(r);
    sqlite3_bind_int64(r, 1, first);
    sqlite3_bind_int64(r, 2, last);
    sqlite3_bind_int64(r, 3, since_us);
    if (only) sqlite3_bind_int64(r, 4, *only);
    sqlite3_bind_int(r, 5, limit);
    while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
      SlowStep slow;
      slow.id = sqlite3_column_int64(r, 0);
      slow.trace_id = static_cast<std::uint64_t>(sqlite3_column_int64(r, 1));
      auto name = names->find(sqlite3_column_int64(r, 2));
      if (name != names->end()) slow.step = name->second;
      slow.started_us = sqlite3_column_int64(r, 3);
      slow.duration = Duration::micros(sqlite3_column_int64(r, 4));
      slow.status = status_from_code(sqlite3_column_int(r, 5));
      if (!sql::column_is_null(r, 6)) {
        slow.threshold = Duration::micros(sqlite3_column_int64(r, 6));
      }
      slow.repo = sql::column_text(r, 7);
      slow.branch = sql::column_text(r, 8);
      slowest.push_back(std::move(slow));
    }
    if (rc != SQLITE_DONE) return sql::error(db, store.path(), kReadWhat);
  }
  auto slower = [](const SlowStep& a, const SlowStep& b) {
    return a.duration != b.duration ? a.duration > b.duration : a.started_us > b.started_us;
  };
  std::sort(slowest.begin(), slowest.end(), slower);
  if (slowest.size() > static_cast<std::size_t>(limit)) {
    slowest.resize(static_cast<std::size_t>(limit));
  }
  for (SlowStep& slow : slowest) {
    sqlite3_stmt* c = children.get();
    sqlite3_reset(c);
    sqlite3_bind_int64(c, 1, slow.id);
    sqlite3_bind_int(c, 2, std::max(0, max_children));
    while ((rc = sqlite3_step(c)) == SQLITE_ROW) {
      Span span;
      auto child_name = names->find(sqlite3_column_int64(c, 0));
      if (child_name != names->end()) span.name = child_name->second;
      span.start_us = slow.started_us + sqlite3_column_int64(c, 1);
      span.duration = Duration::micros(sqlite3_column_int64(c, 2));
      if (!sql::column_is_null(c, 3)) span.exit_code = sqlite3_column_int(c, 3);
      span.usage = {sqlite3_column_int64(c, 4), sqlite3_column_int64(c, 5),
                    sqlite3_column_int64(c, 6)};
      slow.children.push_back(std::move(span));
    }
    if (rc != SQLITE_DONE) return sql::error(db, store.path(), kReadWhat);
  }
  return slowest;
}

}  // namespace perfguard
