#pragma once
// What the store's reads of recorded steps return (Store::step_hours, step_samples,
// for_each_child_span, slowest_steps): per-step, per-hour rollups, single samples, the direct
// child spans of steps, and the slowest steps.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/duration.h"
#include "core/result.h"
#include "stats/histogram.h"
#include "trace/record.h"

namespace perfguard {

inline constexpr std::int64_t kHourUs = 3600LL * 1000000;

// The UTC hour a time falls in, as the schema computes it (SQLite's integer division).
constexpr std::int64_t hour_of(std::int64_t unix_us) {
  return unix_us / kHourUs;
}

struct StatusCounts {
  std::int64_t ok = 0, breach = 0, failed = 0, timeout = 0, interrupted = 0;

  void add(StepStatus s, std::int64_t n = 1) {
    std::int64_t* counts[] = {&ok, &breach, &failed, &timeout, &interrupted};
    *counts[static_cast<int>(s)] += n;  // StepStatus's order
  }
  StatusCounts& operator+=(const StatusCounts& o) {
    ok += o.ok;
    breach += o.breach;
    failed += o.failed;
    timeout += o.timeout;
    interrupted += o.interrupted;
    return *this;
  }
  std::int64_t total() const { return ok + breach + failed + timeout + interrupted; }
  std::int64_t completed() const { return ok + breach; }                    // a timing to count
  std::int64_t failures() const { return failed + timeout + interrupted; }  // no timing
};

// Whether a step's duration is a timing of the step: it finished, within its threshold or
// not. A failed, killed or interrupted step stopped early; its duration says little about
// how long the step takes, so the statistics leave it out (and count it as a failure).
constexpr bool is_completed(StepStatus s) {
  return s == StepStatus::ok || s == StepStatus::breach;
}

// The steps of one step name in one UTC hour (or, for the first hour of a range that starts
// within it, in the part of it from the start on). Counts and moments are exact; the
// histogram gives percentiles within 0.78% (see histogram.h).
struct StepHour {
  std::string step;
  std::int64_t hour = 0;
  StatusCounts counts;
  Moments timing;         // of the completed steps' durations, microseconds
  std::string histogram;  // of the same, encoded: add it to one with DurationHistogram::decode
};

// One recorded step, with where it ran when asked for: what baselines and exact statistics
// read.
struct StepSample {
  std::string step;
  std::int64_t started_us = 0;
  std::int64_t duration_us = 0;
  StepStatus status = StepStatus::ok;
  std::string repo;             // with_context only
  std::string branch;           // with_context only
  std::int64_t context_id = 0;  // with_context only: samples with one id ran in one place
};

// A direct child span of a recorded step (what perf-baseline report breaks a step down by):
// `commit`'s add and commit, `rollback`'s snapshot and reset.
struct ChildSpanSample {
  std::string step;                    // the step's name
  StepStatus status = StepStatus::ok;  // the step's
  std::string span;                    // the span's name
  std::int64_t duration_us = 0;
};

// A step among the slowest, with its direct child spans, slowest first.
struct SlowStep {
  std::int64_t id = 0;
  std::uint64_t trace_id = 0;
  std::string step;
  std::int64_t started_us = 0;
  Duration duration;
  StepStatus status = StepStatus::ok;
  std::optional<Duration> threshold;
  std::string repo;
  std::string branch;
  std::vector<Span> children;  // name, start, duration, exit code, usage (no grandchildren)
};

// The order of the slowest steps, the same from every engine and every copy of the records:
// slowest first; of two as slow, the later first; of two that also started at the same
// instant, by trace id, then step (what identifies a record wherever it is stored; a store's
// row ids differ from one store to the next). SQL orders trace ids as this does, unsigned,
// with `(trace_id < 0), trace_id`.
inline bool slower(const SlowStep& a, const SlowStep& b) {
  if (a.duration != b.duration) return a.duration > b.duration;
  if (a.started_us != b.started_us) return a.started_us > b.started_us;
  if (a.trace_id != b.trace_id) return a.trace_id < b.trace_id;
  return a.step < b.step;
}

// What a repository's recorded steps say about one commit: the steps that left HEAD there
// (a commit, a rollback or recovery to it, a validation at it), among the store's newest
// kHeadVerdictsExamined steps (perf-recover's last known good commit).
struct HeadVerdict {
  std::string head;          // hex object id
  std::int64_t runs = 0;     // steps that left HEAD at it
  std::int64_t not_ok = 0;   // of them: breached, failed, killed or interrupted
  bool alerted = false;      // an unresolved critical alert fired on one of them
  std::int64_t last_us = 0;  // when the newest of them started
};
inline constexpr std::int64_t kHeadVerdictsExamined = 20000;

}  // namespace perfguard
