// Prometheus text exposition format 0.0.4, for node_exporter's textfile collector.
//
//   perfguard_step_duration_seconds{repo,step,le}        histogram (+ _sum, _count) of the
//                                                        completed runs (ok and breach)
//   perfguard_step_runs_total{repo,step,status}          counter: runs by how they ended
//                                                        (ok, breach, failed, timeout,
//                                                        interrupted), every status written
//   perfguard_step_breaches_total{repo,step}             counter: = runs_total{status="breach"}
//   perfguard_step_failures_total{repo,step}             counter: failed + timeout + interrupted
//   perfguard_step_threshold_seconds{repo,step}          gauge: the newest record's threshold
//   perfguard_step_last_run_timestamp_seconds{repo,step} gauge: the newest start, Unix time
//
// The bucket bounds are fixed (kBounds), the same in every export, so series add up across
// repositories and hosts (`sum by (step, le)`); they span what a git step takes, from 5 ms to
// a minute, and hold the default thresholds (1 s, 2 s, 5 s, 10 s) as bounds, so the share of
// runs within a threshold is read exactly. Labels: step, and repo (the work tree the runs
// came from: one per clone, so a handful per host), which keeps two stores' files apart in
// one textfile directory. No host label: the scrape's own `instance` label says which host.
//
// The numbers cover the exported records: every run in the store without --since (then the
// counters only grow, until a prune removes runs, which Prometheus reads as a counter
// reset), or the runs started since --since (then they are a window's counts, which rise and
// fall: read them as gauges, not with rate()). Each HELP text says which. One streaming pass
// over the records, in memory only a series' bucket counts.
//
// Label values that are not UTF-8 are percent-encoded ("TEXT ENCODING" in perfguard(7)), so
// `repo` is the same text here as in the jsonl and csv exports; then backslash, double quote
// and line feed are escaped as the text format requires.
#include <array>
#include <charconv>
#include <map>

#include "core/clock.h"
#include "core/text_encoding.h"
#include "exchange/exchange.h"
#include "store/step_reads.h"

namespace perfguard {

namespace {

// Upper bounds of the duration buckets, microseconds, with their `le` text; +Inf follows.
struct Bound {
  std::int64_t us;
  const char* le;
};
constexpr std::array<Bound, 13> kBounds = {{{5000, "0.005"},
                                            {10000, "0.01"},
                                            {25000, "0.025"},
                                            {50000, "0.05"},
                                            {100000, "0.1"},
                                            {250000, "0.25"},
                                            {500000, "0.5"},
                                            {1000000, "1"},
                                            {2000000, "2"},
                                            {5000000, "5"},
                                            {10000000, "10"},
                                            {30000000, "30"},
                                            {60000000, "60"}}};

constexpr std::array<StepStatus, 5> kStatuses = {StepStatus::ok, StepStatus::breach,
                                                 StepStatus::failed, StepStatus::timeout,
                                                 StepStatus::interrupted};

struct Series {
  std::array<std::int64_t, kBounds.size() + 1> buckets{};  // not cumulative; the last: +Inf
  std::int64_t sum_us = 0;
  StatusCounts counts;
  std::int64_t newest_start_us = 0;
  std::optional<Duration> newest_threshold;
  bool has_newest = false;
};

// A label value: the text format is UTF-8, so bytes that are not are percent-encoded as in
// every other format (core/text_encoding.h); then backslash, double quote and line feed
// escaped.
void append_label_value(std::string& out, std::string_view bytes) {
  std::string encoded;
  std::string_view v = bytes;
  if (needs_text_encoding(bytes)) v = encoded = encode_text(bytes);
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// The shortest text that reads back as the same double (never an exponent for the values
// we write: seconds from microseconds).
void append_number(std::string& out, double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

void append_seconds(std::string& out, std::int64_t us) {
  append_number(out, static_cast<double>(us) / 1e6);
}

class PrometheusExporter : public Exporter {
 public:
  void begin(const ExportRequest& request) override { since_us_ = request.since_us; }

  void add(const StepRecord& r, std::string&) override {
    Series& s = series_[{r.context.repo, r.step}];
    s.counts.add(r.status);
    if (is_completed(r.status)) {
      const std::int64_t us = r.root.duration.us;
      std::size_t b = 0;
      while (b < kBounds.size() && us > kBounds[b].us) ++b;
      ++s.buckets[b];
      s.sum_us += us;
    }
    if (!s.has_newest || r.root.start_us >= s.newest_start_us) {
      s.has_newest = true;
      s.newest_start_us = r.root.start_us;
      s.newest_threshold = r.threshold;
    }
  }

  void finish(std::string& out) override {
    const std::string over = window();

    family(out, "perfguard_step_duration_seconds", "histogram",
           "How long the completed runs (ok and breach) of each step took, in seconds, " + over);
    for (const auto& [key, s] : series_) {
      std::int64_t cumulative = 0;
      for (std::size_t b = 0; b <= kBounds.size(); ++b) {
        cumulative += s.buckets[b];
        sample_name(out, "perfguard_step_duration_seconds_bucket", key, "le",
                    b < kBounds.size() ? kBounds[b].le : "+Inf");
        out += std::to_string(cumulative) + '\n';
      }
      sample_name(out, "perfguard_step_duration_seconds_sum", key);
      append_seconds(out, s.sum_us);
      out += '\n';
      sample_name(out, "perfguard_step_duration_seconds_count", key);
      out += std::to_string(s.counts.completed()) + '\n';
    }

    family(out, "perfguard_step_runs_total", "counter",
           "Runs of each step by how they ended: ok, breach (finished over its threshold), "
           "failed, timeout (killed), interrupted, " +
               over);
    for (const auto& [key, s] : series_) {
      for (StepStatus status : kStatuses) {
        sample_name(out, "perfguard_step_runs_total", key, "status", to_string(status));
        out += std::to_string(count_of(s.counts, status)) + '\n';
      }
    }

    family(out, "perfguard_step_breaches_total", "counter",
           "Runs that finished but took longer than their threshold, " + over);
    for (const auto& [key, s] : series_) {
      sample_name(out, "perfguard_step_breaches_total", key);
      out += std::to_string(s.counts.breach) + '\n';
    }

    family(out, "perfguard_step_failures_total", "counter",
           "Runs that failed, were killed at their timeout, or were interrupted, " + over);
    for (const auto& [key, s] : series_) {
      sample_name(out, "perfguard_step_failures_total", key);
      out += std::to_string(s.counts.failures()) + '\n';
    }

    bool any_threshold = false;
    for (const auto& [key, s] : series_) any_threshold |= s.newest_threshold.has_value();
    if (any_threshold) {
      family(out, "perfguard_step_threshold_seconds", "gauge",
             "The threshold of the newest run of each step, in seconds.");
      for (const auto& [key, s] : series_) {
        if (!s.newest_threshold) continue;
        sample_name(out, "perfguard_step_threshold_seconds", key);
        append_seconds(out, s.newest_threshold->us);
        out += '\n';
      }
    }

    family(out, "perfguard_step_last_run_timestamp_seconds", "gauge",
           "When the newest run of each step started, as a Unix time in seconds.");
    for (const auto& [key, s] : series_) {
      sample_name(out, "perfguard_step_last_run_timestamp_seconds", key);
      append_seconds(out, s.newest_start_us);
      out += '\n';
    }
  }

 private:
  using Key = std::pair<std::string, std::string>;  // repo, step

  static std::int64_t count_of(const StatusCounts& c, StepStatus status) {
    switch (status) {
      case StepStatus::ok:
        return c.ok;
      case StepStatus::breach:
        return c.breach;
      case StepStatus::failed:
        return c.failed;
      case StepStatus::timeout:
        return c.timeout;
      case StepStatus::interrupted:
        return c.interrupted;
    }
    return 0;
  }

  // What the numbers cover, for the HELP texts.
  std::string window() const {
    if (!since_us_) {
      return "over every run in the store (no --since: all recorded history, less what prune "
             "removed).";
    }
    return "over the runs started since " + format_timestamp(*since_us_) +
           " (--since: a window, so these rise and fall).";
  }

  static void family(std::string& out, std::string_view name, std::string_view type,
                     std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;  // our own text: no backslash or line feed to escape
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
  }

  static void sample_name(std::string& out, std::string_view name, const Key& key,
                          const char* extra_label = nullptr, const char* extra_value = nullptr) {
    out += name;
    out += "{repo=\"";
    append_label_value(out, key.first);
    out += "\",step=\"";
    append_label_value(out, key.second);
    out += '"';
    if (extra_label) {
      out += ',';
      out += extra_label;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += "} ";
  }

  std::optional<std::int64_t> since_us_;
  std::map<Key, Series> series_;
};

}  // namespace

std::unique_ptr<Exporter> make_prometheus_exporter() {
  return std::make_unique<PrometheusExporter>();
}

}  // namespace perfguard
