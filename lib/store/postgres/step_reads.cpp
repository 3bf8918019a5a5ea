// The reads the statistics make from the shared store: hourly rollups, single samples, child
// spans, the slowest steps. Round trips are what a read costs here (a few rows each): each
// streams one statement where it can (one snapshot), and takes a repeatable-read transaction
// (or the writer's, inside one) where it needs more than one.

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

#include "core/clock.h"
#include "store/postgres/postgres_engine.h"
#include "store/postgres/rollups.h"

namespace perfguard {

namespace {

constexpr std::string_view kReadWhat = "cannot read the recorded steps";
constexpr std::string_view kSnapshot = "ISOLATION LEVEL REPEATABLE READ READ ONLY";

// The step names a read from `since_us` on covers: `step`, or every step with an hour from
// then on. A read then goes through step_rows_identity (step, start) once per name, as the
// SQLite engine's reads go through the hours' id ranges, instead of scanning every step.
Result<std::vector<std::string>> steps_to_read(pq::Connection& c, const std::string& step,
                                               std::int64_t since_us) {
  if (!step.empty()) return std::vector<std::string>{step};
  auto rows = c.exec(kReadWhat,
                     "SELECT step FROM step_hours WHERE hour >= $1"
                     " UNION SELECT step FROM stale_hours WHERE hour >= $1",
                     pq::Params().add(hour_of(since_us)));
  if (!rows) return rows.error();
  std::vector<std::string> out;
  for (int i = 0; i < rows->size(); ++i) out.emplace_back(rows->text(i, 0));
  return out;
}

// " AND column IN ('a', 'b')" for the step names a read covers (steps_to_read), written as
// literals for a read through COPY; "" when a read from `since_us` on covers none.
Result<std::string> step_condition(pq::Connection& c, std::string_view column,
                                   const std::string& step, std::int64_t since_us) {
  auto steps = steps_to_read(c, step, since_us);
  if (!steps) return steps.error();
  if (steps->empty()) return std::string();
  std::string out = " AND ";
  out += column;
  out += " IN (";
  for (std::size_t i = 0; i < steps->size(); ++i) {
    auto quoted = c.literal((*steps)[i]);
    if (!quoted) return quoted.error();
    if (i) out += ", ";
    out += *quoted;
  }
  return out + ")";
}

}  // namespace

Result<std::vector<StepHour>> PostgresStore::step_hours(const std::string& step,
                                                        std::int64_t since_us) {
  pq::Connection& c = *connection_;
  // One statement in the common case (one snapshot, one round trip): the rollups, the stale
  // hours, and the steps of the first hour when the window's start cuts it (always, but for a
  // start on the hour). A second only for stale hours after the first, read from their steps;
  // a step committed in between can only be a real one, counted in the hours read second.
  // Thousands of rollups for a month: read through COPY (Connection::copy_out says why), the
  // values written into the statement.
  const std::int64_t first_hour = hour_of(since_us);
  const bool cut = since_us != first_hour * kHourUs;
  const std::string first = std::to_string(first_hour);
  std::string only_step;
  if (!step.empty()) {
    auto quoted = c.literal(step);
    if (!quoted) return quoted.error();
    only_step = " AND step = " + *quoted;
  }
  enum Kind : std::int64_t { rollup = 0, stale = 1, first_hour_step = 2 };
  std::string sql =
      "SELECT 0::bigint, step, hour, n_ok, n_breach, n_failed, n_timeout, n_interrupted,"
      " sum_us, m2, min_us, max_us, histogram, NULL::bigint, NULL::bigint, NULL::bigint"
      " FROM step_hours WHERE hour " +
      std::string(cut ? "> " : ">= ") + first + only_step +
      " UNION ALL SELECT 1, step, hour, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL"
      " FROM stale_hours WHERE hour >= " +
      first + only_step;
  if (cut) {
    // Every committed step's hour has a rollup or a stale mark: the first hour's step names
    // are those, and each is read through the identity index (step, start).
    sql += " UNION ALL SELECT 2, t.step, " + first +
           ", 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, s.id, s.status::bigint, s.duration_us"
           " FROM (SELECT step FROM step_hours WHERE hour = " +
           first + only_step + " UNION SELECT step FROM stale_hours WHERE hour = " + first +
           only_step +
           ") AS t CROSS JOIN LATERAL (SELECT s.id, s.status, s.duration_us FROM step_rows AS s"
           " WHERE s.step = t.step AND s.started_us >= " +
           std::to_string(since_us) + " AND s.started_us < " +
           std::to_string((first_hour + 1) * kHourUs) + " OFFSET 0) AS s";
  }
  // Each step's hours, in byte order of the steps; a step's rows come by hour (the index by
  // hour gives them so) and are put in order at the end whatever the order they came in.
  std::map<std::string, std::vector<StepHour>, std::less<>> by_step;
  // Each step's vector gets room for every hour from the window's start to now (and the
  // first, read from its steps) when it is made: growing as the rows came, it moved every
  // rollup held so far at each growth, into pages the kernel had to clear (a month's read took
  // a quarter longer). Room not used is address space, never touched; a budget keeps a read
  // over many step names and years from reserving much of it.
  const std::size_t room =
      static_cast<std::size_t>(std::max<std::int64_t>(hour_of(now_unix_us()) - first_hour, 0) + 2);
  std::size_t room_left = std::size_t{1} << 18;
  std::vector<StepHour>* current = nullptr;
  std::string_view current_step;
  auto hours_of = [&](std::string_view name) -> std::vector<StepHour>& {
    if (!current || name != current_step) {
      auto it = by_step.find(name);
      if (it == by_step.end()) {
        it = by_step.try_emplace(std::string(name)).first;
        if (room <= room_left) {
          it->second.reserve(room);
          room_left -= room;
        }
      }
      current = &it->second;
      current_step = it->first;
    }
    return *current;
  };
  std::vector<HourKey> from_steps;  // stale hours after the first: read from their steps
  struct FirstHourStep {
    std::string step;
    std::int64_t id;
    StepStatus status;
    std::int64_t duration_us;
  };
  std::vector<FirstHourStep> first_hour_steps;
  std::size_t rows = 0;
  Status copied = c.copy_out(kReadWhat, sql, [&](const pq::CopiedRow& row) -> Status {
    ++rows;
    const auto kind = static_cast<Kind>(row.int64(0));
    if (kind == first_hour_step) {
      first_hour_steps.push_back({std::string(row.text(1)), row.int64(13),
                                  status_from_code(row.int64(14)), row.int64(15)});
      return {};
    }
    const std::int64_t hour = row.int64(2);
    if (kind == stale) {
      // The cut first hour is read from its steps already, in this statement.
      if (!(cut && hour == first_hour)) from_steps.push_back({std::string(row.text(1)), hour});
      return {};
    }
    std::vector<StepHour>& hours = hours_of(row.text(1));
    StepHour& h = hours.emplace_back();
    h.step = current_step;
    h.hour = hour;
    h.counts = {row.int64(3), row.int64(4), row.int64(5), row.int64(6), row.int64(7)};
    h.timing.n = h.counts.completed();
    h.timing.sum = static_cast<double>(row.int64(8));
    h.timing.m2 = row.real(9);
    h.timing.min = row.int64(10);
    h.timing.max = row.int64(11);
    h.histogram = row.bytes(12);
    if (h.timing.n > 0 && h.histogram.empty()) {
      return c.error(kReadWhat, "a damaged rollup row for " + h.step);
    }
    return {};
  });
  if (!copied) return copied.error();
  // A stale hour's rollup is not read: its steps are.
  std::sort(from_steps.begin(), from_steps.end());
  for (const HourKey& key : from_steps) {
    std::erase_if(hours_of(key.step), [&](const StepHour& h) { return h.hour == key.hour; });
  }
  // The first hour of each step rolled up from its steps in the order they were stored, as
  // every hour is (the moments are summed in that order).
  std::sort(first_hour_steps.begin(), first_hour_steps.end(), [](const auto& a, const auto& b) {
    return std::tie(a.step, a.id) < std::tie(b.step, b.id);
  });
  for (auto at = first_hour_steps.begin(); at != first_hour_steps.end();) {
    HourSteps read;
    auto next = at;
    for (; next != first_hour_steps.end() && next->step == at->step; ++next) {
      read.add(next->status, next->duration_us);
    }
    StepHour h;
    h.step = at->step;
    h.hour = first_hour;
    read.roll_up(h);
    hours_of(h.step).push_back(std::move(h));
    at = next;
  }
  Status stale_read = read_hours_from_steps(c, from_steps, since_us, /*streamed=*/true,
                                            [&](std::size_t, StepHour& h) {
                                              hours_of(h.step).push_back(std::move(h));
                                              return Status{};
                                            });
  if (!stale_read) return stale_read.error();
  std::vector<StepHour> out;
  out.reserve(rows);
  auto by_hour = [](const StepHour& a, const StepHour& b) { return a.hour < b.hour; };
  for (auto& [name, hours] : by_step) {
    if (!std::is_sorted(hours.begin(), hours.end(), by_hour)) {
      std::sort(hours.begin(), hours.end(), by_hour);
    }
    for (StepHour& h : hours) {
      if (h.counts.total() > 0) out.push_back(std::move(h));
    }
  }
  return out;
}

Status PostgresStore::for_each_sample(const std::string& step, std::int64_t since_us,
                                      bool with_context, const RunFilter& where_ran,
                                      const std::function<void(const StepSample&)>& visit) {
  pq::Connection& c = *connection_;
  auto places = contexts_matching(where_ran);
  if (!places) return places.error();
  if (places->none()) return {};
  // One statement, so one snapshot. Contexts are only ever added, and before the steps that
  // name them: read once before, not joined to every step.
  std::unordered_map<std::int64_t, std::pair<std::string, std::string>> contexts;
  if (with_context) {
    auto rows = c.exec(kReadWhat, "SELECT id, repo, branch FROM contexts");
    if (!rows) return rows.error();
    for (int i = 0; i < rows->size(); ++i) {
      contexts.emplace(rows->int64(i, 0),
                       std::pair{std::string(rows->text(i, 1)), std::string(rows->text(i, 2))});
    }
  }
  auto steps = step_condition(c, "step", step, since_us);
  if (!steps) return steps.error();
  if (steps->empty()) return {};
  StepSample sample;
  std::int64_t rows = 0;
  return c.copy_out(
      kReadWhat,
      "SELECT step, started_us, duration_us, status, context_id FROM step_rows"
      " WHERE started_us >= " +
          std::to_string(since_us) + *steps + places->condition("context_id") + " ORDER BY id",
      [&](const pq::CopiedRow& r) -> Status {
        if (std::string_view name = r.text(0); name != sample.step) sample.step = name;
        sample.started_us = r.int64(1);
        sample.duration_us = r.int64(2);
        sample.status = status_from_code(r.int64(3));
        if (with_context) {
          if (std::int64_t id = r.int64(4); id != sample.context_id) {
            sample.context_id = id;
            auto context = contexts.find(id);
            sample.repo = context != contexts.end() ? context->second.first : std::string();
            sample.branch = context != contexts.end() ? context->second.second : std::string();
          }
        }
        visit(sample);
        if (++rows % 50000 == 0) tick();
        return {};
      });
}

Status PostgresStore::for_each_child_span(
    const std::string& step, std::int64_t since_us,
    const std::function<void(const ChildSpanSample&)>& visit) {
  pq::Connection& c = *connection_;
  auto steps = step_condition(c, "s.step", step, since_us);
  if (!steps) return steps.error();
  if (steps->empty()) return {};
  ChildSpanSample span;
  std::int64_t rows = 0;
  return c.copy_out(kReadWhat,
                    "SELECT s.step, s.status, p.name, p.duration_us FROM step_rows AS s"
                    " JOIN span_rows AS p ON p.step_id = s.id AND p.parent_seq IS NULL"
                    " WHERE s.started_us >= " +
                        std::to_string(since_us) + *steps + " ORDER BY s.id, p.seq",
                    [&](const pq::CopiedRow& r) -> Status {
                      if (std::string_view name = r.text(0); name != span.step) span.step = name;
                      span.status = status_from_code(r.int64(1));
                      if (std::string_view name = r.text(2); name != span.span) span.span = name;
                      span.duration_us = r.int64(3);
                      visit(span);
                      if (++rows % 50000 == 0) tick();
                      return {};
                    });
}

Result<std::vector<SlowStep>> PostgresStore::slowest_steps(std::int64_t since_us, int limit,
                                                           const std::string& step,
                                                           int max_children) {
  std::vector<SlowStep> slowest;
  if (limit <= 0) return slowest;
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  if (Status s = tx.begin(kReadWhat, kSnapshot); !s) return s.error();
  auto steps = steps_to_read(c, step, since_us);
  if (!steps) return steps.error();
  auto rows = c.exec(kReadWhat,
                     "SELECT s.id, s.trace_id, s.step, s.started_us, s.duration_us, s.status,"
                     " s.threshold_us, c.repo, c.branch"
                     " FROM step_rows AS s JOIN contexts AS c ON c.id = s.context_id"
                     " WHERE s.step = ANY($2::text[]) AND s.started_us >= $1"
                     " ORDER BY s.duration_us DESC, s.started_us DESC,"
                     " (s.trace_id < 0), s.trace_id, s.step LIMIT $3",
                     pq::Params().add(since_us).add_array(*steps).add(limit));
  if (!rows) return rows.error();
  for (int i = 0; i < rows->size(); ++i) {
    SlowStep slow;
    slow.id = rows->int64(i, 0);
    slow.trace_id = static_cast<std::uint64_t>(rows->int64(i, 1));
    slow.step = rows->text(i, 2);
    slow.started_us = rows->int64(i, 3);
    slow.duration = Duration::micros(rows->int64(i, 4));
    slow.status = status_from_code(rows->int64(i, 5));
    if (auto threshold = rows->optional_int64(i, 6)) slow.threshold = Duration::micros(*threshold);
    slow.repo = rows->text(i, 7);
    slow.branch = rows->text(i, 8);
    slowest.push_back(std::move(slow));
  }
  for (SlowStep& slow : slowest) {
    auto children = c.exec(kReadWhat,
                           "SELECT name, offset_us, duration_us, exit_code, cpu_user_us,"
                           " cpu_sys_us, max_rss_kb FROM span_rows"
                           " WHERE step_id = $1 AND parent_seq IS NULL"
                           " ORDER BY duration_us DESC, seq LIMIT $2",
                           pq::Params().add(slow.id).add(std::max(0, max_children)));
    if (!children) return children.error();
    for (int i = 0; i < children->size(); ++i) {
      Span span;
      span.name = children->text(i, 0);
      span.start_us = slow.started_us + children->int64(i, 1);
      span.duration = Duration::micros(children->int64(i, 2));
      if (auto code = children->optional_int64(i, 3)) span.exit_code = static_cast<int>(*code);
      span.usage = {children->int64(i, 4), children->int64(i, 5), children->int64(i, 6)};
      slow.children.push_back(std::move(span));
    }
  }
  if (Status s = tx.commit(kReadWhat); !s) return s.error();
  return slowest;
}

}  // namespace perfguard
