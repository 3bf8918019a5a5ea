#include "exchange/record_reader.h"

#include <limits>

#include "core/text_encoding.h"
#include "exchange/exchange.h"
#include "exchange/input.h"

namespace perfguard::exchange {

RecordField record_field(std::string_view name, int& context_index) {
  struct Entry {
    std::string_view name;
    RecordField field;
  };
  static constexpr Entry kFields[] = {
      {"trace_id", RecordField::trace_id},
      {"step", RecordField::step},
      {"status", RecordField::status},
      {"started_at", RecordField::started_at},
      {"started_us", RecordField::started_us},
      {"duration_us", RecordField::duration_us},
      {"threshold_us", RecordField::threshold_us},
      {"exit_code", RecordField::exit_code},
      {"head_before", RecordField::head_before},
      {"head_after", RecordField::head_after},
      {"cpu_user_us", RecordField::cpu_user_us},
      {"cpu_sys_us", RecordField::cpu_sys_us},
      {"max_rss_kb", RecordField::max_rss_kb},
      {"spans", RecordField::spans},
      {"labels", RecordField::labels},
  };
  for (const Entry& e : kFields) {
    if (e.name == name) return e.field;
  }
  for (int i = 0; i < static_cast<int>(kContextFields.size()); ++i) {
    if (kContextFields[i].name == name) {
      context_index = i;
      return RecordField::context;
    }
  }
  return RecordField::unknown;
}

namespace {

bool fail(std::string& problem, std::string_view prefix, std::string_view field,
          std::string_view what) {
  problem.assign(prefix);
  problem += '"';
  problem += field;
  problem += "\" must be ";
  problem += what;
  return false;
}

bool read_int(JsonValue v, std::int64_t& out, std::string_view prefix, std::string_view field,
              std::string& problem) {
  auto i = v.as_int64();
  if (!i) return fail(problem, prefix, field, "an integer");
  out = *i;
  return true;
}

bool read_span(JsonValue object, std::int64_t root_start_us, Span& span, std::string& problem,
               int depth);

// The start times started_at can say (years 0000 to 9999): a record is written back with it,
// and must then read back as the same record.
constexpr std::int64_t kEarliestStartUs = -62167219200000000;  // 0000-01-01T00:00:00Z
constexpr std::int64_t kLatestStartUs = 253402300799999999;    // 9999-12-31T23:59:59.999999Z

bool read_spans(JsonValue array, std::int64_t root_start_us, std::vector<Span>& out,
                std::string& problem, int depth) {
  if (!array.is_array()) {
    return fail(problem, depth ? "span: " : "", "spans", "an array of span objects");
  }
  out.resize(array.size());
  std::size_t i = 0;
  for (JsonValue item : array.items()) {
    if (!read_span(item, root_start_us, out[i++], problem, depth + 1)) return false;
  }
  return true;
}

bool read_span(JsonValue object, std::int64_t root_start_us, Span& span, std::string& problem,
               int depth) {
  constexpr std::string_view kPrefix = "span: ";
  if (!object.is_object()) return fail(problem, "", "spans", "an array of span objects");
  span = Span{};
  bool has_name = false, has_offset = false, has_duration = false;
  for (auto [key, v] : object.members()) {
    if (key == "name") {
      if (!v.is_string()) return fail(problem, kPrefix, key, "a string");
      assign_decoded_text(span.name, v.as_string());
      has_name = true;
    } else if (key == "offset_us") {
      std::int64_t offset = 0;
      if (!read_int(v, offset, kPrefix, key, problem)) return false;
      if (__builtin_add_overflow(root_start_us, offset, &span.start_us)) {
        return fail(problem, kPrefix, key, "an offset from the step's start that fits 64 bits");
      }
      has_offset = true;
    } else if (key == "duration_us") {
      if (!read_int(v, span.duration.us, kPrefix, key, problem)) return false;
      if (span.duration.us < 0) return fail(problem, kPrefix, key, "0 or more");
      has_duration = true;
    } else if (key == "exit_code") {
      if (v.is_null()) continue;
      std::int64_t code = 0;
      if (!read_int(v, code, kPrefix, key, problem)) return false;
      if (code < std::numeric_limits<int>::min() || code > std::numeric_limits<int>::max()) {
        return fail(problem, kPrefix, key, "a 32-bit integer");
      }
      span.exit_code = static_cast<int>(code);
    } else if (key == "cpu_user_us") {
      if (!read_int(v, span.usage.cpu_user_us, kPrefix, key, problem)) return false;
    } else if (key == "cpu_sys_us") {
      if (!read_int(v, span.usage.cpu_sys_us, kPrefix, key, problem)) return false;
    } else if (key == "max_rss_kb") {
      if (!read_int(v, span.usage.max_rss_kb, kPrefix, key, problem)) return false;
    } else if (key == "spans") {
      if (!read_spans(v, root_start_us, span.children, problem, depth)) return false;
    }
  }
  if (!has_name) return fail(problem, kPrefix, "name", "present");
  if (!has_offset) return fail(problem, kPrefix, "offset_us", "present");
  if (!has_duration) return fail(problem, kPrefix, "duration_us", "present");
  return true;
}

}  // namespace

bool record_from_json(JsonValue object, std::string_view source, const RunContext& defaults,
                      StepRecord& r, std::string& problem) {
  if (!object.is_object()) {
    problem = "expected a record object, found ";
    problem += object.is_array() ? "an array" : "a JSON scalar";
    return false;
  }
  r.trace_id = 0;
  r.step.clear();
  r.status = StepStatus::ok;
  r.threshold.reset();
  r.exit_code = 0;
  r.head_before.clear();
  r.head_after.clear();
  r.labels.clear();
  r.root.children.clear();
  r.root.usage = {};
  r.root.exit_code.reset();

  bool has_step = false, has_status = false, has_start = false, has_duration = false;
  std::optional<std::int64_t> started_at;
  JsonValue spans;
  unsigned present = 0;
  constexpr std::string_view kNoPrefix;
  for (auto [key, v] : object.members()) {
    int ci = 0;
    switch (record_field(key, ci)) {
      case RecordField::unknown:
        break;
      case RecordField::trace_id: {
        auto id = v.is_string() ? parse_trace_id(v.as_string()) : std::nullopt;
        if (!id) return fail(problem, kNoPrefix, key, "1 to 16 hex digits, not all zero");
        r.trace_id = *id;
        break;
      }
      case RecordField::step:
        if (!v.is_string() || v.as_string().empty()) {
          return fail(problem, kNoPrefix, key, "a non-empty string");
        }
        assign_decoded_text(r.step, v.as_string());
        has_step = true;
        break;
      case RecordField::status: {
        auto status = v.is_string() ? parse_step_status(v.as_string()) : std::nullopt;
        if (!status) {
          return fail(problem, kNoPrefix, key, "ok, breach, failed, timeout or interrupted");
        }
        r.status = *status;
        has_status = true;
        break;
      }
      case RecordField::started_at:
        started_at = v.is_string() ? parse_utc_timestamp(v.as_string()) : std::nullopt;
        if (!started_at) {
          return fail(problem, kNoPrefix, key, "an ISO-8601 UTC time like 2026-01-31T12:00:00Z");
        }
        break;
      case RecordField::started_us:
        if (!read_int(v, r.root.start_us, kNoPrefix, key, problem)) return false;
        has_start = true;
        break;
      case RecordField::duration_us:
        if (!read_int(v, r.root.duration.us, kNoPrefix, key, problem)) return false;
        if (r.root.duration.us < 0) return fail(problem, kNoPrefix, key, "0 or more");
        has_duration = true;
        break;
      case RecordField::threshold_us: {
        if (v.is_null()) break;
        std::int64_t t = 0;
        if (!read_int(v, t, kNoPrefix, key, problem)) return false;
        if (t < 0) return fail(problem, kNoPrefix, key, "0 or more, or null");
        r.threshold = Duration::micros(t);
        break;
      }
      case RecordField::exit_code: {
        std::int64_t code = 0;
        if (!read_int(v, code, kNoPrefix, key, problem)) return false;
        if (code < std::numeric_limits<int>::min() || code > std::numeric_limits<int>::max()) {
          return fail(problem, kNoPrefix, key, "a 32-bit integer");
        }
        r.exit_code = static_cast<int>(code);
        break;
      }
      case RecordField::head_before:
      case RecordField::head_after:
        if (!v.is_string()) return fail(problem, kNoPrefix, key, "a string");
        assign_decoded_text(key == "head_before" ? r.head_before : r.head_after, v.as_string());
        break;
      case RecordField::cpu_user_us:
        if (!read_int(v, r.root.usage.cpu_user_us, kNoPrefix, key, problem)) return false;
        break;
      case RecordField::cpu_sys_us:
        if (!read_int(v, r.root.usage.cpu_sys_us, kNoPrefix, key, problem)) return false;
        break;
      case RecordField::max_rss_kb:
        if (!read_int(v, r.root.usage.max_rss_kb, kNoPrefix, key, problem)) return false;
        break;
      case RecordField::spans:
        spans = v;  // read once the start time is known: offsets are relative to it
        break;
      case RecordField::labels:
        if (!v.is_object()) return fail(problem, kNoPrefix, key, "an object of strings");
        for (auto [k, value] : v.members()) {
          if (!value.is_string()) {
            problem = "label \"";
            problem += k;
            problem += "\" must be a string";
            return false;
          }
          r.labels.emplace_back(decode_text(k), decode_text(value.as_string()));
        }
        break;
      case RecordField::context: {
        if (!v.is_string()) return fail(problem, kNoPrefix, key, "a string");
        assign_decoded_text(r.context.*kContextFields[ci].member, v.as_string());
        present |= 1u << ci;
        break;
      }
    }
  }
  if (!has_step) return fail(problem, kNoPrefix, "step", "present");
  if (!has_start) {
    if (!started_at) return fail(problem, kNoPrefix, "started_us", "present (or started_at)");
    r.root.start_us = *started_at;
  }
  if (r.root.start_us < kEarliestStartUs || r.root.start_us > kLatestStartUs) {
    return fail(problem, kNoPrefix, "started_us", "a time from year 0000 to 9999");
  }
  if (!has_duration) return fail(problem, kNoPrefix, "duration_us", "present");
  if (spans && !read_spans(spans, r.root.start_us, r.root.children, problem, 0)) return false;
  if (!has_status) r.status = r.exit_code == 0 ? StepStatus::ok : StepStatus::failed;
  if (r.trace_id == 0) r.trace_id = stable_trace_id(source);
  r.root.name = r.step;
  fill_context(r.context, present, defaults);
  return true;
}

}  // namespace perfguard::exchange
