#include "stats/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace perfguard {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The k-th smallest (0-based) of the sorted sequences a and b, by merging from the front.
double kth_of_two(std::span<const double> a, std::span<const double> b, std::size_t k) {
  std::size_t i = 0, j = 0;
  for (;;) {
    bool take_a = j == b.size() || (i < a.size() && a[i] <= b[j]);
    double v = take_a ? a[i++] : b[j++];
    if (i + j == k + 1) return v;
  }
}

}  // namespace

const char* to_string(SummaryMethod method) {
  return method == SummaryMethod::histogram ? "histogram" : "exact";
}

std::optional<SummaryMethod> parse_summary_method(std::string_view text) {
  if (text == "exact") return SummaryMethod::exact;
  if (text == "histogram") return SummaryMethod::histogram;
  return std::nullopt;
}

double percentile_cont(std::span<const std::int64_t> sorted, double p) {
  if (sorted.empty()) return kNaN;
  p = std::clamp(p, 0.0, 1.0);
  double rank = static_cast<double>(sorted.size() - 1) * p;
  auto lo = static_cast<std::size_t>(rank);
  std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  double frac = rank - static_cast<double>(lo);
  double a = static_cast<double>(sorted[lo]);
  return a + frac * (static_cast<double>(sorted[hi]) - a);
}

double mean(std::span<const std::int64_t> samples) {
  if (samples.empty()) return kNaN;
  // Integer sum: exact for any realistic count of microsecond durations.
  long double sum = 0;
  for (std::int64_t v : samples) sum += static_cast<long double>(v);
  return static_cast<double>(sum / static_cast<long double>(samples.size()));
}

double sample_stddev(std::span<const std::int64_t> samples) {
  if (samples.size() < 2) return kNaN;
  // Two passes: squares of deviations from the mean, never the cancelling sum of squares.
  long double m = mean(samples);
  long double sq = 0;
  for (std::int64_t v : samples) {
    long double d = static_cast<long double>(v) - m;
    sq += d * d;
  }
  return static_cast<double>(std::sqrt(sq / static_cast<long double>(samples.size() - 1)));
}

double median_absolute_deviation(std::span<const std::int64_t> sorted) {
  if (sorted.empty()) return kNaN;
  const double median = percentile_cont(sorted, 0.5);
  // |x - median| is two sorted runs: the values below the median, read backwards, and the
  // values from it upwards. Their median comes from merging the two, in O(n).
  auto split = static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), median) -
                                        sorted.begin());
  std::vector<double> below, above;
  below.reserve(split);
  above.reserve(sorted.size() - split);
  for (std::size_t i = split; i-- > 0;) below.push_back(median - static_cast<double>(sorted[i]));
  for (std::size_t i = split; i < sorted.size(); ++i) {
    above.push_back(static_cast<double>(sorted[i]) - median);
  }
  const std::size_t n = sorted.size();
  double rank = static_cast<double>(n - 1) * 0.5;
  auto lo = static_cast<std::size_t>(rank);
  double a = kth_of_two(below, above, lo);
  if (rank == static_cast<double>(lo)) return a;
  double b = kth_of_two(below, above, lo + 1);
  return a + (rank - static_cast<double>(lo)) * (b - a);
}

double robust_z(double x, double median, double mad) {
  if (mad == 0) {
    if (x == median) return 0;
    return x > median ? std::numeric_limits<double>::infinity()
                      : -std::numeric_limits<double>::infinity();
  }
  return (x - median) / (kMadToSigma * mad);
}

Summary summarize(std::span<const std::int64_t> sorted) {
  Summary s;
  s.n = static_cast<std::int64_t>(sorted.size());
  if (sorted.empty()) {
    s.min = s.p50 = s.p75 = s.p90 = s.p95 = s.p99 = s.max = s.mean = s.stddev = s.mad = kNaN;
    return s;
  }
  s.min = static_cast<double>(sorted.front());
  s.max = static_cast<double>(sorted.back());
  s.p50 = percentile_cont(sorted, 0.50);
  s.p75 = percentile_cont(sorted, 0.75);
  s.p90 = percentile_cont(sorted, 0.90);
  s.p95 = percentile_cont(sorted, 0.95);
  s.p99 = percentile_cont(sorted, 0.99);
  s.mean = mean(sorted);
  s.stddev = sample_stddev(sorted);
  s.mad = median_absolute_deviation(sorted);
  return s;
}

std::vector<std::int64_t> merge_sorted_runs(std::vector<std::vector<std::int64_t>> runs) {
  // Bottom-up, like the merge phase of a merge sort: all runs side by side in one buffer,
  // adjacent pairs merged into a second buffer, and back, log2(runs) times.
  std::size_t total = 0;
  for (const auto& r : runs) total += r.size();
  std::vector<std::int64_t> a, b(total);
  a.reserve(total);
  std::vector<std::size_t> bounds{0};
  for (const auto& r : runs) {
    if (r.empty()) continue;
    a.insert(a.end(), r.begin(), r.end());
    bounds.push_back(a.size());
  }
  while (bounds.size() > 2) {
    std::vector<std::size_t> next{0};
    std::size_t i = 0;
    for (; i + 2 < bounds.size(); i += 2) {
      std::merge(a.begin() + static_cast<std::ptrdiff_t>(bounds[i]),
                 a.begin() + static_cast<std::ptrdiff_t>(bounds[i + 1]),
                 a.begin() + static_cast<std::ptrdiff_t>(bounds[i + 1]),
                 a.begin() + static_cast<std::ptrdiff_t>(bounds[i + 2]),
                 b.begin() + static_cast<std::ptrdiff_t>(bounds[i]));
      next.push_back(bounds[i + 2]);
    }
    if (i + 1 < bounds.size()) {  // an odd run out: carried over as it is
      std::copy(a.begin() + static_cast<std::ptrdiff_t>(bounds[i]), a.end(),
                b.begin() + static_cast<std::ptrdiff_t>(bounds[i]));
      next.push_back(bounds[i + 1]);
    }
    a.swap(b);
    bounds = std::move(next);
  }
  return a;
}

}  // namespace perfguard
