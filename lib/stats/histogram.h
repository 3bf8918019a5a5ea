#pragma once
// A histogram of durations with log-linear buckets, for percentiles over more samples than
// are worth reading one by one (the store keeps one per step and hour).
//
// Bucket widths: every microsecond below 256 us has its own bucket (exact); above, each power
// of two is cut into 128 buckets, so a bucket is at most 1/128 (0.78%) of the values in it
// wide. A percentile estimated from it (percentile_cont's rank, samples spread evenly across
// their bucket, clamped to the exact min and max) is within one bucket width of the exact
// percentile_cont: within 0.78% of it, and exact below 256 us.

#include <cstdint>
#include <string>
#include <vector>

#include "stats/statistics.h"

namespace perfguard {

class DurationHistogram {
 public:
  static constexpr int kSubBuckets = 128;

  static int bucket_of(std::int64_t us);  // negative durations count as 0
  static std::int64_t bucket_low(int bucket);
  static std::int64_t bucket_width(int bucket);

  void add(std::int64_t us, std::int64_t count = 1);
  void merge(const DurationHistogram& other);
  void clear();  // empty again, keeping the memory
  std::int64_t count() const { return total_; }
  bool empty() const { return total_ == 0; }

  // Estimates of percentile_cont at each p (in [0, 1]), clamped to [min, max].
  std::vector<double> percentiles(const std::vector<double>& ps, double min, double max) const;

  // An estimate of the median absolute deviation around `median` (the estimated median):
  // the samples placed as percentiles() places them (evenly across their bucket), and the
  // percentile_cont median of their distances to `median`. Exact below 256 us; else within
  // 0.78% of (2 x median + MAD), as both the median and each distance are within a bucket
  // of where they are. NaN when empty.
  double median_absolute_deviation(double median) const;

  // The compact form the store keeps: (bucket - previous bucket - 1, count) as varints for
  // every non-empty bucket, in bucket order. decode() adds to what is there; false when the
  // bytes are damaged.
  std::string encode() const;
  bool decode(const unsigned char* data, std::size_t size);

 private:
  std::vector<std::int64_t> counts_;  // by bucket, as far as the largest bucket used
  std::int64_t total_ = 0;
};

// Count, sum, sum of squared deviations (M2), min and max of a set of samples, mergeable
// without the samples (Chan et al.'s pairwise update): exact mean and sample standard
// deviation from per-hour rollups.
struct Moments {
  std::int64_t n = 0;
  double sum = 0;  // exact for sums below 2^53 us (285 years)
  double m2 = 0;
  std::int64_t min = 0, max = 0;

  static Moments of(const std::vector<std::int64_t>& samples);
  void merge(const Moments& other);
  double mean() const;    // NaN when empty
  double stddev() const;  // sample (n - 1); NaN below two samples
};

// A Summary without the samples (method histogram): n, mean, stddev, min and max exact from
// the moments, the percentiles and MAD estimated from the histogram.
Summary summarize(const Moments& moments, const DurationHistogram& histogram);

}  // namespace perfguard
