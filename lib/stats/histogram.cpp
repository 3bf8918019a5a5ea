#include "stats/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace perfguard {

namespace {

constexpr int kSubBits = 7;  // log2(kSubBuckets)
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool get_varint(const unsigned char*& p, const unsigned char* end, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (p == end) return false;
    unsigned char byte = *p++;
    v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

}  // namespace

int DurationHistogram::bucket_of(std::int64_t us) {
  if (us < 2 * kSubBuckets) return us < 0 ? 0 : static_cast<int>(us);
  const auto v = static_cast<std::uint64_t>(us);
  const int e = static_cast<int>(std::bit_width(v)) - 1;  // 8 and up
  const int shift = e - kSubBits;
  const auto mantissa = static_cast<int>(v >> shift);  // in [128, 256)
  return kSubBuckets + shift * kSubBuckets + mantissa - kSubBuckets;
}

std::int64_t DurationHistogram::bucket_low(int bucket) {
  if (bucket < 2 * kSubBuckets) return bucket;
  const int shift = (bucket - kSubBuckets) / kSubBuckets;
  const int mantissa = kSubBuckets + (bucket - kSubBuckets) % kSubBuckets;
  return static_cast<std::int64_t>(mantissa) << shift;
}

std::int64_t DurationHistogram::bucket_width(int bucket) {
  if (bucket < 2 * kSubBuckets) return 1;
  return std::int64_t{1} << ((bucket - kSubBuckets) / kSubBuckets);
}

void DurationHistogram::add(std::int64_t us, std::int64_t count) {
  const auto b = static_cast<std::size_t>(bucket_of(us));
  if (counts_.size() <= b) counts_.resize(b + 1, 0);
  counts_[b] += count;
  total_ += count;
}

void DurationHistogram::merge(const DurationHistogram& other) {
  if (counts_.size() < other.counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (std::size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
}

void DurationHistogram::clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
}

std::vector<double> DurationHistogram::percentiles(const std::vector<double>& ps, double min,
                                                   double max) const {
  std::vector<double> out(ps.size(), kNaN);
  if (total_ == 0) return out;
  // Every rank needed (the two closest to each p's), then one walk through the buckets: the
  // sample at rank k is in the bucket where the running count passes k, at its place among
  // that bucket's c samples spread evenly across the bucket's width.
  std::vector<std::int64_t> ranks;
  for (double p : ps) {
    const auto lo =
        static_cast<std::int64_t>(static_cast<double>(total_ - 1) * std::clamp(p, 0.0, 1.0));
    ranks.push_back(lo);
    ranks.push_back(std::min(lo + 1, total_ - 1));
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  std::vector<double> values(ranks.size(), max);
  std::size_t next = 0;
  std::int64_t before = 0;
  for (std::size_t b = 0; b < counts_.size() && next < ranks.size(); ++b) {
    const std::int64_t c = counts_[b];
    for (; next < ranks.size() && ranks[next] < before + c; ++next) {
      const auto bucket = static_cast<int>(b);
      const std::int64_t width = bucket_width(bucket);
      const auto low = static_cast<double>(bucket_low(bucket));
      values[next] = width == 1 ? low
                                : low + static_cast<double>(width) *
                                            (static_cast<double>(ranks[next] - before) + 0.5) /
                                            static_cast<double>(c);
    }
    before += c;
  }
  auto value_at = [&](std::int64_t k) {
    return values[static_cast<std::size_t>(std::lower_bound(ranks.begin(), ranks.end(), k) -
                                           ranks.begin())];
  };
  for (std::size_t i = 0; i < ps.size(); ++i) {
    const double rank = static_cast<double>(total_ - 1) * std::clamp(ps[i], 0.0, 1.0);
    const auto lo = static_cast<std::int64_t>(rank);
    const double a = value_at(lo);
    const double b = value_at(std::min(lo + 1, total_ - 1));
    out[i] = std::clamp(a + (rank - static_cast<double>(lo)) * (b - a), min, max);
  }
  return out;
}

double DurationHistogram::median_absolute_deviation(double median) const {
  if (total_ == 0) return kNaN;
  // The non-empty buckets, with the samples before each; a bucket's c samples sit at
  // low + width (j + 0.5) / c, j < c, as in percentiles() (at low itself when the bucket is
  // one microsecond wide).
  struct Bucket {
    double low, width, count;
    std::int64_t before;
  };
  std::vector<Bucket> buckets;
  std::int64_t before = 0;
  for (std::size_t b = 0; b < counts_.size(); ++b) {
    if (counts_[b] == 0) continue;
    const auto bucket = static_cast<int>(b);
    buckets.push_back({static_cast<double>(bucket_low(bucket)),
                       static_cast<double>(bucket_width(bucket)), static_cast<double>(counts_[b]),
                       before});
    before += counts_[b];
  }
  // The last bucket that starts at or below x (the first when none does).
  auto bucket_at = [&](double x) {
    auto it = std::upper_bound(buckets.begin(), buckets.end(), x,
                               [](double v, const Bucket& b) { return v < b.low; });
    return it == buckets.begin() ? it : it - 1;
  };
  // How many samples sit at or below x (or, `strict`, below x).
  auto rank_of = [&](double x, bool strict) -> std::int64_t {
    auto b = bucket_at(x);
    if (x < b->low || (strict && x == b->low)) return b->before;
    double in;
    if (b->width == 1) {
      in = b->count;
    } else {
      const double j = (x - b->low) * b->count / b->width - 0.5;
      in = std::clamp(strict ? std::ceil(j) : std::floor(j) + 1, 0.0, b->count);
    }
    return b->before + static_cast<std::int64_t>(in);
  };
  auto within = [&](double d) { return rank_of(median + d, false) - rank_of(median - d, true); };
  // Where the sample of rank r (0-based) sits.
  auto position = [&](std::int64_t r) {
    auto b = std::upper_bound(buckets.begin(), buckets.end(), r,
                              [](std::int64_t v, const Bucket& x) { return v < x.before; }) -
             1;
    if (b->width == 1) return b->low;
    return b->low + b->width * (static_cast<double>(r - b->before) + 0.5) / b->count;
  };
  // The k-th smallest distance (0-based): the least d with more than k samples within it,
  // by bisection to a thousandth of a microsecond, then the distance of the farthest sample
  // within that: the k-th itself.
  const double far =
      std::max(std::fabs(median - position(0)), std::fabs(position(total_ - 1) - median));
  auto kth = [&](std::int64_t k) {
    double lo = 0, hi = far;
    if (within(lo) > k) return 0.0;
    while (hi - lo > 1e-3) {
      const double mid = (lo + hi) / 2;
      if (within(mid) > k) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    double best = 0;
    const std::int64_t below = rank_of(median - hi, true), upto = rank_of(median + hi, false);
    if (below < total_) best = std::max(best, std::fabs(position(below) - median));
    if (upto > 0) best = std::max(best, std::fabs(position(upto - 1) - median));
    return std::min(best, hi);
  };
  const double rank = static_cast<double>(total_ - 1) * 0.5;
  const auto lo = static_cast<std::int64_t>(rank);
  const double a = kth(lo);
  if (rank == static_cast<double>(lo)) return a;
  return a + (rank - static_cast<double>(lo)) * (kth(lo + 1) - a);
}

std::string DurationHistogram::encode() const {
  std::string out;
  std::int64_t previous = -1;
  for (std::size_t b = 0; b < counts_.size(); ++b) {
    if (counts_[b] == 0) continue;
    put_varint(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(b) - previous - 1));
    put_varint(out, static_cast<std::uint64_t>(counts_[b]));
    previous = static_cast<std::int64_t>(b);
  }
  return out;
}

bool DurationHistogram::decode(const unsigned char* p, std::size_t size) {
  const unsigned char* end = p + size;
  std::uint64_t bucket = std::numeric_limits<std::uint64_t>::max();  // "-1"
  while (p < end) {
    std::uint64_t gap = 0, count = 0;
    if (!get_varint(p, end, gap) || !get_varint(p, end, count)) return false;
    bucket += gap + 1;
    if (bucket > 64 * kSubBuckets) return false;
    const auto b = static_cast<std::size_t>(bucket);
    if (counts_.size() <= b) counts_.resize(b + 1, 0);
    counts_[b] += static_cast<std::int64_t>(count);
    total_ += static_cast<std::int64_t>(count);
  }
  return true;
}

Moments Moments::of(const std::vector<std::int64_t>& samples) {
  Moments m;
  if (samples.empty()) return m;
  m.n = static_cast<std::int64_t>(samples.size());
  m.min = m.max = samples.front();
  long double sum = 0;
  for (std::int64_t v : samples) {
    sum += static_cast<long double>(v);
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
  }
  const long double mean = sum / static_cast<long double>(m.n);
  long double m2 = 0;
  for (std::int64_t v : samples) {
    const long double d = static_cast<long double>(v) - mean;
    m2 += d * d;
  }
  m.sum = static_cast<double>(sum);
  m.m2 = static_cast<double>(m2);
  return m;
}

void Moments::merge(const Moments& o) {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  const double na = static_cast<double>(n), nb = static_cast<double>(o.n);
  const double delta = o.sum / nb - sum / na;
  m2 += o.m2 + delta * delta * na * nb / (na + nb);
  sum += o.sum;
  n += o.n;
  min = std::min(min, o.min);
  max = std::max(max, o.max);
}

double Moments::mean() const {
  return n ? sum / static_cast<double>(n) : kNaN;
}

double Moments::stddev() const {
  return n >= 2 ? std::sqrt(m2 / static_cast<double>(n - 1)) : kNaN;
}

Summary summarize(const Moments& moments, const DurationHistogram& histogram) {
  Summary s = summarize(std::span<const std::int64_t>());
  if (moments.n == 0) return s;
  s.n = moments.n;
  s.min = static_cast<double>(moments.min);
  s.max = static_cast<double>(moments.max);
  s.mean = moments.mean();
  s.stddev = moments.stddev();
  const auto p = histogram.percentiles({0.5, 0.75, 0.9, 0.95, 0.99}, s.min, s.max);
  s.p50 = p[0];
  s.p75 = p[1];
  s.p90 = p[2];
  s.p95 = p[3];
  s.p99 = p[4];
  s.mad = histogram.median_absolute_deviation(s.p50);
  s.method = SummaryMethod::histogram;
  return s;
}

}  // namespace perfguard
