#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trace/record.h"

namespace perfguard {

// text is for people; every other format is a stable contract for scripts: fields are
// added, never renamed or removed.
enum class Format { text, json, jsonl, csv, tsv };

std::optional<Format> parse_format(std::string_view name);
const char* to_string(Format format);

// Whether to colour text on this stream: a terminal, and NO_COLOR unset.
bool use_colour(std::FILE* stream);

// One line per step for a person:
//   commit 412ms (add 120ms, commit 290ms) within 1s
//   commit 1.42s (add 1.1s, commit 320ms) over the 1s threshold by 420ms
std::string text_summary(const StepRecord& record, bool colour);

// The columns of --format csv/tsv, in order.
const std::vector<std::string>& table_columns();

// A text cell as a spreadsheet may safely open it (OWASP, "CSV injection"): a cell that
// starts with = + - @, a tab or a carriage return, after any number of single quotes, gets
// one more single quote in front, so a branch named `=cmd|' /C calc'!A0` is shown, not run.
// Only text is quoted: numbers (a negative exit code) are data and written as they are.
// The leading quotes make it reversible: spreadsheet_unquote() gives back the exact text.
std::string spreadsheet_safe(std::string text);
// Undoes spreadsheet_safe(): drops one single quote before `'*[=+-@\t\r]`.
std::string_view spreadsheet_unquote(std::string_view cell);

// A header row and rows, as csv (RFC 4180 quoting) or tsv (tabs and line breaks in a
// field become spaces). Any other format is a programming error.
void write_table(std::FILE* out, Format format, const std::vector<std::string>& columns,
                 const std::vector<std::vector<std::string>>& rows);

// Writes the records in a machine format. json: one object {"tool", "exit_code",
// "steps": [...], plus `extra` fields}; jsonl: one record per line; csv/tsv: a header row
// and one row per step. `extra_json` is a list of already-encoded `"key":value` members
// for the json object (e.g. the snapshot a rollback took). `text_notes`, one per record,
// end its line in text (the alerts it raised).
void write_records(std::FILE* out, Format format, const std::vector<StepRecord>& records,
                   const std::string& tool, int exit_code,
                   const std::vector<std::string>& extra_json = {},
                   const std::vector<std::string>& text_notes = {});

}  // namespace perfguard
