// Prometheus text exposition format 0.0.4, for node_exporter's textfile collector: one
// series per (repo, step) over the exported records. Base unit seconds; durations as a
// summary with percentile_cont quantiles (DESIGN.md, "Statistics"); counters are counts
// over the exported records (all, or those since --since), so pruning old steps can lower
// them, which Prometheus reads as a counter reset.
//
//   perfguard_step_duration_seconds{repo,step,quantile}  summary (+ _sum, _count)
//   perfguard_step_breaches_total{repo,step}             counter: finished over threshold
//   perfguard_step_failures_total{repo,step}             counter: failed, timed out, interrupted
//   perfguard_step_threshold_seconds{repo,step}          gauge: the newest record's threshold
//   perfguard_step_last_run_timestamp_seconds{repo,step} gauge: the newest start, Unix time
//
// Label values that are not UTF-8 are percent-encoded ("TEXT ENCODING" in perfguard(7)), so
// `repo` is the same text here as in the jsonl and csv exports.
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>

#include "core/text_encoding.h"
#include "exchange/exchange.h"
#include "stats/statistics.h"

namespace perfguard {

namespace {

struct Series {
  std::vector<std::int64_t> durations_us;
  std::int64_t sum_us = 0;
  std::int64_t breaches = 0;
  std::int64_t failures = 0;
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
  void add(const StepRecord& r, std::string&) override {
    Series& s = series_[{r.context.repo, r.step}];
    s.durations_us.push_back(r.root.duration.us);
    s.sum_us += r.root.duration.us;
    if (r.status == StepStatus::breach) ++s.breaches;
    if (r.status == StepStatus::failed || r.status == StepStatus::timeout ||
        r.status == StepStatus::interrupted) {
      ++s.failures;
    }
    if (!s.has_newest || r.root.start_us >= s.newest_start_us) {
      s.has_newest = true;
      s.newest_start_us = r.root.start_us;
      s.newest_threshold = r.threshold;
    }
  }

  void finish(std::string& out) override {
    for (auto& [key, s] : series_) std::sort(s.durations_us.begin(), s.durations_us.end());

    family(out, "perfguard_step_duration_seconds", "summary",
           "How long each perfguard step took, in seconds.");
    for (const auto& [key, s] : series_) {
      for (const char* q : {"0.5", "0.9", "0.95", "0.99"}) {
        sample_name(out, "perfguard_step_duration_seconds", key, q);
        append_number(out, percentile_cont(s.durations_us, std::strtod(q, nullptr)) / 1e6);
        out += '\n';
      }
      sample_name(out, "perfguard_step_duration_seconds_sum", key);
      append_seconds(out, s.sum_us);
      out += '\n';
      sample_name(out, "perfguard_step_duration_seconds_count", key);
      out += std::to_string(s.durations_us.size());
      out += '\n';
    }

    family(out, "perfguard_step_breaches_total", "counter",
           "Steps that finished but took longer than their threshold.");
    for (const auto& [key, s] : series_) {
      sample_name(out, "perfguard_step_breaches_total", key);
      out += std::to_string(s.breaches) + '\n';
    }

    family(out, "perfguard_step_failures_total", "counter",
           "Steps that failed, were killed at their timeout, or were interrupted.");
    for (const auto& [key, s] : series_) {
      sample_name(out, "perfguard_step_failures_total", key);
      out += std::to_string(s.failures) + '\n';
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

  static void family(std::string& out, std::string_view name, std::string_view type,
                     std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;  // constant text: nothing to escape
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
  }

  static void sample_name(std::string& out, std::string_view name, const Key& key,
                          const char* quantile = nullptr) {
    out += name;
    out += "{repo=\"";
    append_label_value(out, key.first);
    out += "\",step=\"";
    append_label_value(out, key.second);
    out += '"';
    if (quantile) {
      out += ",quantile=\"";
      out += quantile;
      out += '"';
    }
    out += "} ";
  }

  std::map<Key, Series> series_;
};

}  // namespace

std::unique_ptr<Exporter> make_prometheus_exporter() {
  return std::make_unique<PrometheusExporter>();
}

}  // namespace perfguard
