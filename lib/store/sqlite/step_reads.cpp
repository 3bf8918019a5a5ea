// The reads the statistics make: hourly rollups, single samples, child spans, the slowest
// steps. Each starts the same way (StepRead) and reads the steps through the rollups' id
// ranges.

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "store/sqlite/rollups.h"
#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

namespace {

using sql::Statement;

constexpr std::string_view kReadWhat = "cannot read the recorded steps";

// What every read of recorded steps starts with: one read transaction (everything read sees
// one snapshot of the store), the step names by id, and the step the read is limited to.
class StepRead {
 public:
  explicit StepRead(SqliteStore& store) : store_(store), tx_(store.db()) {}

  // Reads the names and finds `step` (every step when empty).
  Status begin(const std::string& step) {
    if (!tx_.ok()) return failed();
    Statement s = sql::prepare(store_.db(), "SELECT id, name FROM names");
    if (!s) return failed();
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      std::int64_t id = sqlite3_column_int64(s.get(), 0);
      std::string name = sql::column_text(s.get(), 1);
      if (!step.empty() && name == step) only_ = id;
      names_.emplace(id, std::move(name));
    }
    if (rc != SQLITE_DONE) return failed();
    nothing_ = !step.empty() && !only_;
    return {};
  }

  // A step the store never recorded: nothing can match.
  bool nothing() const { return nothing_; }
  // The name id the read is limited to; none for every step.
  std::optional<std::int64_t> only() const { return only_; }
  // The steps' id ranges from the hour of `since_us` on.
  Result<IdRanges> ranges(std::int64_t since_us) {
    return id_ranges(store_, only_, hour_of(since_us));
  }
  std::string name(std::int64_t id) const {
    auto it = names_.find(id);
    return it != names_.end() ? it->second : std::to_string(id);
  }
  Error failed() const { return sql::error(store_.db(), store_.path(), kReadWhat); }

 private:
  SqliteStore& store_;
  sql::ReadTransaction tx_;
  std::unordered_map<std::int64_t, std::string> names_;
  std::optional<std::int64_t> only_;
  bool nothing_ = false;
};

// Binds a range read's common parameters: ?1 and ?2 the ids, ?3 the start, ?4 the name id.
void bind_range(sqlite3_stmt* s, const std::pair<std::int64_t, std::int64_t>& range,
                std::int64_t since_us, std::optional<std::int64_t> only) {
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, range.first);
  sqlite3_bind_int64(s, 2, range.second);
  sqlite3_bind_int64(s, 3, since_us);
  sql::bind_optional(s, 4, only);
}

}  // namespace

Result<std::vector<StepHour>> SqliteStore::step_hours(const std::string& step,
                                                      std::int64_t since_us) {
  StepRead read(*this);
  if (Status begun = read.begin(step); !begun) return begun.error();
  if (read.nothing()) return std::vector<StepHour>{};

  // Through `names`, so each name's hours are one range of the (name_id, hour) key.
  Statement s = sql::prepare(db_,
                             "SELECT h.name_id, h.hour, h.n_ok, h.n_breach, h.n_failed,"
                             " h.n_timeout, h.n_interrupted, h.first_id, h.last_id, h.stale,"
                             " h.ids, h.sum_us, h.m2, h.min_us, h.max_us, h.histogram"
                             " FROM names AS n CROSS JOIN step_hours AS h"
                             " ON h.name_id = n.id AND h.hour >= ?1"
                             " WHERE (?2 IS NULL OR n.id = ?2) ORDER BY n.name, h.hour");
  if (!s) return read.failed();
  const std::int64_t first_hour = hour_of(since_us);
  const bool cut = since_us != first_hour * kHourUs;
  sqlite3_bind_int64(s.get(), 1, first_hour);
  sql::bind_optional(s.get(), 2, read.only());

  std::vector<StepHour> hours;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    sqlite3_stmt* r = s.get();
    StepHour h;
    std::int64_t name_id = sqlite3_column_int64(r, 0);
    h.step = read.name(name_id);
    h.hour = sqlite3_column_int64(r, 1);
    const bool stale = sqlite3_column_int(r, 9) != 0;
    if (stale || (cut && h.hour == first_hour)) {
      HourRollups::State state;
      if (!read_hour_steps(db_, r, 7, name_id, h.hour, since_us, state)) return read.failed();
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
        return sql::error(path_, kReadWhat, "a damaged rollup row for " + h.step);
      }
    }
    if (h.counts.total() > 0) hours.push_back(std::move(h));
  }
  if (rc != SQLITE_DONE) return read.failed();
  return hours;
}

Status SqliteStore::for_each_sample(const std::string& step, std::int64_t since_us,
                                    bool with_context, const RunFilter& where_ran,
                                    const std::function<void(const StepSample&)>& visit) {
  StepRead read(*this);
  if (Status begun = read.begin(step); !begun) return begun.error();
  if (read.nothing()) return {};
  auto places = contexts_matching(where_ran);
  if (!places) return places.error();
  if (places->none()) return {};
  auto ranges = read.ranges(since_us);
  if (!ranges) return ranges.error();
  // Contexts are few: read once, not joined to every step.
  std::unordered_map<std::int64_t, std::pair<std::string, std::string>> contexts;
  if (with_context) {
    Statement c = sql::prepare(db_, "SELECT id, repo, branch FROM contexts");
    if (!c) return read.failed();
    int rc;
    while ((rc = sqlite3_step(c.get())) == SQLITE_ROW) {
      contexts.emplace(sqlite3_column_int64(c.get(), 0),
                       std::pair{sql::column_text(c.get(), 1), sql::column_text(c.get(), 2)});
    }
    if (rc != SQLITE_DONE) return read.failed();
  }
  Statement s = sql::prepare(db_,
                             "SELECT name_id, started_us, duration_us, status, context_id"
                             " FROM step_rows WHERE id BETWEEN ?1 AND ?2"
                             " AND started_us >= ?3 AND (?4 IS NULL OR name_id = ?4)" +
                                 places->condition("context_id"));
  if (!s) return read.failed();
  // One sample, its texts assigned only when its name or context changes.
  StepSample sample;
  std::int64_t last_name = -1;
  for (const auto& range : *ranges) {
    sqlite3_stmt* r = s.get();
    bind_range(r, range, since_us, read.only());
    int rc;
    while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
      if (std::int64_t name_id = sqlite3_column_int64(r, 0); name_id != last_name) {
        sample.step = read.name(name_id);
        last_name = name_id;
      }
      sample.started_us = sqlite3_column_int64(r, 1);
      sample.duration_us = sqlite3_column_int64(r, 2);
      sample.status = status_from_code(sqlite3_column_int(r, 3));
      if (with_context) {
        if (std::int64_t id = sqlite3_column_int64(r, 4); id != sample.context_id) {
          sample.context_id = id;
          auto context = contexts.find(id);
          sample.repo = context != contexts.end() ? context->second.first : std::string();
          sample.branch = context != contexts.end() ? context->second.second : std::string();
        }
      }
      visit(sample);
    }
    if (rc != SQLITE_DONE) return read.failed();
  }
  return {};
}

Status SqliteStore::for_each_child_span(const std::string& step, std::int64_t since_us,
                                        const std::function<void(const ChildSpanSample&)>& visit) {
  StepRead read(*this);
  if (Status begun = read.begin(step); !begun) return begun.error();
  if (read.nothing()) return {};
  auto ranges = read.ranges(since_us);
  if (!ranges) return ranges.error();
  // The steps and their spans, each read in key order and merged here: two scans of a range
  // rather than a search of span_rows for every step. A step's spans past the 256th
  // (span_rows_more, schema::kSpansPerStepKey; rarely any) are read after the others.
  Statement steps = sql::prepare(db_,
                                 "SELECT id, name_id, status FROM step_rows"
                                 " WHERE id BETWEEN ?1 AND ?2 AND started_us >= ?3"
                                 " AND (?4 IS NULL OR name_id = ?4) ORDER BY id");
  Statement spans = sql::prepare(db_,
                                 "SELECT id >> 8, name_id, duration_us FROM span_rows"
                                 " WHERE id BETWEEN ?1 * 256 AND ?2 * 256 + 255"
                                 " AND parent_seq IS NULL ORDER BY id");
  Statement more = sql::prepare(db_,
                                "SELECT s.name_id, s.status, p.name_id, p.duration_us"
                                " FROM span_rows_more AS p CROSS JOIN step_rows AS s"
                                " ON s.id = p.step_id WHERE p.step_id BETWEEN ?1 AND ?2"
                                " AND s.started_us >= ?3 AND (?4 IS NULL OR s.name_id = ?4)"
                                " AND p.parent_seq IS NULL");
  if (!steps || !spans || !more) return read.failed();
  // One span, its texts assigned only when a name changes.
  ChildSpanSample span;
  std::int64_t last_step = -1, last_span = -1;
  auto emit = [&](std::int64_t step_name, int status, std::int64_t span_name,
                  std::int64_t duration_us) {
    if (step_name != last_step) {
      span.step = read.name(step_name);
      last_step = step_name;
    }
    span.status = status_from_code(status);
    if (span_name != last_span) {
      span.span = read.name(span_name);
      last_span = span_name;
    }
    span.duration_us = duration_us;
    visit(span);
  };
  for (const auto& range : *ranges) {
    sqlite3_stmt* st = steps.get();
    sqlite3_stmt* sp = spans.get();
    bind_range(st, range, since_us, read.only());
    sqlite3_reset(sp);
    sqlite3_bind_int64(sp, 1, range.first);
    sqlite3_bind_int64(sp, 2, range.second);
    int step_rc = sqlite3_step(st), span_rc = SQLITE_DONE;
    while (step_rc == SQLITE_ROW && (span_rc = sqlite3_step(sp)) == SQLITE_ROW) {
      const std::int64_t step_id = sqlite3_column_int64(sp, 0);
      while (step_rc == SQLITE_ROW && sqlite3_column_int64(st, 0) < step_id) {
        step_rc = sqlite3_step(st);
      }
      if (step_rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == step_id) {
        emit(sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2), sqlite3_column_int64(sp, 1),
             sqlite3_column_int64(sp, 2));
      }
    }
    if ((step_rc != SQLITE_ROW && step_rc != SQLITE_DONE) ||
        (step_rc == SQLITE_ROW && span_rc != SQLITE_DONE)) {
      return read.failed();
    }
    sqlite3_stmt* m = more.get();
    bind_range(m, range, since_us, read.only());
    int rc;
    while ((rc = sqlite3_step(m)) == SQLITE_ROW) {
      emit(sqlite3_column_int64(m, 0), sqlite3_column_int(m, 1), sqlite3_column_int64(m, 2),
           sqlite3_column_int64(m, 3));
    }
    if (rc != SQLITE_DONE) return read.failed();
  }
  return {};
}

Result<std::vector<SlowStep>> SqliteStore::slowest_steps(std::int64_t since_us, int limit,
                                                         const std::string& step,
                                                         int max_children) {
  StepRead read(*this);
  if (Status begun = read.begin(step); !begun) return begun.error();
  std::vector<SlowStep> slowest;
  if (read.nothing() || limit <= 0) return slowest;
  auto ranges = read.ranges(since_us);
  if (!ranges) return ranges.error();

  // The slowest `limit` of each id range, then the slowest `limit` of those (`slower`). SQL
  // orders by duration, start and trace id but not by step (a name id here): where a range's
  // last row ties on all three with the last one kept, the rest of the tie in that range (steps
  // of one trace, started together and as slow) is read too, so that the steps kept are those
  // every engine keeps.
  const std::string columns =
      "SELECT s.id, s.trace_id, s.name_id, s.started_us, s.duration_us, s.status,"
      " s.threshold_us, c.repo, c.branch"
      " FROM step_rows AS s JOIN contexts AS c ON c.id = s.context_id"
      " WHERE s.id BETWEEN ?1 AND ?2 AND s.started_us >= ?3 AND (?4 IS NULL OR s.name_id = ?4)";
  Statement s = sql::prepare(db_, columns +
                                      " ORDER BY s.duration_us DESC, s.started_us DESC,"
                                      " (s.trace_id < 0), s.trace_id LIMIT ?5");
  Statement tie = sql::prepare(
      db_, columns + " AND s.duration_us = ?5 AND s.started_us = ?6 AND s.trace_id = ?7");
  // By key range, and the rest of a step with more spans (schema::kSpansPerStepKey).
  Statement children = sql::prepare(db_,
                                    "SELECT name_id, offset_us, duration_us, exit_code,"
                                    " cpu_user_us, cpu_sys_us, max_rss_kb, id & 255 FROM span_rows"
                                    " WHERE id BETWEEN ?1 * 256 AND ?1 * 256 + 255"
                                    " AND parent_seq IS NULL"
                                    " UNION ALL SELECT name_id, offset_us, duration_us, exit_code,"
                                    " cpu_user_us, cpu_sys_us, max_rss_kb, seq FROM span_rows_more"
                                    " WHERE step_id = ?1 AND parent_seq IS NULL"
                                    " ORDER BY 3 DESC, 8 LIMIT ?2");
  if (!s || !tie || !children) return read.failed();
  std::unordered_set<std::int64_t> ids;
  // Appends the rows of `r` not taken yet; the number of rows read.
  auto take = [&](sqlite3_stmt* r, int& rc) {
    int rows = 0;
    while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
      ++rows;
      if (!ids.insert(sqlite3_column_int64(r, 0)).second) continue;
      SlowStep slow;
      slow.id = sqlite3_column_int64(r, 0);
      slow.trace_id = static_cast<std::uint64_t>(sqlite3_column_int64(r, 1));
      slow.step = read.name(sqlite3_column_int64(r, 2));
      slow.started_us = sqlite3_column_int64(r, 3);
      slow.duration = Duration::micros(sqlite3_column_int64(r, 4));
      slow.status = status_from_code(sqlite3_column_int(r, 5));
      if (auto threshold = sql::column_optional(r, 6))
        slow.threshold = Duration::micros(*threshold);
      slow.repo = sql::column_text(r, 7);
      slow.branch = sql::column_text(r, 8);
      slowest.push_back(std::move(slow));
    }
    return rows;
  };
  auto same_key = [](const SlowStep& a, const SlowStep& b) {
    return a.duration == b.duration && a.started_us == b.started_us && a.trace_id == b.trace_id;
  };
  std::vector<std::pair<std::pair<std::int64_t, std::int64_t>, SlowStep>> full;  // range, last
  int rc = SQLITE_DONE;
  for (const auto& range : *ranges) {
    sqlite3_stmt* r = s.get();
    bind_range(r, range, since_us, read.only());
    sqlite3_bind_int(r, 5, limit);
    if (take(r, rc) == limit) full.emplace_back(range, slowest.back());
    if (rc != SQLITE_DONE) return read.failed();
  }
  auto keep_slowest = [&] {
    std::sort(slowest.begin(), slowest.end(), slower);
    if (slowest.size() > static_cast<std::size_t>(limit)) {
      slowest.resize(static_cast<std::size_t>(limit));
    }
  };
  keep_slowest();
  if (slowest.size() == static_cast<std::size_t>(limit)) {
    const SlowStep last = slowest.back();
    for (const auto& [range, range_last] : full) {
      if (!same_key(range_last, last)) continue;
      sqlite3_stmt* r = tie.get();
      bind_range(r, range, since_us, read.only());
      sqlite3_bind_int64(r, 5, last.duration.us);
      sqlite3_bind_int64(r, 6, last.started_us);
      sqlite3_bind_int64(r, 7, static_cast<std::int64_t>(last.trace_id));
      take(r, rc);
      if (rc != SQLITE_DONE) return read.failed();
    }
    keep_slowest();
  }
  for (SlowStep& slow : slowest) {
    sqlite3_stmt* c = children.get();
    sqlite3_reset(c);
    sqlite3_bind_int64(c, 1, slow.id);
    sqlite3_bind_int(c, 2, std::max(0, max_children));
    while ((rc = sqlite3_step(c)) == SQLITE_ROW) {
      Span span;
      span.name = read.name(sqlite3_column_int64(c, 0));
      span.start_us = slow.started_us + sqlite3_column_int64(c, 1);
      span.duration = Duration::micros(sqlite3_column_int64(c, 2));
      if (auto code = sql::column_optional(c, 3)) span.exit_code = static_cast<int>(*code);
      span.usage = {sqlite3_column_int64(c, 4), sqlite3_column_int64(c, 5),
                    sqlite3_column_int64(c, 6)};
      slow.children.push_back(std::move(span));
    }
    if (rc != SQLITE_DONE) return read.failed();
  }
  return slowest;
}

}  // namespace perfguard
