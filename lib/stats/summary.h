#pragma once
// Builds the one Summary (statistics.h) of a set of durations, whoever asks: stats, trend,
// baselines, the HTML report. Up to kExactSamples durations it keeps them and the summary is
// exact; beyond, or as soon as a rollup (moments and a histogram, as the store keeps per
// step and hour) is added, it keeps moments and a DurationHistogram instead, in constant
// memory, and the summary's method is histogram.

#include <cstdint>
#include <string>
#include <vector>

#include "stats/histogram.h"
#include "stats/statistics.h"

namespace perfguard {

class SummaryBuilder {
 public:
  explicit SummaryBuilder(std::int64_t exact_limit = kExactSamples) : limit_(exact_limit) {}

  // One duration, in microseconds.
  void add(std::int64_t duration_us);
  // Durations already rolled up: their moments and histogram.
  void add(const Moments& moments, const DurationHistogram& histogram);
  // The same with the histogram as DurationHistogram::encode wrote it, decoded straight into
  // this one (no histogram of its own to allocate and merge); false when it is damaged.
  bool add(const Moments& moments, const std::string& encoded_histogram);

  std::int64_t count() const { return moments_.n + static_cast<std::int64_t>(pending_.size()); }
  bool exact() const { return !rolled_; }

  // The summary of everything added; the builder is empty again afterwards.
  Summary finish();

 private:
  void roll_up();  // moves the pending durations into the moments and the histogram

  std::int64_t limit_;
  bool rolled_ = false;
  std::vector<std::int64_t> pending_;  // every duration while exact; a batch after
  Moments moments_;
  DurationHistogram histogram_;
};

}  // namespace perfguard
