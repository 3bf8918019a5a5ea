#include "baseline/render.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <map>

#include "output/json.h"
#include "output/record_json.h"
#include "output/table.h"

namespace perfguard {

namespace {

// A duration for people: `41.2ms`; `-` when there is no value.
std::string dur(double us) {
  if (!std::isfinite(us)) return "-";
  return format_duration(Duration::micros(std::llround(us)));
}

// "+8.2%", "-12%", "+inf%".
std::string percent(double fraction) {
  if (std::isinf(fraction)) return fraction > 0 ? "+inf%" : "-inf%";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", fraction * 100.0);
  return buf;
}

// `2026-11-23 15:30Z`: minutes are enough for a person.
std::string short_time(std::int64_t unix_us) {
  std::time_t t = static_cast<std::time_t>(unix_us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%MZ", &tm);
  return buf;
}

// A trend period's label: `2026-11-23` for a day, `2026-11-23T15Z` for an hour.
std::string period_label(std::int64_t start_us, TrendPeriod by) {
  std::time_t t = static_cast<std::time_t>(start_us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, by == TrendPeriod::day ? "%Y-%m-%d" : "%Y-%m-%dT%HZ", &tm);
  return buf;
}

// The `exact` column of stats and trend, from before a summary said its method.
bool exact(const Summary& s) {
  return s.method == SummaryMethod::exact;
}

Cell optional_cell(const std::optional<double>& v) {
  return v ? Cell(*v) : Cell();
}

void put(const RenderContext& rc, const std::string& text) {
  std::fputs(text.c_str(), rc.out);
  std::fflush(rc.out);
}

// The text note beside a computed baseline.
std::string compute_note(const ComputeResult& r, const ComputeOptions& o) {
  std::string note;
  const PercentileMove* move = r.largest_move ? &*r.largest_move : nullptr;
  auto move_text = [&] {
    return move->percentile + " " + percent(move->change) + " from " + dur(move->from_us);
  };
  switch (r.outcome) {
    case BaselineOutcome::stored:
      note = "first baseline";
      break;
    case BaselineOutcome::replaced:
      note = r.previous && !o.force ? move_text() : "forced";
      if (o.force && move) note += "; largest move " + move_text();
      break;
    case BaselineOutcome::kept:
      note = "baseline #" + std::to_string(r.baseline_id) + " stays";
      if (move) {
        note += ": largest move " + move->percentile + " " + percent(move->change) + ", within " +
                percent(o.min_change).substr(1);
      }
      break;
    case BaselineOutcome::too_few_samples:
      note = std::to_string(r.summary.n) + " completed run" + (r.summary.n == 1 ? "" : "s") +
             " in " + describe_window(o.window) + ", " + std::to_string(o.min_samples) + " needed";
      break;
  }
  if (r.summary.method == SummaryMethod::histogram) {
    note += "; percentiles from a histogram (within 0.78%)";
  }
  if (r.failures > 0) {
    note += " (" + std::to_string(r.failures) + " failed run" + (r.failures == 1 ? "" : "s") +
            " left out)";
  }
  return note;
}

}  // namespace

bool unicode_charts(std::FILE* stream) {
  if (isatty(fileno(stream)) != 1) return false;
  const char* locale = nullptr;
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* v = std::getenv(name);
    if (v && *v) {
      locale = v;
      break;
    }
  }
  if (!locale) return false;
  std::string lower(locale);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("utf-8") != std::string::npos || lower.find("utf8") != std::string::npos;
}

std::string chart_bar(double value, double extent, double scale, int width, bool unicode) {
  if (!(scale > 0) || !std::isfinite(value) || width <= 0) return "";
  auto cells = [&](double v) {
    return std::clamp(v / scale * width, 0.0, static_cast<double>(width));
  };
  const double solid = cells(value);
  const double shaded = std::isfinite(extent) ? std::max(solid, cells(extent)) : solid;
  std::string out;
  if (!unicode) {
    int full = static_cast<int>(std::lround(solid));
    int more = static_cast<int>(std::lround(shaded)) - full;
    out.append(static_cast<std::size_t>(full), '#');
    out.append(static_cast<std::size_t>(std::max(0, more)), '-');
    return out;
  }
  static const char* kEighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  int eighths = static_cast<int>(std::lround(solid * 8));
  for (int i = 0; i < eighths / 8; ++i) out += "█";
  out += kEighths[eighths % 8];
  int used = (eighths + 7) / 8;
  int rest = static_cast<int>(std::lround(shaded)) - used;
  for (int i = 0; i < rest; ++i) out += "░";
  return out;
}

std::string describe_window(Duration window) {
  if (window.us <= 0) return "all time";
  return "the last " + format_duration(window);
}

std::string in_window(Duration window) {
  return window.us > 0 ? " in " + describe_window(window) : "";
}

void print_compute(const RenderContext& rc, const std::vector<ComputeResult>& results,
                   const ComputeOptions& o) {
  if (rc.format == Format::text) {
    if (results.empty()) {
      put(rc, "no steps recorded in " + describe_window(o.window) + ": no baseline computed\n");
      return;
    }
    const bool scoped = o.scope != BaselineScope::all;
    std::vector<std::vector<std::string>> lines;
    std::vector<std::string> head = {"step"};
    if (scoped) head.insert(head.end(), {"repo", "branch"});
    head.insert(head.end(), {"result", "n", "p50", "p95", "p99", "note"});
    lines.push_back(head);
    for (const ComputeResult& r : results) {
      std::vector<std::string> line = {r.key.step};
      if (scoped) {
        line.push_back(r.key.repo);
        line.push_back(o.scope == BaselineScope::branch
                           ? (r.key.branch.empty() ? "(detached)" : r.key.branch)
                           : "*");
      }
      const char* result =
          r.outcome == BaselineOutcome::too_few_samples ? "too few" : to_string(r.outcome);
      line.insert(line.end(), {result, std::to_string(r.summary.n), dur(r.summary.p50),
                               dur(r.summary.p95), dur(r.summary.p99), compute_note(r, o)});
      lines.push_back(line);
    }
    std::vector<bool> right(head.size(), false);
    for (std::size_t i = head.size() - 5; i + 1 < head.size(); ++i) right[i] = true;
    put(rc, aligned_columns(lines, right));
    return;
  }
  Table t;
  t.columns = {"step",
               "scope",
               "repo",
               "branch",
               "result",
               "baseline_id",
               "n",
               "needed",
               "failures",
               "window_us",
               "min_us",
               "p50_us",
               "p75_us",
               "p90_us",
               "p95_us",
               "p99_us",
               "max_us",
               "mean_us",
               "stddev_us",
               "mad_us",
               "multiplier",
               "min_change",
               "previous_id",
               "moved_percentile",
               "moved_from_us",
               "moved_to_us",
               "moved_change",
               "method"};
  for (const ComputeResult& r : results) {
    const Summary& s = r.summary;
    const PercentileMove* m = r.largest_move ? &*r.largest_move : nullptr;
    t.rows.push_back({r.key.step,
                      to_string(r.key.scope),
                      r.key.repo,
                      r.key.branch,
                      to_string(r.outcome),
                      r.baseline_id ? Cell(r.baseline_id) : Cell(),
                      s.n,
                      o.min_samples,
                      r.failures,
                      o.window.us,
                      s.min,
                      s.p50,
                      s.p75,
                      s.p90,
                      s.p95,
                      s.p99,
                      s.max,
                      s.mean,
                      s.stddev,
                      s.mad,
                      o.multiplier,
                      o.min_change,
                      r.previous ? Cell(r.previous->id) : Cell(),
                      m ? Cell(m->percentile) : Cell(),
                      m ? Cell(m->from_us) : Cell(),
                      m ? Cell(m->to_us) : Cell(),
                      m ? Cell(m->change) : Cell(),
                      to_string(s.method)});
  }
  write_table(rc.out, rc.format, t, "baselines",
              {{"command", "compute"}, {"window_us", o.window.us}});
}

void print_show(const RenderContext& rc, const std::vector<BaselineHeadroom>& baselines) {
  if (rc.format == Format::text) {
    if (baselines.empty()) {
      put(rc, "no active baseline: compute one with `perf-baseline compute`\n");
      return;
    }
    std::vector<std::vector<std::string>> lines = {
        {"step", "scope", "n", "p50", "p95", "p99", "threshold", "headroom", "computed", "method"}};
    for (const BaselineHeadroom& h : baselines) {
      const Baseline& b = h.baseline;
      std::string scope = to_string(b.key.scope);
      if (b.key.scope != BaselineScope::all) scope += " " + b.key.repo;
      if (b.key.scope == BaselineScope::branch) {
        scope += " " + (b.key.branch.empty() ? std::string("(detached)") : b.key.branch);
      }
      std::string headroom = "-";
      if (h.headroom_us) {
        char pct[32];
        std::snprintf(pct, sizeof pct, " (%.0f%%)", h.headroom_pct.value_or(0));
        headroom = dur(*h.headroom_us) + pct;
      }
      lines.push_back({b.key.step, scope, std::to_string(b.summary.n), dur(b.summary.p50),
                       dur(b.summary.p95), dur(b.summary.p99),
                       h.threshold ? format_duration(*h.threshold) : "-", headroom,
                       short_time(b.computed_us), to_string(b.summary.method)});
    }
    put(rc,
        aligned_columns(lines, {false, false, true, true, true, true, true, true, false, false}));
    return;
  }
  Table t;
  t.columns = {"id",          "step",       "scope",  "repo",         "branch",      "computed_at",
               "computed_us", "window_us",  "n",      "min_us",       "p50_us",      "p75_us",
               "p90_us",      "p95_us",     "p99_us", "max_us",       "mean_us",     "stddev_us",
               "mad_us",      "multiplier", "reason", "threshold_us", "headroom_us", "headroom_pct",
               "method"};
  for (const BaselineHeadroom& h : baselines) {
    const Baseline& b = h.baseline;
    const Summary& s = b.summary;
    t.rows.push_back({b.id,
                      b.key.step,
                      to_string(b.key.scope),
                      b.key.repo,
                      b.key.branch,
                      format_utc_timestamp(b.computed_us),
                      b.computed_us,
                      b.window.us,
                      s.n,
                      s.min,
                      s.p50,
                      s.p75,
                      s.p90,
                      s.p95,
                      s.p99,
                      s.max,
                      s.mean,
                      s.stddev,
                      s.mad,
                      b.multiplier,
                      b.reason,
                      h.threshold ? Cell(h.threshold->us) : Cell(),
                      optional_cell(h.headroom_us),
                      optional_cell(h.headroom_pct),
                      to_string(s.method)});
  }
  write_table(rc.out, rc.format, t, "baselines", {{"command", "show"}});
}

void print_stats(const RenderContext& rc, const std::vector<StepStats>& stats, Duration window) {
  if (rc.format == Format::text) {
    if (stats.empty()) {
      put(rc, "no steps recorded" + in_window(window) + "\n");
      return;
    }
    std::vector<std::vector<std::string>> lines = {{"step", "runs", "failed", "breaches", "mean",
                                                    "stddev", "min", "p50", "p90", "p95", "p99",
                                                    "max"}};
    for (const StepStats& s : stats) {
      const Summary& m = s.timing;
      lines.push_back({s.step, std::to_string(s.counts.total()),
                       std::to_string(s.counts.failures()), std::to_string(s.counts.breach),
                       dur(m.mean), dur(m.stddev), dur(m.min), dur(m.p50), dur(m.p90), dur(m.p95),
                       dur(m.p99), dur(m.max)});
    }
    std::vector<bool> right(12, true);
    right[0] = false;
    put(rc, aligned_columns(lines, right));
    return;
  }
  Table t;
  t.columns = {"step",     "count",       "n",       "ok",        "breaches", "failures", "failed",
               "timeouts", "interrupted", "mean_us", "stddev_us", "min_us",   "p50_us",   "p75_us",
               "p90_us",   "p95_us",      "p99_us",  "max_us",    "mad_us",   "exact",    "method"};
  for (const StepStats& s : stats) {
    const Summary& m = s.timing;
    const StatusCounts& c = s.counts;
    t.rows.push_back(
        {s.step,    c.total(),     m.n,    c.ok,     c.breach, c.failures(), c.failed,
         c.timeout, c.interrupted, m.mean, m.stddev, m.min,    m.p50,        m.p75,
         m.p90,     m.p95,         m.p99,  m.max,    m.mad,    exact(m),     to_string(m.method)});
  }
  std::vector<std::pair<std::string, Cell>> members = {{"command", "stats"}};
  if (window.us > 0) {
    members.emplace_back("since_us", rc.now_us - window.us);
  } else {
    members.emplace_back("since_us", Cell());
  }
  write_table(rc.out, rc.format, t, "steps", members);
}

void print_trend(const RenderContext& rc, const std::vector<TrendPoint>& points,
                 const TrendQuery& q) {
  if (rc.format == Format::text) {
    if (points.empty()) {
      put(rc, "no steps recorded in the last " + std::to_string(q.days) + " day" +
                  (q.days == 1 ? "" : "s") + "\n");
      return;
    }
    // Each step's bars share one scale: its largest p95 fills the width.
    std::map<std::string, double> scale;
    for (const TrendPoint& p : points) {
      if (std::isfinite(p.timing.p95)) scale[p.step] = std::max(scale[p.step], p.timing.p95);
    }
    std::vector<std::vector<std::string>> lines = {
        {"step", to_string(q.by), "n", "mean", "p50", "p95", "p99", "p50 ▇ p95 ░"}};
    if (!rc.unicode) lines[0].back() = "p50 # p95 -";
    for (const TrendPoint& p : points) {
      const Summary& m = p.timing;
      lines.push_back({p.step, period_label(p.start_us, q.by), std::to_string(m.n), dur(m.mean),
                       dur(m.p50), dur(m.p95), dur(m.p99),
                       chart_bar(m.p50, m.p95, scale[p.step], 20, rc.unicode)});
    }
    put(rc, aligned_columns(lines, {false, false, true, true, true, true, true, false}));
    return;
  }
  Table t;
  t.columns = {"step",    "period", "start",  "start_us", "count",  "n",     "breaches", "failures",
               "mean_us", "p50_us", "p95_us", "p99_us",   "max_us", "exact", "method"};
  for (const TrendPoint& p : points) {
    const Summary& m = p.timing;
    t.rows.push_back({p.step, to_string(q.by), period_label(p.start_us, q.by), p.start_us,
                      p.counts.total(), m.n, p.counts.breach, p.counts.failures(), m.mean, m.p50,
                      m.p95, m.p99, m.max, exact(m), to_string(m.method)});
  }
  write_table(rc.out, rc.format, t, "points",
              {{"command", "trend"}, {"by", to_string(q.by)}, {"days", q.days}});
}

void print_slowest(const RenderContext& rc, const std::vector<SlowStep>& steps, Duration window) {
  if (rc.format == Format::text) {
    if (steps.empty()) {
      put(rc, "no steps recorded" + in_window(window) + "\n");
      return;
    }
    std::vector<std::vector<std::string>> lines = {
        {"duration", "step", "status", "started", "branch", "slowest spans"}};
    for (const SlowStep& s : steps) {
      std::string spans;
      for (const Span& c : s.children) {
        if (!spans.empty()) spans += ", ";
        spans += c.name + " " + format_duration(c.duration);
      }
      lines.push_back({format_duration(s.duration), s.step, to_string(s.status),
                       short_time(s.started_us), s.branch.empty() ? "-" : s.branch, spans});
    }
    put(rc, aligned_columns(lines, {true, false, false, false, false, false}));
    return;
  }
  Table t;
  t.columns = {"trace_id",    "step",         "status", "started_at", "started_us",
               "duration_us", "threshold_us", "repo",   "branch",     "spans"};
  for (const SlowStep& s : steps) {
    JsonWriter w;
    std::string flat;
    w.begin_array();
    for (const Span& c : s.children) {
      w.begin_object();
      w.key("name").value(c.name);
      w.key("offset_us").value(c.start_us - s.started_us);
      w.key("duration_us").value(c.duration.us);
      w.key("exit_code");
      if (c.exit_code) {
        w.value(*c.exit_code);
      } else {
        w.null();
      }
      w.end_object();
      if (!flat.empty()) flat += ';';
      flat += c.name + ":" + std::to_string(c.duration.us);
    }
    w.end_array();
    t.rows.push_back({format_trace_id(s.trace_id), s.step, to_string(s.status),
                      format_utc_timestamp(s.started_us), s.started_us, s.duration.us,
                      s.threshold ? Cell(s.threshold->us) : Cell(), s.repo, s.branch,
                      Cell::json(w.take(), flat)});
  }
  write_table(rc.out, rc.format, t, "steps", {{"command", "slowest"}});
}

}  // namespace perfguard
