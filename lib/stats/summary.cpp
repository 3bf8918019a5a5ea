#include "stats/summary.h"

#include <algorithm>

namespace perfguard {

namespace {

// Once rolled up, durations are added in batches of this many: Moments::of is exact and
// cheaper per sample than a merge of each one.
constexpr std::size_t kBatch = 4096;

}  // namespace

void SummaryBuilder::roll_up() {
  if (!pending_.empty()) {
    moments_.merge(Moments::of(pending_));
    for (std::int64_t d : pending_) histogram_.add(d);
    pending_.clear();
  }
  rolled_ = true;
}

void SummaryBuilder::add(std::int64_t duration_us) {
  pending_.push_back(duration_us);
  if (rolled_ ? pending_.size() >= kBatch : static_cast<std::int64_t>(pending_.size()) > limit_) {
    roll_up();
  }
}

void SummaryBuilder::add(const Moments& moments, const DurationHistogram& histogram) {
  roll_up();
  moments_.merge(moments);
  histogram_.merge(histogram);
}

bool SummaryBuilder::add(const Moments& moments, const std::string& encoded_histogram) {
  roll_up();
  moments_.merge(moments);
  return histogram_.decode(reinterpret_cast<const unsigned char*>(encoded_histogram.data()),
                           encoded_histogram.size());
}

Summary SummaryBuilder::finish() {
  Summary s;
  if (!rolled_) {
    std::sort(pending_.begin(), pending_.end());
    s = summarize(pending_);
  } else {
    roll_up();
    s = summarize(moments_, histogram_);
  }
  pending_.clear();
  moments_ = {};
  histogram_.clear();
  rolled_ = false;
  return s;
}

}  // namespace perfguard
