#include "output/record_json.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <string_view>
#include <unordered_map>

namespace perfguard {

namespace {

void write_children(JsonWriter& out, const Span& parent, std::int64_t root_start_us) {
  out.key("spans").begin_array();
  for (const Span& child : parent.children) {
    out.begin_object();
    out.key("name").value(child.name);
    out.key("offset_us").value(child.start_us - root_start_us);
    out.key("duration_us").value(child.duration.us);
    out.key("exit_code");
    if (child.exit_code) {
      out.value(*child.exit_code);
    } else {
      out.null();
    }
    out.key("cpu_user_us").value(child.usage.cpu_user_us);
    out.key("cpu_sys_us").value(child.usage.cpu_sys_us);
    out.key("max_rss_kb").value(child.usage.max_rss_kb);
    write_children(out, child, root_start_us);
    out.end_object();
  }
  out.end_array();
}

}  // namespace

std::string format_utc_timestamp(std::int64_t unix_us) {
  std::int64_t secs = unix_us / 1000000;
  std::int64_t frac = unix_us % 1000000;
  if (frac < 0) {  // floor division, so times before 1970 print correctly too
    frac += 1000000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::string format_trace_id(std::uint64_t trace_id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, trace_id);
  return buf;
}

void write_record_json(JsonWriter& out, const StepRecord& r) {
  out.begin_object();
  out.key("trace_id").value(format_trace_id(r.trace_id));
  out.key("step").value(r.step);
  out.key("status").value(to_string(r.status));
  out.key("started_at").value(format_utc_timestamp(r.root.start_us));
  out.key("started_us").value(r.root.start_us);
  out.key("duration_us").value(r.root.duration.us);
  out.key("threshold_us");
  if (r.threshold) {
    out.value(r.threshold->us);
  } else {
    out.null();
  }
  out.key("exit_code").value(r.exit_code);
  for (std::size_t i = 0; i < kContextFields.size(); ++i) {
    if (i == kHeadsBeforeContextField) {
      out.key("head_before").value(r.head_before);
      out.key("head_after").value(r.head_after);
    }
    out.key(kContextFields[i].name).value(r.context.*kContextFields[i].member);
  }
  out.key("cpu_user_us").value(r.root.usage.cpu_user_us);
  out.key("cpu_sys_us").value(r.root.usage.cpu_sys_us);
  out.key("max_rss_kb").value(r.root.usage.max_rss_kb);
  write_children(out, r.root, r.root.start_us);
  out.key("labels");
  write_labels(out, r.labels);
  out.end_object();
}

void write_labels(JsonWriter& out, const Labels& labels) {
  // The index of each key's last value (an imported line may carry very many labels).
  std::unordered_map<std::string_view, std::size_t> last;
  for (std::size_t i = 0; i < labels.size(); ++i) last[labels[i].first] = i;
  out.begin_object();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (last[labels[i].first] == i) out.key(labels[i].first).value(labels[i].second);
  }
  out.end_object();
}

std::string record_to_jsonl(const StepRecord& record) {
  JsonWriter out;
  write_record_json(out, record);
  return out.take();
}

}  // namespace perfguard
