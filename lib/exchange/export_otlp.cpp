// OTLP/JSON traces (the body of an OTLP/HTTP POST to /v1/traces, or a file for the
// collector's otlpjsonfile receiver): one resourceSpans per host, service.name perfguard.
// Every step is a root span, its child spans below it. Ids are deterministic, so exporting
// twice gives the same spans:
//   traceId      32 hex: 16 zeros, then our 63-bit trace id (what `trace_id` shows)
//   spanId       16 hex: a hash of the trace id, step, start and the span's depth-first
//                index (the root is -1; children count from 0 like the store's seq)
// As the OTLP/JSON encoding requires, enums are integers (kind 1 = SPAN_KIND_INTERNAL;
// status code 1 = STATUS_CODE_OK, 2 = STATUS_CODE_ERROR), 64-bit integers and times are
// decimal strings.
#include <cinttypes>
#include <cstdio>
#include <map>

#include "core/version.h"
#include "exchange/exchange.h"
#include "output/json.h"
#include "output/record_json.h"

namespace perfguard {

namespace {

std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

std::string span_id(const StepRecord& r, int index) {
  std::uint64_t h = mix(r.trace_id);
  for (unsigned char c : r.step) h = mix(h ^ c);
  h = mix(h ^ static_cast<std::uint64_t>(r.root.start_us));
  h = mix(h ^ static_cast<std::uint64_t>(static_cast<std::int64_t>(index) + 1));
  if (h == 0) h = 1;  // an all-zero span id is invalid
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return buf;
}

std::string trace_id(const StepRecord& r) {
  return "0000000000000000" + format_trace_id(r.trace_id);
}

std::string nanos(std::int64_t us) {
  return std::to_string(us) + "000";
}

void string_attribute(JsonWriter& w, std::string_view key, std::string_view value) {
  w.begin_object().key("key").value(key);
  w.key("value").begin_object().key("stringValue").value(value).end_object();
  w.end_object();
}

void int_attribute(JsonWriter& w, std::string_view key, std::int64_t value) {
  w.begin_object().key("key").value(key);
  w.key("value").begin_object().key("intValue").value(std::to_string(value)).end_object();
  w.end_object();
}

void status(JsonWriter& w, bool ok, const std::string& message) {
  w.key("status").begin_object().key("code").value(ok ? 1 : 2);
  if (!ok && !message.empty()) w.key("message").value(message);
  w.end_object();
}

std::string step_status_message(const StepRecord& r) {
  switch (r.status) {
    case StepStatus::ok:
      return {};
    case StepStatus::breach:
      return r.threshold ? "took " + format_duration(r.root.duration) + ", over the " +
                               format_duration(*r.threshold) + " threshold"
                         : "over its threshold";
    case StepStatus::failed:
      return "failed with exit code " + std::to_string(r.exit_code);
    case StepStatus::timeout:
      return "killed at its timeout";
    case StepStatus::interrupted:
      return "interrupted";
  }
  return {};
}

class OtlpExporter : public Exporter {
 public:
  void add(const StepRecord& r, std::string&) override {
    std::string& spans = by_host_[r.context.host];
    const std::string trace = trace_id(r);
    const std::string root_id = span_id(r, -1);

    JsonWriter w;
    w.begin_object();
    w.key("traceId").value(trace);
    w.key("spanId").value(root_id);
    w.key("name").value(r.step);
    w.key("kind").value(1);
    w.key("startTimeUnixNano").value(nanos(r.root.start_us));
    w.key("endTimeUnixNano").value(nanos(r.root.start_us + r.root.duration.us));
    w.key("attributes").begin_array();
    string_attribute(w, "perfguard.step", r.step);
    string_attribute(w, "perfguard.status", to_string(r.status));
    int_attribute(w, "perfguard.exit_code", r.exit_code);
    if (r.threshold) int_attribute(w, "perfguard.threshold_us", r.threshold->us);
    for (std::size_t i = 0; i < kContextFields.size(); ++i) {
      if (i == kHeadsBeforeContextField) {
        if (!r.head_before.empty()) string_attribute(w, "perfguard.head_before", r.head_before);
        if (!r.head_after.empty()) string_attribute(w, "perfguard.head_after", r.head_after);
      }
      const ContextField& field = kContextFields[i];
      // The host is the resource's host.name.
      if (field.member == &RunContext::host || (r.context.*field.member).empty()) continue;
      string_attribute(w, "perfguard." + std::string(field.name), r.context.*field.member);
    }
    usage_attributes(w, r.root.usage);
    for (const auto& [k, v] : r.labels) string_attribute(w, "perfguard.label." + k, v);
    w.end_array();
    status(w, r.status == StepStatus::ok, step_status_message(r));
    w.end_object();
    append(spans, w.take());

    int index = 0;
    children(spans, r, r.root, root_id, trace, index);
  }

  void finish(std::string& out) override {
    JsonWriter w;
    w.begin_object().key("resourceSpans").begin_array();
    std::string text = w.take();
    bool first = true;
    for (const auto& [host, spans] : by_host_) {
      if (!first) text += ',';
      first = false;
      JsonWriter r;
      r.begin_object().key("resource").begin_object().key("attributes").begin_array();
      string_attribute(r, "service.name", "perfguard");
      string_attribute(r, "service.version", kVersion);
      if (!host.empty()) string_attribute(r, "host.name", host);
      r.end_array().end_object();
      r.key("scopeSpans").begin_array().begin_object();
      r.key("scope").begin_object().key("name").value("perfguard").key("version").value(kVersion);
      r.end_object();
      r.key("spans").begin_array();
      text += r.take();
      text += spans;
      text += "]}]}";
    }
    text += "]}\n";
    out += text;
  }

 private:
  static void append(std::string& spans, const std::string& span) {
    if (!spans.empty()) spans += ',';
    spans += span;
  }

  static void usage_attributes(JsonWriter& w, const ResourceUsage& u) {
    if (u.cpu_user_us) int_attribute(w, "perfguard.cpu_user_us", u.cpu_user_us);
    if (u.cpu_sys_us) int_attribute(w, "perfguard.cpu_sys_us", u.cpu_sys_us);
    if (u.max_rss_kb) int_attribute(w, "perfguard.max_rss_kb", u.max_rss_kb);
  }

  // Depth first, numbering the spans like the store's seq.
  void children(std::string& spans, const StepRecord& r, const Span& parent,
                const std::string& parent_id, const std::string& trace, int& index) {
    for (const Span& child : parent.children) {
      const std::string id = span_id(r, index++);
      JsonWriter w;
      w.begin_object();
      w.key("traceId").value(trace);
      w.key("spanId").value(id);
      w.key("parentSpanId").value(parent_id);
      w.key("name").value(child.name);
      w.key("kind").value(1);
      w.key("startTimeUnixNano").value(nanos(child.start_us));
      w.key("endTimeUnixNano").value(nanos(child.start_us + child.duration.us));
      w.key("attributes").begin_array();
      string_attribute(w, "perfguard.step", r.step);
      if (child.exit_code) int_attribute(w, "process.exit.code", *child.exit_code);
      usage_attributes(w, child.usage);
      w.end_array();
      if (child.exit_code && *child.exit_code != 0) {
        status(w, false, "exit code " + std::to_string(*child.exit_code));
      }
      w.end_object();
      append(spans, w.take());
      children(spans, r, child, id, trace, index);
    }
  }

  std::map<std::string, std::string> by_host_;
};

}  // namespace

std::unique_ptr<Exporter> make_otlp_exporter() {
  return std::make_unique<OtlpExporter>();
}

}  // namespace perfguard
