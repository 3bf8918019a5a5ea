#include "store/postgres/rollups.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <limits>

#include "stats/histogram.h"

namespace perfguard {

namespace {

constexpr std::string_view kWhat = "cannot roll up the recorded steps";
// Hours (of a step) read from the steps in one result rather than row by row.
constexpr std::size_t kHoursInOneResult = 32;

void split(const std::vector<HourKey>& hours, std::vector<std::string>& steps,
           std::vector<std::int64_t>& numbers) {
  for (const HourKey& h : hours) {
    steps.push_back(h.step);
    numbers.push_back(h.hour);
  }
}

std::string hex_bytes(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

}  // namespace

StepStatus status_from_code(std::int64_t code) {
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

Status read_hours_from_steps(pq::Connection& c, const std::vector<HourKey>& hours,
                             std::int64_t since_us, bool streamed,
                             const std::function<Status(std::size_t, StepHour&)>& visit) {
  if (hours.empty()) return {};
  std::vector<std::string> steps;
  std::vector<std::int64_t> numbers;
  split(hours, steps, numbers);
  // An hour's steps in the order they were recorded (by id), as the SQLite engine reads them:
  // the moments are summed in that order. Each hour is a range of the records' identity index
  // of its own (the LATERAL subquery, kept from being merged into a join by OFFSET 0): as one
  // join, the planner, which knows a few steps make up the table, would rather scan all of
  // it for every batch of hours, and a ship of a million records would take minutes.
  pq::Params params;
  params.add_array(steps).add_array(numbers).add(since_us);
  std::size_t current = 0;
  HourSteps read;
  auto finish = [&](std::size_t upto) -> Status {
    for (; current < upto; ++current) {
      StepHour hour;
      hour.step = hours[current].step;
      hour.hour = hours[current].hour;
      read.roll_up(hour);
      if (Status s = visit(current, hour); !s) return s;
      read = HourSteps{};
    }
    return {};
  };
  const std::string sql =
      "SELECT t.ord - 1, s.status, s.duration_us"
      " FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS t(step, hour, ord)"
      " CROSS JOIN LATERAL (SELECT s.id, s.status, s.duration_us FROM step_rows AS s"
      " WHERE s.step = t.step AND s.started_us >= t.hour * 3600000000"
      " AND s.started_us < (t.hour + 1) * 3600000000 AND s.started_us >= $3 OFFSET 0) AS s"
      " ORDER BY t.ord, s.id";
  auto rows = [&](const pq::Rows& rows) -> Status {
    for (int i = 0; i < rows.size(); ++i) {
      const auto at = static_cast<std::size_t>(rows.int64(i, 0));
      if (at != current) {
        if (Status s = finish(at); !s) return s;
      }
      read.add(status_from_code(rows.int64(i, 1)), rows.int64(i, 2));
    }
    return {};
  };
  Status done;
  if (streamed && hours.size() <= kHoursInOneResult) {
    // A few hours (a read's cut first hour): one result. Row by row, libpq makes a result of
    // each row, which costs more than the rows of a busy hour take to read.
    auto whole = c.exec(kWhat, sql, params);
    done = whole ? rows(*whole) : Status(whole.error());
  } else if (streamed) {
    Status visited;
    done = c.stream(kWhat, sql, params, [&](const pq::Rows& r) {
      if (visited) visited = rows(r);
    });
    if (done && !visited) done = visited;
  } else {
    done = c.for_each_batch(kWhat, sql, params, rows);
  }
  if (!done) return done;
  return finish(hours.size());
}

void HourSteps::roll_up(StepHour& hour) const {
  hour.counts = counts;
  hour.timing = Moments::of(durations);
  DurationHistogram histogram;
  for (std::int64_t d : durations) histogram.add(d);
  hour.histogram = histogram.encode();
}

namespace {

// Of the hours in `written`, in its order, those that held no steps before this transaction
// (rebuild_hours says why a missing row says so).
Result<std::vector<HourKey>> new_hours(pq::Connection& c, const WrittenHours& written) {
  std::vector<std::string> steps;
  std::vector<std::int64_t> numbers;
  for (const auto& [key, _] : written) {
    steps.push_back(key.step);
    numbers.push_back(key.hour);
  }
  auto rolled =
      c.exec(kWhat,
             "SELECT t.step, t.hour"
             " FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS t(step, hour, ord)"
             " WHERE NOT EXISTS (SELECT 1 FROM step_hours AS h"
             " WHERE h.step = t.step AND h.hour = t.hour)"
             " AND NOT EXISTS (SELECT 1 FROM stale_hours AS h"
             " WHERE h.step = t.step AND h.hour = t.hour) ORDER BY t.ord",
             pq::Params().add_array(steps).add_array(numbers));
  if (!rolled) return rolled.error();
  std::vector<HourKey> out;
  for (int i = 0; i < rolled->size(); ++i) {
    out.push_back({std::string(rolled->text(i, 0)), rolled->int64(i, 1)});
  }
  return out;
}

}  // namespace

Status rebuild_hours(pq::Connection& c, std::vector<HourKey> hours, const WrittenHours& written) {
  std::sort(hours.begin(), hours.end());
  hours.erase(std::unique(hours.begin(), hours.end()), hours.end());
  if (hours.empty()) return {};
  std::vector<std::string> steps;
  std::vector<std::int64_t> numbers;
  split(hours, steps, numbers);
  pq::Params keys;
  keys.add_array(steps).add_array(numbers);
  // In one order for every writer (the lock keys'), so that two writers cannot wait for each
  // other.
  if (auto locked = c.exec(kWhat,
                           "SELECT count(pg_advisory_xact_lock(k.a, k.b)) FROM ("
                           " SELECT hashtext(t.step) AS a, t.hour::integer AS b"
                           " FROM unnest($1::text[], $2::bigint[]) AS t(step, hour)"
                           " ORDER BY 1, 2 OFFSET 0) AS k",
                           keys);
      !locked) {
    return locked.error();
  }
  // Asked under the locks: no other writer adds to these hours until this one commits.
  std::vector<HourKey> fresh;
  if (!written.empty()) {
    auto found = new_hours(c, written);
    if (!found) return found.error();
    fresh = std::move(*found);
  }
  if (auto cleared = c.exec(kWhat,
                            "DELETE FROM step_hours WHERE (step, hour) IN"
                            " (SELECT * FROM unnest($1::text[], $2::bigint[]))",
                            keys);
      !cleared) {
    return cleared.error();
  }
  if (auto cleared = c.exec(kWhat,
                            "DELETE FROM stale_hours WHERE (step, hour) IN"
                            " (SELECT * FROM unnest($1::text[], $2::bigint[]))",
                            keys);
      !cleared) {
    return cleared.error();
  }
  // The rows, written a few thousand at a time.
  std::vector<std::string> row_steps, histograms;
  std::vector<std::int64_t> row_hours, n_ok, n_breach, n_failed, n_timeout, n_interrupted, sums,
      mins, maxs;
  std::vector<std::string> m2s;
  auto write = [&]() -> Status {
    if (row_steps.empty()) return {};
    pq::Params p;
    p.add_array(row_steps).add_array(row_hours).add_array(n_ok).add_array(n_breach);
    p.add_array(n_failed).add_array(n_timeout).add_array(n_interrupted).add_array(sums);
    p.add_array(m2s).add_array(mins).add_array(maxs).add_array(histograms);
    auto put = c.exec(kWhat,
                      "INSERT INTO step_hours (step, hour, n_ok, n_breach, n_failed, n_timeout,"
                      " n_interrupted, sum_us, m2, min_us, max_us, histogram)"
                      " SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[],"
                      " $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[],"
                      " $9::double precision[], $10::bigint[], $11::bigint[], $12::bytea[])",
                      p);
    if (!put) return put.error();
    for (auto* v : {&row_steps, &histograms, &m2s}) v->clear();
    for (auto* v : {&row_hours, &n_ok, &n_breach, &n_failed, &n_timeout, &n_interrupted, &sums,
                    &mins, &maxs}) {
      v->clear();
    }
    return {};
  };
  auto add = [&](const StepHour& h) -> Status {
    if (h.counts.total() == 0) return {};
    row_steps.push_back(h.step);
    row_hours.push_back(h.hour);
    n_ok.push_back(h.counts.ok);
    n_breach.push_back(h.counts.breach);
    n_failed.push_back(h.counts.failed);
    n_timeout.push_back(h.counts.timeout);
    n_interrupted.push_back(h.counts.interrupted);
    sums.push_back(static_cast<std::int64_t>(h.timing.sum));
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, h.timing.m2);
    (void)ec;
    m2s.emplace_back(buf, end);
    mins.push_back(h.timing.min);
    maxs.push_back(h.timing.max);
    histograms.push_back(hex_bytes(h.histogram));
    if (row_steps.size() >= 2000) return write();
    return {};
  };
  for (const HourKey& key : fresh) {
    StepHour hour;
    hour.step = key.step;
    hour.hour = key.hour;
    written.at(key).roll_up(hour);
    if (Status s = add(hour); !s) return s;
  }
  std::vector<HourKey> rest;
  std::set_difference(hours.begin(), hours.end(), fresh.begin(), fresh.end(),
                      std::back_inserter(rest));
  Status read =
      read_hours_from_steps(c, rest, std::numeric_limits<std::int64_t>::min(),
                            /*streamed=*/false, [&](std::size_t, StepHour& h) { return add(h); });
  if (!read) return read;
  return write();
}

Result<std::vector<HourKey>> stale_hours(pq::Connection& c) {
  auto rows = c.exec(kWhat, "SELECT step, hour FROM stale_hours ORDER BY step, hour");
  if (!rows) return rows.error();
  std::vector<HourKey> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({std::string(rows->text(i, 0)), rows->int64(i, 1)});
  }
  return out;
}

}  // namespace perfguard
