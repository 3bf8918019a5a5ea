// The reads the statistics make from the shared store: hourly rollups, single samples, child
// spans, the slowest steps. Round trips are what a read costs here (a few rows each): each
// streams one statement where it can (one snapshot), and takes a repeatable-read transaction
// (or the writer's, inside one) where it needs more than one.

#include <algorithm>
#include <map>
#include <unordered_map>

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

}  // namespace

Result<std::vector<StepHour>> PostgresStore::step_hours(const std::string& step,
                                                        std::int64_t since_us) {
  pq::Connection& c = *connection_;
  // Two statements at most and no transaction around them (each costs a round trip): the
  // rollups and the stale hours, then the steps of the hours to read from the steps (the cut
  // first hour, stale ones). A step committed in between can only be a real one, counted in
  // the hours read second.
  const std::int64_t first_hour = hour_of(since_us);
  const bool cut = since_us != first_hour * kHourUs;
  pq::Params params;
  params.add(first_hour).add(step);
  // Every hour, by step (byte order) then hour; those to read from the steps marked.
  std::map<HourKey, std::optional<StepHour>> hours;
  // The rows and the stale hours in one statement: one snapshot, one round trip.
  auto rows = c.exec(kReadWhat,
                     "SELECT step, hour, n_ok, n_breach, n_failed, n_timeout, n_interrupted,"
                     " sum_us, m2, min_us, max_us, histogram, false FROM step_hours"
                     " WHERE hour >= $1 AND (step = $2 OR $2 = '')"
                     " UNION ALL SELECT step, hour, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, true"
                     " FROM stale_hours WHERE hour >= $1 AND (step = $2 OR $2 = '')",
                     params, pq::Results::binary);
  if (!rows) return rows.error();
  for (int i = 0; i < rows->size(); ++i) {
    HourKey key{std::string(rows->text(i, 0)), rows->int64(i, 1)};
    if (rows->boolean(i, 12) || (cut && key.hour == first_hour)) {
      hours[std::move(key)] = std::nullopt;
      continue;
    }
    if (auto it = hours.find(key); it != hours.end() && !it->second) continue;  // stale
    StepHour h;
    h.step = key.step;
    h.hour = key.hour;
    h.counts = {rows->int64(i, 2), rows->int64(i, 3), rows->int64(i, 4), rows->int64(i, 5),
                rows->int64(i, 6)};
    h.timing.n = h.counts.completed();
    h.timing.sum = static_cast<double>(rows->int64(i, 7));
    h.timing.m2 = rows->real(i, 8);
    h.timing.min = rows->int64(i, 9);
    h.timing.max = rows->int64(i, 10);
    h.histogram = rows->bytes(i, 11);
    if (h.timing.n > 0 && h.histogram.empty()) {
      return c.error(kReadWhat, "a damaged rollup row for " + h.step);
    }
    hours.emplace(std::move(key), std::move(h));
  }
  std::vector<HourKey> from_steps;
  for (const auto& [key, h] : hours) {
    if (!h) from_steps.push_back(key);
  }
  Status read = read_hours_from_steps(c, from_steps, since_us, /*streamed=*/true,
                                      [&](std::size_t, StepHour& h) {
                                        hours[HourKey{h.step, h.hour}] = std::move(h);
                                        return Status{};
                                      });
  if (!read) return read.error();
  std::vector<StepHour> out;
  for (auto& [key, h] : hours) {
    if (h && h->counts.total() > 0) out.push_back(std::move(*h));
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
  auto steps = steps_to_read(c, step, since_us);
  if (!steps) return steps.error();
  StepSample sample;
  std::int64_t rows = 0;
  return c.stream(
      kReadWhat,
      "SELECT step, started_us, duration_us, status, context_id FROM step_rows"
      " WHERE step = ANY($2::text[]) AND started_us >= $1" +
          places->condition("context_id") + " ORDER BY id",
      pq::Params().add(since_us).add_array(*steps), [&](const pq::Rows& r) {
        for (int i = 0; i < r.size(); ++i) {
          if (std::string_view name = r.text(i, 0); name != sample.step) sample.step = name;
          sample.started_us = r.int64(i, 1);
          sample.duration_us = r.int64(i, 2);
          sample.status = status_from_code(r.int64(i, 3));
          if (with_context) {
            if (std::int64_t id = r.int64(i, 4); id != sample.context_id) {
              sample.context_id = id;
              auto context = contexts.find(id);
              sample.repo = context != contexts.end() ? context->second.first : std::string();
              sample.branch = context != contexts.end() ? context->second.second : std::string();
            }
          }
          visit(sample);
        }
        if (++rows % 50000 == 0) tick();
      });
}

Status PostgresStore::for_each_child_span(
    const std::string& step, std::int64_t since_us,
    const std::function<void(const ChildSpanSample&)>& visit) {
  pq::Connection& c = *connection_;
  auto steps = steps_to_read(c, step, since_us);
  if (!steps) return steps.error();
  ChildSpanSample span;
  std::int64_t rows = 0;
  return c.stream(kReadWhat,
                  "SELECT s.step, s.status, p.name, p.duration_us FROM step_rows AS s"
                  " JOIN span_rows AS p ON p.step_id = s.id AND p.parent_seq IS NULL"
                  " WHERE s.step = ANY($2::text[]) AND s.started_us >= $1 ORDER BY s.id, p.seq",
                  pq::Params().add(since_us).add_array(*steps), [&](const pq::Rows& r) {
                    for (int i = 0; i < r.size(); ++i) {
                      if (std::string_view name = r.text(i, 0); name != span.step) span.step = name;
                      span.status = status_from_code(r.int64(i, 1));
                      if (std::string_view name = r.text(i, 2); name != span.span) span.span = name;
                      span.duration_us = r.int64(i, 3);
                      visit(span);
                    }
                    if (++rows % 50000 == 0) tick();
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
