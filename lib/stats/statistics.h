#pragma once
// The statistics every perfguard number comes from (DESIGN.md, "Statistics"). Samples are
// durations in whole microseconds; results are doubles (an interpolated percentile or a mean
// falls between microseconds). Computed once into a Summary that every output reads.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
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

// How a Summary's percentiles and MAD were found: from every sample (exact percentile_cont),
// or from a DurationHistogram (histogram.h: within 0.78%). Counts, mean, stddev, min and
// max are exact either way.
enum class SummaryMethod { exact, histogram };
const char* to_string(SummaryMethod method);  // "exact", "histogram"
std::optional<SummaryMethod> parse_summary_method(std::string_view text);

// Up to this many samples a summary is exact; above it, it comes from a histogram. Why 5,000:
// the sampling error of the statistics already dwarfs the histogram's 0.78% there (the p99
// of 5,000 runs rests on its 50 slowest; one run more or less among them moves it by more
// than 0.78% for any spread a git step shows), while reading and sorting 5,000 durations
// costs about 2 ms, so stats, trend and compute stay within their time goals at any number
// of runs. One limit for every consumer: stats, trend, baselines and the report agree on
// which numbers are exact.
inline constexpr std::int64_t kExactSamples = 5000;

// The one summary of a set of durations that every perfguard number comes from: stats,
// trend, baselines, the HTML report (SummaryBuilder, summary.h, makes one).
struct Summary {
  std::int64_t n = 0;
  double min = 0, p50 = 0, p75 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
  double mean = 0, stddev = 0, mad = 0;
  SummaryMethod method = SummaryMethod::exact;
};

// Everything above for one set of samples, which must be sorted ascending (exact).
Summary summarize(std::span<const std::int64_t> sorted);

// Merges runs that are each sorted into one sorted vector (the hourly rollups hold sorted
// runs; merging them costs O(n log runs), where sorting from scratch costs O(n log n)).
std::vector<std::int64_t> merge_sorted_runs(std::vector<std::vector<std::int64_t>> runs);

}  // namespace perfguard
