#pragma once
// Internal to lib/exchange: our record JSON (output/record_json.h) back into a StepRecord.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/json_reader.h"
#include "core/result.h"
#include "exchange/exchange.h"
#include "trace/record.h"

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

// A line of record JSON as read_record_lines hands it on.
struct RecordLine {
  JsonValue root;         // the line, parsed
  std::string_view text;  // the line itself
  std::size_t number = 0;
};

// What an importer of record JSON lines adds to read_record_lines.
struct RecordLineHandlers {
  // Whether the line is this import's at all, asked before it is read as a record; a line
  // it declines is skipped. Unset: every line is.
  std::function<bool(const RecordLine& line)> keep;
  // Takes a line's valid record: true to read on, false to stop (the sink said so), or an
  // error to end the import. Unset: the sink records it.
  std::function<Result<bool>(const RecordLine& line, StepRecord& record)> take;
};

// Reads `input` as our record JSON, one object per line (`--format jsonl`, the journal):
// skips blank lines, reports to `sink` each line that is not JSON, not a record or out of
// bounds, and hands each record on as `handlers` say.
Status read_record_lines(const std::filesystem::path& input, const ImportOptions& options,
                         ImportSink& sink, const RecordLineHandlers& handlers = {});

}  // namespace perfguard::exchange
