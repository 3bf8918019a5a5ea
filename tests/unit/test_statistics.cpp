#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "stats/histogram.h"
#include "stats/statistics.h"
#include "stats/summary.h"

using namespace perfguard;

namespace {

std::vector<std::int64_t> sorted(std::vector<std::int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// An independent percentile_cont, written the way the store's SQL views compute it: every
// sample, in sorted position r (1-based here, as R's type 7 writes it), weighs
// max(0, 1 - |r - h|) where h = 1 + (n - 1)p; the result is the weighted sum. Sorting is a
// plain insertion sort, so not even std::sort is shared with the code under test.
double reference_percentile(std::vector<std::int64_t> x, double p) {
  for (std::size_t i = 1; i < x.size(); ++i) {
    for (std::size_t j = i; j > 0 && x[j - 1] > x[j]; --j) std::swap(x[j - 1], x[j]);
  }
  const double h = 1 + static_cast<double>(x.size() - 1) * p;
  double sum = 0;
  for (std::size_t r = 1; r <= x.size(); ++r) {
    double w = std::max(0.0, 1.0 - std::fabs(static_cast<double>(r) - h));
    sum += w * static_cast<double>(x[r - 1]);
  }
  return sum;
}

// The MAD the long way: median, every absolute deviation, sorted, median again.
double reference_mad(const std::vector<std::int64_t>& x) {
  double m = reference_percentile(x, 0.5);
  std::vector<double> dev;
  for (auto v : x) dev.push_back(std::fabs(static_cast<double>(v) - m));
  std::sort(dev.begin(), dev.end());
  double h = static_cast<double>(dev.size() - 1) * 0.5;
  auto lo = static_cast<std::size_t>(std::floor(h));
  auto hi = static_cast<std::size_t>(std::ceil(h));
  return dev[lo] + (h - static_cast<double>(lo)) * (dev[hi] - dev[lo]);
}

}  // namespace

TEST_CASE("percentile_cont matches numpy's documented examples") {
  // numpy.percentile's docstring: a = [[10, 7, 4], [3, 2, 1]]; np.percentile(a, 50) == 3.5,
  // along axis 0: [6.5, 4.5, 2.5], along axis 1: [7.0, 2.0].
  CHECK(percentile_cont(sorted({10, 7, 4, 3, 2, 1}), 0.5) == 3.5);
  CHECK(percentile_cont(sorted({10, 3}), 0.5) == 6.5);
  CHECK(percentile_cont(sorted({7, 2}), 0.5) == 4.5);
  CHECK(percentile_cont(sorted({4, 1}), 0.5) == 2.5);
  CHECK(percentile_cont(sorted({10, 7, 4}), 0.5) == 7.0);
  CHECK(percentile_cont(sorted({3, 2, 1}), 0.5) == 2.0);
}

TEST_CASE("percentile_cont matches the linear-interpolation worked example") {
  // Wikipedia, "Percentile", the C = 1 variant (numpy, Excel PERCENTILE.INC) on
  // {15, 20, 35, 40, 50}: 5th 16, 30th 23, 40th 29, 95th 48, 100th 50.
  auto x = sorted({15, 20, 35, 40, 50});
  CHECK(percentile_cont(x, 0.05) == doctest::Approx(16));
  CHECK(percentile_cont(x, 0.30) == doctest::Approx(23));
  CHECK(percentile_cont(x, 0.40) == doctest::Approx(29));
  CHECK(percentile_cont(x, 0.95) == doctest::Approx(48));
  CHECK(percentile_cont(x, 1.00) == 50);
  CHECK(percentile_cont(x, 0.00) == 15);
}

TEST_CASE("percentile_cont of one sample is that sample, of none is NaN") {
  std::vector<std::int64_t> one{42};
  for (double p : {0.0, 0.5, 0.99, 1.0}) CHECK(percentile_cont(one, p) == 42);
  CHECK(std::isnan(percentile_cont({}, 0.5)));
}

TEST_CASE("percentile_cont equals an independent computation on random samples with ties") {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; ++round) {
    std::size_t n = 1 + rng() % 300;
    std::vector<std::int64_t> x(n);
    for (auto& v : x) v = static_cast<std::int64_t>(rng() % (round % 3 ? 1000000 : 7));
    auto s = sorted(x);
    for (double p : {0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0}) {
      CAPTURE(n);
      CAPTURE(p);
      CHECK(percentile_cont(s, p) == doctest::Approx(reference_percentile(x, p)).epsilon(1e-12));
    }
  }
}

TEST_CASE("mean and sample standard deviation") {
  // The textbook set: mean 5, population sd 2, sample sd sqrt(32 / 7).
  std::vector<std::int64_t> x{2, 4, 4, 4, 5, 5, 7, 9};
  CHECK(mean(x) == 5);
  CHECK(sample_stddev(x) == doctest::Approx(std::sqrt(32.0 / 7.0)).epsilon(1e-15));
  CHECK(std::isnan(sample_stddev(std::vector<std::int64_t>{3})));
  CHECK(std::isnan(mean({})));
  // Large values close together: the two-pass form keeps the small spread exact.
  std::vector<std::int64_t> big{4000000000001, 4000000000002, 4000000000003};
  CHECK(sample_stddev(big) == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("median absolute deviation matches worked examples and a brute-force reference") {
  // Wikipedia, "Median absolute deviation": {1, 1, 2, 2, 4, 6, 9} has median 2 and MAD 1.
  CHECK(median_absolute_deviation(sorted({1, 1, 2, 2, 4, 6, 9})) == 1);
  // Even count: median 2.5, deviations {1.5, 0.5, 0.5, 1.5}, MAD 1.
  CHECK(median_absolute_deviation(sorted({1, 2, 3, 4})) == 1);
  CHECK(median_absolute_deviation(sorted({5})) == 0);
  CHECK(std::isnan(median_absolute_deviation({})));

  std::mt19937_64 rng(12);
  for (int round = 0; round < 200; ++round) {
    std::size_t n = 1 + rng() % 200;
    std::vector<std::int64_t> x(n);
    for (auto& v : x) v = static_cast<std::int64_t>(rng() % (round % 2 ? 100000 : 5));
    CAPTURE(n);
    CHECK(median_absolute_deviation(sorted(x)) == doctest::Approx(reference_mad(x)));
  }
}

TEST_CASE("robust z-score is (x - median) / (1.4826 MAD)") {
  // The MAD example above: x = 9 lies 7 / 1.4826 = 4.7214 robust deviations out.
  CHECK(robust_z(9, 2, 1) == doctest::Approx(7 / 1.4826));
  CHECK(robust_z(2, 2, 1) == 0);
  CHECK(robust_z(0, 2, 0.5) == doctest::Approx(-2 / (1.4826 * 0.5)));
  CHECK(robust_z(5, 5, 0) == 0);
  CHECK(std::isinf(robust_z(6, 5, 0)));
  CHECK(robust_z(6, 5, 0) > 0);
  CHECK(robust_z(4, 5, 0) < 0);
}

TEST_CASE("summarize computes every field from one sorted set") {
  auto x = sorted({1, 1, 2, 2, 4, 6, 9});
  Summary s = summarize(x);
  CHECK(s.n == 7);
  CHECK(s.min == 1);
  CHECK(s.max == 9);
  CHECK(s.p50 == 2);
  CHECK(s.p75 == reference_percentile(x, 0.75));
  CHECK(s.p90 == doctest::Approx(reference_percentile(x, 0.90)));
  CHECK(s.p95 == doctest::Approx(reference_percentile(x, 0.95)));
  CHECK(s.p99 == doctest::Approx(reference_percentile(x, 0.99)));
  CHECK(s.mean == doctest::Approx(25.0 / 7.0));
  CHECK(s.stddev == doctest::Approx(sample_stddev(x)));
  CHECK(s.mad == 1);

  Summary none = summarize({});
  CHECK(none.n == 0);
  CHECK(std::isnan(none.p50));
}

TEST_CASE("merging sorted runs gives the sorted concatenation") {
  std::mt19937_64 rng(13);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::vector<std::int64_t>> runs(rng() % 30);
    std::vector<std::int64_t> all;
    for (auto& run : runs) {
      run.resize(rng() % 20);
      for (auto& v : run) v = static_cast<std::int64_t>(rng() % 1000);
      std::sort(run.begin(), run.end());
      all.insert(all.end(), run.begin(), run.end());
    }
    CHECK(merge_sorted_runs(runs) == sorted(all));
  }
}

// --- DurationHistogram and Moments (lib/stats/histogram.h) -------------------------------

TEST_CASE("histogram buckets are exact below 256us and at most 1/128 of their values wide") {
  std::mt19937_64 rng(21);
  for (int i = 0; i < 100000; ++i) {
    std::int64_t v = i < 1000 ? i : static_cast<std::int64_t>((rng() >> 1) >> (rng() % 60));
    int b = DurationHistogram::bucket_of(v);
    std::int64_t low = DurationHistogram::bucket_low(b);
    std::int64_t width = DurationHistogram::bucket_width(b);
    CAPTURE(v);
    REQUIRE(low <= v);
    REQUIRE(v - low < width);
    if (v < 256) CHECK(width == 1);
    if (v >= 256) CHECK(static_cast<double>(width) <= static_cast<double>(low) / 128.0);
    // Buckets are contiguous: the next bucket starts where this one ends.
    if (v < (std::int64_t{1} << 61)) CHECK(DurationHistogram::bucket_low(b + 1) == low + width);
  }
  CHECK(DurationHistogram::bucket_of(-5) == 0);
}

TEST_CASE("histogram percentiles are within one bucket of the exact percentile_cont") {
  std::mt19937_64 rng(22);
  std::lognormal_distribution<double> lognormal(std::log(60000.0), 0.6);
  for (int round = 0; round < 30; ++round) {
    std::size_t n = 1 + rng() % 5000;
    std::vector<std::int64_t> x(n);
    DurationHistogram h;
    for (auto& v : x) {
      v = static_cast<std::int64_t>(lognormal(rng)) / (round % 5 == 0 ? 1000 : 1);
      h.add(v);
    }
    auto s = sorted(x);
    const std::vector<double> ps = {0.0, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0};
    auto est = h.percentiles(ps, static_cast<double>(s.front()), static_cast<double>(s.back()));
    for (std::size_t i = 0; i < ps.size(); ++i) {
      double exact = percentile_cont(s, ps[i]);
      CAPTURE(n);
      CAPTURE(ps[i]);
      CHECK(std::fabs(est[i] - exact) <= std::max(1.0, exact / 128.0) + 1e-9);
      if (s.back() < 256) CHECK(est[i] == doctest::Approx(exact));  // exact buckets
    }
  }
}

TEST_CASE("histogram encoding round-trips and decoding adds to what is there") {
  DurationHistogram a, b;
  for (std::int64_t v : std::vector<std::int64_t>{0, 3, 3, 255, 256, 70000, 70001, 5000000000}) {
    a.add(v);
  }
  for (std::int64_t v : {3, 90000}) b.add(v);
  std::string ea = a.encode(), eb = b.encode();
  DurationHistogram both;
  REQUIRE(both.decode(reinterpret_cast<const unsigned char*>(ea.data()), ea.size()));
  REQUIRE(both.decode(reinterpret_cast<const unsigned char*>(eb.data()), eb.size()));
  DurationHistogram merged = a;
  merged.merge(b);
  CHECK(both.count() == 10);
  CHECK(both.encode() == merged.encode());
  const unsigned char damaged[] = {0x80};
  CHECK_FALSE(DurationHistogram().decode(damaged, 1));
}

TEST_CASE("moments merged from parts equal the moments of the whole") {
  std::mt19937_64 rng(23);
  std::vector<std::int64_t> all;
  Moments merged;
  for (int part = 0; part < 40; ++part) {
    std::vector<std::int64_t> x(rng() % 50);
    for (auto& v : x) v = 100000 + static_cast<std::int64_t>(rng() % 50000);
    merged.merge(Moments::of(x));
    all.insert(all.end(), x.begin(), x.end());
  }
  Moments whole = Moments::of(all);
  CHECK(merged.n == whole.n);
  CHECK(merged.min == whole.min);
  CHECK(merged.max == whole.max);
  CHECK(merged.mean() == doctest::Approx(mean(all)).epsilon(1e-12));
  CHECK(merged.stddev() == doctest::Approx(sample_stddev(all)).epsilon(1e-9));
}

TEST_CASE("a summary from moments and a histogram has exact moments and estimated percentiles") {
  std::vector<std::int64_t> x;
  DurationHistogram h;
  for (std::int64_t v = 1000; v < 200000; v += 37) {
    x.push_back(v);
    h.add(v);
  }
  Summary est = summarize(Moments::of(x), h);
  Summary exact = summarize(x);
  CHECK(est.n == exact.n);
  CHECK(est.min == exact.min);
  CHECK(est.max == exact.max);
  CHECK(est.mean == doctest::Approx(exact.mean));
  CHECK(est.stddev == doctest::Approx(exact.stddev));
  CHECK(est.p99 == doctest::Approx(exact.p99).epsilon(1.0 / 128));
  CHECK(std::fabs(est.mad - exact.mad) <= (2 * exact.p50 + exact.mad) / 128);
  CHECK(est.method == SummaryMethod::histogram);
  CHECK(exact.method == SummaryMethod::exact);
}

TEST_CASE("histogram MAD is exact below 256us and within 0.78% of (2 x median + MAD) above") {
  std::vector<std::int64_t> small = {3, 7, 7, 10, 15, 200, 255, 1, 1, 90};
  DurationHistogram h;
  for (auto v : small) h.add(v);
  std::sort(small.begin(), small.end());
  CHECK(h.median_absolute_deviation(percentile_cont(small, 0.5)) ==
        doctest::Approx(median_absolute_deviation(small)));

  std::mt19937_64 rng(3);
  for (double sigma : {0.05, 0.3, 1.2}) {
    std::lognormal_distribution<double> dist(std::log(40000.0), sigma);
    std::vector<std::int64_t> x;
    DurationHistogram hist;
    for (int i = 0; i < 20001; ++i) {
      x.push_back(static_cast<std::int64_t>(dist(rng)));
      hist.add(x.back());
    }
    std::sort(x.begin(), x.end());
    const double median = percentile_cont(x, 0.5);
    const double mad = median_absolute_deviation(x);
    const double estimate =
        hist.percentiles({0.5}, static_cast<double>(x.front()), static_cast<double>(x.back()))[0];
    CAPTURE(sigma);
    CHECK(std::fabs(hist.median_absolute_deviation(estimate) - mad) <= (2 * median + mad) / 128);
  }
  CHECK(std::isnan(DurationHistogram().median_absolute_deviation(0)));
}

TEST_CASE("a summary builder is exact up to its limit and a histogram above, or with rollups") {
  std::vector<std::int64_t> x;
  for (int i = 0; i < 300; ++i) x.push_back(1000 + (i * 7919) % 5000);
  SummaryBuilder exact(300);
  for (auto v : x) exact.add(v);
  Summary e = exact.finish();
  std::sort(x.begin(), x.end());
  CHECK(e.method == SummaryMethod::exact);
  CHECK(e.n == 300);
  CHECK(e.p99 == percentile_cont(x, 0.99));
  CHECK(e.mad == median_absolute_deviation(x));

  SummaryBuilder over(299);
  for (auto v : x) over.add(v);
  Summary h = over.finish();
  CHECK(h.method == SummaryMethod::histogram);
  CHECK(h.n == 300);
  CHECK(h.mean == doctest::Approx(mean(x)));
  CHECK(h.stddev == doctest::Approx(sample_stddev(x)));
  CHECK(std::fabs(h.p99 - percentile_cont(x, 0.99)) <= percentile_cont(x, 0.99) / 128);

  // A rollup makes it a histogram whatever the count; finish() empties it.
  SummaryBuilder rolled;
  DurationHistogram part;
  part.add(500);
  rolled.add(Moments::of({500}), part);
  rolled.add(700);
  Summary r = rolled.finish();
  CHECK(r.method == SummaryMethod::histogram);
  CHECK(r.n == 2);
  CHECK(r.mean == 600);
  CHECK(rolled.count() == 0);
  CHECK(rolled.finish().n == 0);
}
