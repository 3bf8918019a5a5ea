#pragma once
// Internal to lib/exchange: our record JSON (output/record_json.h) back into a StepRecord.

#include <string>
#include <string_view>

#include "core/json_reader.h"
#include "trace/span.h"

namespace perfguard::exchange {

// A record's fields, by the names its JSON (output/record_json.h) and its CSV columns
// (output/report.h) share.
enum class RecordField {
  unknown,
  trace_id,
  step,
  status,
  started_at,
  started_us,
  duration_us,
  threshold_us,
  exit_code,
  head_before,
  head_after,
  cpu_user_us,
  cpu_sys_us,
  max_rss_kb,
  spans,
  labels,
  context,  // one of the nine RunContext fields, numbered in `context_index`
};

// The field `name` stands for; for a RunContext field also its index (repo, branch,
// host, user, ci_provider, ci_job, tool, tool_version, git_version).
RecordField record_field(std::string_view name, int& context_index);

// Reads one record object into `record` (reused: its buffers are kept between calls).
// Strings are decoded from the text encoding every output writes (core/text_encoding.h),
// so a record exported with bytes that are not UTF-8 imports back to the same bytes.
// `source` is the text it came from (the identity of a record without a trace_id);
// `defaults` fills the context fields the object lacks. On failure returns false with
// `problem` naming the field and what it must be.
bool record_from_json(JsonValue object, std::string_view source, const RunContext& defaults,
                      StepRecord& record, std::string& problem);

}  // namespace perfguard::exchange
