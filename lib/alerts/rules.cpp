#include "alerts/rules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "stats/statistics.h"
#include "stats/summary.h"

namespace perfguard {

namespace {

constexpr std::int64_t kDayUs = 24 * kHourUs;

std::string seconds_text(double seconds) {
  return format_duration(Duration::micros(std::llround(seconds * 1e6)));
}
std::string us_text(std::int64_t us) {
  return format_duration(Duration::micros(us));
}
std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

RunRef ref_of(const JudgedRun& r) {
  return RunRef{r.run.trace_id, r.step, r.run.started_us, r.run.duration_us, r.run.status};
}

bool breached(StepStatus s) {
  return s == StepStatus::breach || s == StepStatus::timeout;
}

// What the rules of one run have in common: the key's parts and the finding's frame.
class Judge {
 public:
  Judge(const JudgedRun& run, std::vector<AlertFinding>& out) : run_(run), out_(out) {}

  // A finding of `rule` on this run's step in its repository and branch (or, with
  // `whole_repo`, in its repository: branch "").
  AlertFinding& finding(AlertRuleKind rule, bool firing, Severity severity,
                        bool whole_repo = false) {
    AlertFinding f;
    f.key = AlertKey{rule, run_.step, run_.repo, whole_repo ? "" : run_.branch};
    f.firing = firing;
    f.severity = severity;
    f.runs.push_back(ref_of(run_));
    out_.push_back(std::move(f));
    return out_.back();
  }

 private:
  const JudgedRun& run_;
  std::vector<AlertFinding>& out_;
};

}  // namespace

JudgedRun judged_run(const StepRecord& r) {
  JudgedRun j;
  j.step = r.step;
  j.repo = r.context.repo;
  j.branch = r.context.branch;
  j.run.trace_id = r.trace_id;
  j.run.started_us = r.root.start_us;
  j.run.duration_us = r.root.duration.us;
  j.run.status = r.status;
  if (r.threshold) j.run.threshold_us = r.threshold->us;
  return j;
}

namespace {

std::int64_t failures_in_a_row(const AlertsConfig::FailureRule& c, const std::string& step) {
  if (step == "commit") return c.commit;
  if (step == "rollback") return c.rollback;
  if (step == "validate") return c.validate;
  if (step == "recover") return c.recover;
  return 1;
}

std::optional<Duration> threshold_of(const Thresholds& t, const std::string& step) {
  if (step == "commit") return t.commit;
  if (step == "rollback") return t.rollback;
  if (step == "validate") return t.validate;
  if (step == "recover") return t.recover;
  return std::nullopt;
}

// The most specific active baseline for the run: its branch's, its repository's, or the step's.
const Baseline* baseline_for(const std::vector<Baseline>& baselines, const JudgedRun& r) {
  const Baseline* best = nullptr;
  int best_rank = -1;
  for (const Baseline& b : baselines) {
    int rank = -1;
    if (b.key.scope == BaselineScope::branch && b.key.repo == r.repo && b.key.branch == r.branch)
      rank = 2;
    if (b.key.scope == BaselineScope::repo && b.key.repo == r.repo) rank = 1;
    if (b.key.scope == BaselineScope::all) rank = 0;
    if (rank > best_rank) {
      best = &b;
      best_rank = rank;
    }
  }
  return best;
}

// Daily rollups of a step: completed runs' summaries per UTC day from `since_us` on.
Result<std::map<std::int64_t, SummaryBuilder>> days_of(Store& store, const std::string& step,
                                                       std::int64_t since_us) {
  auto hours = store.step_hours(step, since_us);
  if (!hours) return hours.error();
  std::map<std::int64_t, SummaryBuilder> days;
  for (const StepHour& h : *hours) {
    if (h.counts.completed() == 0) continue;
    days[h.hour * kHourUs / kDayUs].add(h.timing, h.histogram);
  }
  return days;
}

}  // namespace

Result<std::vector<AlertFinding>> AlertRules::evaluate(const JudgedRun& r, Evaluation when) {
  std::vector<AlertFinding> out;
  if (!config_.enabled) return out;
  Judge judge(r, out);
  const StepStatus status = r.run.status;
  const double seconds = static_cast<double>(r.run.duration_us) / 1e6;

  // threshold: this run breached, or was killed at its timeout.
  if (config_.threshold.enabled && status != StepStatus::failed &&
      status != StepStatus::interrupted) {
    AlertFinding& f =
        judge.finding(AlertRuleKind::threshold, breached(status), config_.threshold.severity);
    f.value = seconds;
    if (r.run.threshold_us) f.limit = static_cast<double>(*r.run.threshold_us) / 1e6;
    std::string limit = r.run.threshold_us ? us_text(*r.run.threshold_us) : "?";
    f.summary =
        status == StepStatus::timeout
            ? r.step + " was killed at its timeout after " + seconds_text(seconds)
            : r.step + " took " + seconds_text(seconds) + ", over its " + limit + " threshold";
  }

  // The recent runs in the run's repository and branch, newest first, this one included.
  std::int64_t want = 1;
  if (config_.consecutive.enabled) want = std::max(want, config_.consecutive.runs);
  if (config_.failure.enabled) want = std::max(want, failures_in_a_row(config_.failure, r.step));
  if (config_.anomaly.enabled) want = std::max(want, config_.anomaly.samples + 1);
  want = std::max<std::int64_t>(want, 2);  // the run before: first of its hour?
  RunQuery q;
  q.step = r.step;
  q.repo = r.repo;
  q.branch = r.branch;
  q.limit = static_cast<int>(want);
  auto recent = store_.recent_runs(q);
  if (!recent) return recent.error();
  // The judged run first, whatever the store holds (a scan judges the newest run anyway).
  std::vector<RecentRun> runs;
  runs.push_back(r.run);
  for (const RecentRun& x : *recent) {
    if (x.trace_id == r.run.trace_id && x.started_us == r.run.started_us) continue;
    if (x.started_us > r.run.started_us) continue;  // judged run is the newest considered
    runs.push_back(x);
  }

  // consecutive: the last N runs all breached.
  if (config_.consecutive.enabled && status != StepStatus::failed &&
      status != StepStatus::interrupted) {
    auto n = static_cast<std::size_t>(config_.consecutive.runs);
    bool firing = runs.size() >= n && std::all_of(runs.begin(), runs.begin() + n,
                                                  [](auto& x) { return breached(x.status); });
    AlertFinding& f =
        judge.finding(AlertRuleKind::consecutive, firing, config_.consecutive.severity);
    f.value = static_cast<double>(n);
    f.limit = static_cast<double>(n);
    f.summary =
        "the last " + std::to_string(n) + " " + r.step + " runs all breached their threshold";
  }

  // failure: the last N runs all failed (git's exit code non-zero).
  if (config_.failure.enabled && status != StepStatus::interrupted) {
    auto n = static_cast<std::size_t>(failures_in_a_row(config_.failure, r.step));
    bool firing = runs.size() >= n && std::all_of(runs.begin(), runs.begin() + n, [](auto& x) {
                    return x.status == StepStatus::failed;
                  });
    AlertFinding& f = judge.finding(AlertRuleKind::failure, firing, config_.failure.severity);
    f.value = static_cast<double>(n);
    f.limit = static_cast<double>(n);
    f.summary =
        n == 1 ? r.step + " failed" : r.step + " failed " + std::to_string(n) + " times in a row";
  }

  const bool completed = is_completed(status);

  // baseline: longer than the active baseline's p99 times its multiplier.
  if (config_.baseline.enabled && completed) {
    auto baselines = store_.active_baselines(r.step);
    if (!baselines) return baselines.error();
    if (const Baseline* b = baseline_for(*baselines, r); b && b->summary.p99 == b->summary.p99) {
      double multiplier = b->multiplier > 0 ? b->multiplier : 2.0;
      double limit = b->summary.p99 * multiplier / 1e6;
      bool firing = seconds > limit;
      Severity severity =
          firing && seconds > 2 * limit ? Severity::critical : config_.baseline.severity;
      AlertFinding& f = judge.finding(AlertRuleKind::baseline, firing, severity);
      f.value = seconds;
      f.limit = limit;
      f.summary = r.step + " took " + seconds_text(seconds) + ", over " + fixed(multiplier, 1) +
                  "x its baseline p99 of " + seconds_text(b->summary.p99 / 1e6) + " (" +
                  seconds_text(limit) + ")";
    }
  }

  // anomaly: a robust z-score against the recent completed runs before this one.
  if (config_.anomaly.enabled && completed) {
    std::vector<std::int64_t> before;
    for (std::size_t i = 1;
         i < runs.size() && static_cast<std::int64_t>(before.size()) < config_.anomaly.samples;
         ++i) {
      if (is_completed(runs[i].status)) before.push_back(runs[i].duration_us);
    }
    if (static_cast<std::int64_t>(before.size()) >= config_.anomaly.min_samples) {
      std::sort(before.begin(), before.end());
      double median = percentile_cont(before, 0.5);
      double mad = median_absolute_deviation(before);
      double z = robust_z(static_cast<double>(r.run.duration_us), median, mad);
      bool firing = z > config_.anomaly.z;
      AlertFinding& f = judge.finding(AlertRuleKind::anomaly, firing, config_.anomaly.severity);
      f.value = std::isfinite(z) ? z : 1e9;
      f.limit = config_.anomaly.z;
      f.summary = r.step + " took " + seconds_text(seconds) + ", a robust z-score of " +
                  (std::isfinite(z) ? fixed(z, 1) : std::string("infinity")) +
                  " against its last " + std::to_string(before.size()) + " runs (median " +
                  seconds_text(median / 1e6) + ")";
    }
  }

  // rollback rate: too many rollbacks and recoveries in the repository lately.
  if (config_.rollback_rate.enabled && (r.step == "rollback" || r.step == "recover")) {
    std::int64_t count = 0;
    for (const char* step : {"rollback", "recover"}) {
      RunQuery rq;
      rq.step = step;
      rq.repo = r.repo;
      rq.since_us = now_us_ - config_.rollback_rate.window.us;
      rq.limit = static_cast<int>(config_.rollback_rate.max + 1);
      auto found = store_.recent_runs(rq);
      if (!found) return found.error();
      count += static_cast<std::int64_t>(found->size());
    }
    bool firing = count > config_.rollback_rate.max;
    AlertFinding& f = judge.finding(AlertRuleKind::rollback_rate, firing,
                                    config_.rollback_rate.severity, /*whole_repo=*/true);
    f.key.step = "rollback";
    f.value = static_cast<double>(count);
    f.limit = static_cast<double>(config_.rollback_rate.max);
    f.summary = (firing ? "more than " : "at most ") + std::to_string(config_.rollback_rate.max) +
                " rollbacks and recoveries in the last " +
                format_duration(config_.rollback_rate.window);
  }

  // The window rules move by the hour: on record, only the first run of its hour asks them.
  bool window_rules = when == Evaluation::scan || runs.size() < 2 ||
                      hour_of(runs[1].started_us) != hour_of(r.run.started_us);
  if (!window_rules || !completed) return out;

  // degradation: the median of the last window against the window before it.
  if (config_.degradation.enabled) {
    const std::int64_t w = config_.degradation.window.us;
    auto days = store_.step_hours(r.step, now_us_ - 2 * w);
    if (!days) return days.error();
    SummaryBuilder recent_window, previous_window;
    for (const StepHour& h : *days) {
      if (h.counts.completed() == 0) continue;
      (h.hour * kHourUs >= now_us_ - w ? recent_window : previous_window)
          .add(h.timing, h.histogram);
    }
    std::int64_t n_recent = recent_window.count(), n_previous = previous_window.count();
    if (n_recent >= config_.degradation.min_samples &&
        n_previous >= config_.degradation.min_samples) {
      double now_median = recent_window.finish().p50, then_median = previous_window.finish().p50;
      double change = then_median > 0 ? (now_median / then_median - 1) * 100 : 0;
      bool firing = change > config_.degradation.percent;
      AlertFinding& f = judge.finding(AlertRuleKind::degradation, firing,
                                      config_.degradation.severity, /*whole_repo=*/true);
      f.value = change;
      f.limit = config_.degradation.percent;
      f.summary = r.step + " median " + seconds_text(now_median / 1e6) + " over the last " +
                  format_duration(config_.degradation.window) + ", " + fixed(change, 0) +
                  "% from " + seconds_text(then_median / 1e6) + " the " +
                  format_duration(config_.degradation.window) + " before";
    }
  }

  // prediction: where a straight line through the daily p95s crosses the threshold.
  if (config_.prediction.enabled) {
    std::optional<Duration> limit = r.run.threshold_us
                                        ? std::optional(Duration::micros(*r.run.threshold_us))
                                        : threshold_of(thresholds_, r.step);
    auto days = days_of(store_, r.step, now_us_ - config_.prediction.lookback.us);
    if (!days) return days.error();
    if (limit && static_cast<std::int64_t>(days->size()) >= config_.prediction.min_days) {
      // Least squares through (day, p95 in seconds).
      double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
      const double today = static_cast<double>(now_us_) / kDayUs;
      for (auto& [day, builder] : *days) {
        double x = static_cast<double>(day) + 0.5 - today;  // days from now
        double y = builder.finish().p95 / 1e6;
        n += 1;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
      }
      double denominator = n * sxx - sx * sx;
      if (denominator > 0) {
        double slope = (n * sxy - sx * sy) / denominator;
        double now_value = (sy - slope * sx) / n;  // the line at x = 0, now
        double target = limit->seconds_f();
        double horizon = static_cast<double>(config_.prediction.horizon.us) / kDayUs;
        std::optional<double> in_days;
        if (slope > 0 && now_value < target) in_days = (target - now_value) / slope;
        bool firing = in_days && *in_days <= horizon;
        AlertFinding& f = judge.finding(AlertRuleKind::prediction, firing,
                                        config_.prediction.severity, /*whole_repo=*/true);
        f.value = in_days ? *in_days : -1;
        f.limit = horizon;
        long days_left = in_days ? std::max(1L, std::lround(*in_days)) : 0;
        f.summary =
            in_days
                ? "at this rate " + r.step + " p95 passes " + format_duration(*limit) +
                      " in about " + std::to_string(days_left) + (days_left == 1 ? " day" : " days")
                : r.step + " p95 is not heading for its " + format_duration(*limit) + " threshold";
      }
    }
  }
  return out;
}

Result<std::vector<AlertFinding>> evaluate_records(Store& store, const Config& config,
                                                   const std::vector<StepRecord>& records,
                                                   std::int64_t now_us) {
  std::vector<AlertFinding> out;
  AlertRules rules(store, config.alerts, config.thresholds, now_us);
  for (const StepRecord& r : records) {
    auto found = rules.evaluate(judged_run(r), Evaluation::on_record);
    if (!found) return found.error();
    std::move(found->begin(), found->end(), std::back_inserter(out));
  }
  return out;
}

Result<std::vector<JudgedRun>> runs_to_scan(Store& store, std::int64_t since_us) {
  // The newest run per step, repository and branch, read whole (its trace id and threshold
  // with it), in that order.
  std::map<std::tuple<std::string, std::string, std::string>, JudgedRun> newest;
  auto status = store.for_each_newest_step(since_us, [&](StepRecord& r) -> Status {
    JudgedRun run = judged_run(r);
    newest.insert_or_assign({run.step, run.repo, run.branch}, std::move(run));
    return {};
  });
  if (!status) return status.error();
  std::vector<JudgedRun> out;
  for (auto& [key, run] : newest) out.push_back(std::move(run));
  return out;
}

}  // namespace perfguard
