#pragma once
// The statistics every perfguard number comes from (DESIGN.md, "Statistics"). Samples are
// durations in whole microseconds; results are doubles (an interpolated percentile or a mean
// falls between microseconds). Computed once into a Summary that every output reads.

#include <cstdint>
#include <span>
#include <vector>

namespace perfguard {

// percentile_cont, as in PostgreSQL and numpy's default ("linear"): for sorted x[0..n-1] and
// p in [0, 1], the rank is (n-1)p and the result interpolates linearly between the two
// closest ranks. NaN for no samples.
double percentile_cont(std::span<const std::int64_t> sorted, double p);

double mean(std::span<const std::int64_t> samples);  // NaN for no samples

// The sample standard deviation (n - 1 in the denominator). NaN for fewer than two samples.
double sample_stddev(std::span<const std::int64_t> samples);

// The median absolute deviation, unscaled: the median of |x - median(x)|. NaN when empty.
double median_absolute_deviation(std::span<const std::int64_t> sorted);

// The robust z-score (x - median) / (1.4826 MAD): 1.4826 makes the MAD estimate the
// standard deviation of normally distributed samples. When the MAD is 0 (more than half the
// samples are the same microsecond) the score is 0 at the median and ±infinity elsewhere.
double robust_z(double x, double median, double mad);
inline constexpr double kMadToSigma = 1.4826;

struct Summary {
  std::int64_t n = 0;
  double min = 0, p50 = 0, p75 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
  double mean = 0, stddev = 0, mad = 0;
};

// Everything above for one set of samples, which must be sorted ascending.
Summary summarize(std::span<const std::int64_t> sorted);

// Merges runs that are each sorted into one sorted vector (the hourly rollups hold sorted
// runs; merging them costs O(n log runs), where sorting from scratch costs O(n log n)).
std::vector<std::int64_t> merge_sorted_runs(std::vector<std::vector<std::int64_t>> runs);

}  // namespace perfguard
