#include "output/report.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "core/clock.h"
#include "core/text_encoding.h"
#include "output/json.h"
#include "output/record_json.h"
#include "output/table.h"

namespace perfguard {

namespace {

const char* kRed = "\033[31m";
const char* kGreen = "\033[32m";
const char* kYellow = "\033[33m";
const char* kReset = "\033[0m";

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string spans_cell(const std::vector<Span>& spans) {
  std::string out;
  for (const auto& s : spans) {
    if (!out.empty()) out += ';';
    out += s.name + ":" + std::to_string(s.duration.us);
  }
  return out;
}

std::string labels_cell(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ';';
    out += k + "=" + v;
  }
  return out;
}

// Text columns go through spreadsheet_safe(); numbers, times and our own words do not.
std::vector<std::string> table_row(const StepRecord& r) {
  std::vector<std::string> row = {hex16(r.trace_id),
                                  spreadsheet_safe(r.step),
                                  to_string(r.status),
                                  format_timestamp(r.root.start_us),
                                  std::to_string(r.root.duration.us),
                                  r.threshold ? std::to_string(r.threshold->us) : "",
                                  std::to_string(r.exit_code)};
  for (std::size_t i = 0; i < kContextFields.size(); ++i) {
    if (i == kHeadsBeforeContextField) {
      row.push_back(spreadsheet_safe(r.head_before));
      row.push_back(spreadsheet_safe(r.head_after));
    }
    row.push_back(spreadsheet_safe(r.context.*kContextFields[i].member));
  }
  row.insert(
      row.end(),
      {std::to_string(r.root.usage.cpu_user_us), std::to_string(r.root.usage.cpu_sys_us),
       std::to_string(r.root.usage.max_rss_kb), spreadsheet_safe(spans_cell(r.root.children)),
       spreadsheet_safe(labels_cell(r.labels))});
  return row;
}

// Whether a spreadsheet could take `cell`, after `quotes` leading single quotes, as a
// formula.
bool formula_after_quotes(std::string_view cell, std::size_t& quotes) {
  quotes = cell.find_first_not_of('\'');
  if (quotes == std::string_view::npos) return false;
  const char c = cell[quotes];
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

// RFC 4180: quote a field that holds a comma, quote or line break; double the quotes. Bytes
// that are not UTF-8 are percent-encoded, as in every machine format (core/text_encoding.h).
std::string csv_field(const std::string& bytes) {
  const std::string v = encode_text(bytes);
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// TSV (IANA text/tab-separated-values) cannot quote: tabs and line breaks become spaces.
std::string tsv_field(const std::string& bytes) {
  std::string v = encode_text(bytes);
  for (char& c : v) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return v;
}

}  // namespace

std::string spreadsheet_safe(std::string text) {
  std::size_t quotes = 0;
  if (formula_after_quotes(text, quotes)) text.insert(text.begin(), '\'');
  return text;
}

std::string_view spreadsheet_unquote(std::string_view cell) {
  std::size_t quotes = 0;
  if (formula_after_quotes(cell, quotes) && quotes > 0) cell.remove_prefix(1);
  return cell;
}

void write_table(std::FILE* out, Format format, const std::vector<std::string>& columns,
                 const std::vector<std::vector<std::string>>& rows) {
  const char sep = format == Format::csv ? ',' : '\t';
  auto write_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) line += sep;
      line += format == Format::csv ? csv_field(cells[i]) : tsv_field(cells[i]);
    }
    line += '\n';
    std::fputs(line.c_str(), out);
  };
  write_row(columns);
  for (const auto& row : rows) write_row(row);
}

std::optional<Format> parse_format(std::string_view name) {
  for (auto f : {Format::text, Format::json, Format::jsonl, Format::csv, Format::tsv}) {
    if (name == to_string(f)) return f;
  }
  return std::nullopt;
}

const char* to_string(Format format) {
  switch (format) {
    case Format::text:
      return "text";
    case Format::json:
      return "json";
    case Format::jsonl:
      return "jsonl";
    case Format::csv:
      return "csv";
    case Format::tsv:
      return "tsv";
  }
  return "text";
}

bool use_colour(std::FILE* stream) {
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour && *no_colour) return false;
  return isatty(fileno(stream)) == 1;
}

const std::vector<std::string>& table_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c = {"trace_id",    "step",         "status",   "started_at",
                                  "duration_us", "threshold_us", "exit_code"};
    for (std::size_t i = 0; i < kContextFields.size(); ++i) {
      if (i == kHeadsBeforeContextField) c.insert(c.end(), {"head_before", "head_after"});
      c.emplace_back(kContextFields[i].name);
    }
    c.insert(c.end(), {"cpu_user_us", "cpu_sys_us", "max_rss_kb", "spans", "labels"});
    return c;
  }();
  return columns;
}

std::string text_summary(const StepRecord& r, bool colour) {
  std::ostringstream line;
  // Names may come from an import: printable() keeps their control characters off the terminal.
  line << printable(r.step) << ' ' << format_duration(r.root.duration);
  if (!r.root.children.empty()) {
    line << " (";
    for (size_t i = 0; i < r.root.children.size(); ++i) {
      const Span& s = r.root.children[i];
      line << (i ? ", " : "") << printable(s.name) << ' ' << format_duration(s.duration);
    }
    line << ')';
  }
  auto paint = [&](const char* c, const std::string& text) {
    return colour ? std::string(c) + text + kReset : text;
  };
  switch (r.status) {
    case StepStatus::ok:
      line << ' ' << paint(kGreen, "ok");
      if (r.threshold) line << ", within " << format_duration(*r.threshold);
      break;
    case StepStatus::breach:
      line << ' '
           << paint(kYellow, "over the " + format_duration(*r.threshold) + " threshold by " +
                                 format_duration(r.root.duration - *r.threshold));
      break;
    case StepStatus::failed:
      line << ' ' << paint(kRed, "failed");
      break;
    case StepStatus::timeout:
      line << ' ' << paint(kRed, "killed at its timeout");
      break;
    case StepStatus::interrupted:
      line << ' ' << paint(kRed, "interrupted");
      break;
  }
  return line.str();
}

void write_records(std::FILE* out, Format format, const std::vector<StepRecord>& records,
                   const std::string& tool, int exit_code,
                   const std::vector<std::string>& extra_json,
                   const std::vector<std::string>& text_notes) {
  switch (format) {
    case Format::text:
      for (std::size_t i = 0; i < records.size(); ++i) {
        std::string note = i < text_notes.size() ? text_notes[i] : "";
        std::fprintf(out, "%s%s\n", text_summary(records[i], use_colour(out)).c_str(),
                     note.c_str());
      }
      break;
    case Format::jsonl:
      for (const auto& r : records) std::fprintf(out, "%s\n", record_to_jsonl(r).c_str());
      break;
    case Format::json: {
      JsonWriter w;
      w.begin_object().key("tool").value(tool).key("exit_code").value(exit_code);
      w.key("steps").begin_array();
      for (const auto& r : records) write_record_json(w, r);
      w.end_array().end_object();
      std::string text = w.take();
      if (!extra_json.empty()) {
        text.pop_back();  // the closing brace: the extra members go inside the object
        for (const auto& member : extra_json) text += "," + member;
        text += "}";
      }
      std::fprintf(out, "%s\n", text.c_str());
      break;
    }
    case Format::csv:
    case Format::tsv: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& r : records) rows.push_back(table_row(r));
      write_table(out, format, table_columns(), rows);
      break;
    }
  }
  std::fflush(out);
}

}  // namespace perfguard
