#pragma once

#include <cstdint>
#include <string>

#include "output/json.h"
#include "trace/record.h"

namespace perfguard {

// One StepRecord as one JSON object: the `--format json/jsonl` contract and the journal's
// line format. Field names are stable (add, never rename or remove):
//
//   trace_id (16 lowercase hex), step, status, started_at (ISO-8601 UTC, microseconds),
//   started_us, duration_us, threshold_us (null if none), exit_code, repo, branch,
//   head_before, head_after ("" when empty), host, user, ci_provider, ci_job, tool,
//   tool_version, git_version, cpu_user_us, cpu_sys_us, max_rss_kb,
//   spans: [{name, offset_us, duration_us, exit_code (or null), cpu_user_us, cpu_sys_us,
//            max_rss_kb, spans: [nested children]}],
//   labels: {key: value}
void write_record_json(JsonWriter& out, const StepRecord& record);

// Labels as one JSON object. A key given twice (`-k k=1 -k k=2`, an imported row, a tool fact
// over a user label) is written once, with its last value: JSON objects with duplicate keys
// are read differently by different parsers.
void write_labels(JsonWriter& out, const Labels& labels);

// The record as one JSONL line, without the newline.
std::string record_to_jsonl(const StepRecord& record);

// `2026-11-23T15:30:12.123456Z` for a Unix time in microseconds.
std::string format_utc_timestamp(std::int64_t unix_us);

// The 16 lowercase hex digits of a trace id.
std::string format_trace_id(std::uint64_t trace_id);

}  // namespace perfguard
