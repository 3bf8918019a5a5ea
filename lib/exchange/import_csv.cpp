// Our `--format csv` rows (RFC 4180; the columns of output/report.h), found by the header
// row's names, so their order does not matter and unknown columns are ignored. Needed:
// step, duration_us, and started_at (or started_us). The spans column holds only the
// top-level child spans (`name:duration_us;…`) without their start: they are laid end to
// end from the step's start, as the steps run them. A missing trace_id is derived from the
// row. Text cells are decoded from the text encoding the export writes
// (core/text_encoding.h); spans and labels cells piece by piece, after they are split.
#include <algorithm>
#include <limits>
#include <string>

#include "core/text_encoding.h"
#include "exchange/exchange.h"
#include "exchange/input.h"
#include "exchange/record_reader.h"
#include "output/report.h"

namespace perfguard {

namespace {

using exchange::record_field;
using exchange::RecordField;

// A column's field, with a RunContext field's index added to RecordField::context.
int column_of(std::string_view name) {
  int context_index = 0;
  const RecordField field = record_field(name, context_index);
  return static_cast<int>(field) + (field == RecordField::context ? context_index : 0);
}

// Splits one CSV record into fields. Returns an empty string or the problem.
std::string split_csv(std::string_view record, std::vector<std::string>& fields) {
  fields.clear();
  std::size_t i = 0;
  for (;;) {
    std::string field;
    if (i < record.size() && record[i] == '"') {
      std::size_t open = i++;
      for (;;) {
        if (i >= record.size()) {
          return "column " + std::to_string(open + 1) + ": unterminated quoted field";
        }
        if (record[i] == '"') {
          if (i + 1 < record.size() && record[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += record[i++];
      }
      if (i < record.size() && record[i] != ',') {
        return "column " + std::to_string(i + 1) + ": text after a closing quote";
      }
    } else {
      std::size_t end = record.find(',', i);
      if (end == std::string_view::npos) end = record.size();
      std::string_view raw = record.substr(i, end - i);
      if (raw.find('"') != std::string_view::npos) {
        return "column " + std::to_string(i + 1 + raw.find('"')) +
               ": a quote inside an unquoted field";
      }
      field.assign(raw);
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= record.size()) return {};
    ++i;  // the comma
    if (i == record.size()) {
      fields.emplace_back();
      return {};
    }
  }
}

// Whether a record read so far ends inside a quoted field (it then goes on on the next
// line): an odd number of quotes.
bool inside_quotes(std::string_view record) {
  std::size_t quotes = 0;
  for (char c : record) quotes += c == '"';
  return quotes % 2 == 1;
}

class CsvImporter : public Importer {
 public:
  Status read(const std::filesystem::path& input, const ImportOptions& options,
              ImportSink& sink) override {
    exchange::LineReader reader;
    if (Status s = reader.open(input); !s) return s;
    const std::string name = exchange::display_name(input);
    std::vector<int> columns;
    std::vector<std::string> fields;
    std::string record_text;
    StepRecord record;
    std::string_view line;
    while (reader.next(line)) {
      const std::size_t line_number = reader.line_number();
      record_text.assign(line);
      while (inside_quotes(record_text) && reader.next(line)) {
        record_text += '\n';
        record_text.append(line);
      }
      if (record_text.empty()) continue;
      auto problem = [&](std::string message) {
        return sink.problem({name, line_number, std::move(message), record_text});
      };
      if (std::string p = split_csv(record_text, fields); !p.empty()) {
        if (!problem(p)) break;
        continue;
      }
      if (columns.empty()) {  // the header row
        for (const std::string& f : fields) columns.push_back(column_of(f));
        for (std::string_view needed : {"step", "duration_us"}) {
          if (std::find(fields.begin(), fields.end(), needed) == fields.end()) {
            sink.problem({name, line_number,
                          "the header row has no \"" + std::string(needed) +
                              "\" column (is this perfguard's --format csv?)",
                          record_text});
            return reader.status();
          }
        }
        if (std::find(fields.begin(), fields.end(), "started_at") == fields.end() &&
            std::find(fields.begin(), fields.end(), "started_us") == fields.end()) {
          sink.problem({name, line_number,
                        "the header row has neither a \"started_at\" nor a \"started_us\" column",
                        record_text});
          return reader.status();
        }
        continue;
      }
      if (fields.size() != columns.size()) {
        if (!problem("expected " + std::to_string(columns.size()) +
                     " fields, as in the header, found " + std::to_string(fields.size()))) {
          break;
        }
        continue;
      }
      std::string message;
      if (!to_record(columns, fields, record_text, options.context, record, message)) {
        if (!problem(message)) break;
        continue;
      }
      if (auto bad_number = exchange::out_of_bounds(record)) {
        if (!problem(*bad_number)) break;
        continue;
      }
      if (Status s = sink.record(record); !s) return s;
    }
    return reader.status();
  }

 private:
  static bool bad(std::string& message, std::string_view column, std::string_view what) {
    message = "\"";
    message += column;
    message += "\" must be ";
    message += what;
    return false;
  }

  static bool to_record(const std::vector<int>& columns, const std::vector<std::string>& fields,
                        std::string_view text, const RunContext& defaults, StepRecord& r,
                        std::string& message) {
    r = StepRecord{};
    unsigned present = 0;
    bool has_start = false, has_status = false;
    std::string_view spans, labels;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      // Our export quotes text cells a spreadsheet would run as a formula: undone here.
      const std::string_view f = spreadsheet_unquote(fields[i]);
      auto integer = [&](std::string_view column, std::int64_t& out, bool allow_empty) {
        if (f.empty() && allow_empty) return true;
        auto v = exchange::parse_int(f);
        if (!v) return bad(message, column, "an integer");
        out = *v;
        return true;
      };
      switch (
          static_cast<RecordField>(std::min(columns[i], static_cast<int>(RecordField::context)))) {
        case RecordField::unknown:
          break;
        case RecordField::trace_id:
          if (f.empty()) break;
          if (auto id = exchange::parse_trace_id(f)) {
            r.trace_id = *id;
          } else {
            return bad(message, "trace_id", "1 to 16 hex digits, not all zero");
          }
          break;
        case RecordField::step:
          assign_decoded_text(r.step, f);
          break;
        case RecordField::status:
          if (f.empty()) break;
          if (auto s = parse_step_status(f)) {
            r.status = *s;
            has_status = true;
          } else {
            return bad(message, "status", "ok, breach, failed, timeout or interrupted");
          }
          break;
        case RecordField::started_at:
          if (f.empty() && has_start) break;
          if (auto t = parse_utc_timestamp(f)) {
            if (!has_start) r.root.start_us = *t;
            has_start = true;
          } else {
            return bad(message, "started_at", "an ISO-8601 UTC time like 2026-01-31T12:00:00Z");
          }
          break;
        case RecordField::started_us:
          if (!integer("started_us", r.root.start_us, false)) return false;
          has_start = true;
          break;
        case RecordField::duration_us:
          if (!integer("duration_us", r.root.duration.us, false)) return false;
          if (r.root.duration.us < 0) return bad(message, "duration_us", "0 or more");
          break;
        case RecordField::threshold_us: {
          if (f.empty()) break;
          std::int64_t t = 0;
          if (!integer("threshold_us", t, false)) return false;
          r.threshold = Duration::micros(t);
          break;
        }
        case RecordField::exit_code: {
          std::int64_t code = 0;
          if (!integer("exit_code", code, true)) return false;
          if (code < std::numeric_limits<int>::min() || code > std::numeric_limits<int>::max()) {
            return bad(message, "exit_code", "a 32-bit integer");
          }
          r.exit_code = static_cast<int>(code);
          break;
        }
        case RecordField::head_before:
          assign_decoded_text(r.head_before, f);
          break;
        case RecordField::head_after:
          assign_decoded_text(r.head_after, f);
          break;
        case RecordField::cpu_user_us:
          if (!integer("cpu_user_us", r.root.usage.cpu_user_us, true)) return false;
          break;
        case RecordField::cpu_sys_us:
          if (!integer("cpu_sys_us", r.root.usage.cpu_sys_us, true)) return false;
          break;
        case RecordField::max_rss_kb:
          if (!integer("max_rss_kb", r.root.usage.max_rss_kb, true)) return false;
          break;
        case RecordField::spans:
          spans = f;
          break;
        case RecordField::labels:
          labels = f;
          break;
        case RecordField::context: {
          int ci = columns[i] - static_cast<int>(RecordField::context);
          assign_decoded_text(r.context.*kContextFields[ci].member, f);
          present |= 1u << ci;
          break;
        }
      }
    }
    if (r.step.empty()) return bad(message, "step", "a step name");
    if (!has_start)
      return bad(message, "started_at", "an ISO-8601 UTC time like 2026-01-31T12:00:00Z");
    r.root.name = r.step;

    // spans: name:duration_us;… (a name may hold ':', the duration is after the last one)
    std::int64_t offset = 0;
    for (std::string_view rest = spans; !rest.empty();) {
      std::size_t semi = rest.find(';');
      std::string_view item = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      std::size_t colon = item.rfind(':');
      auto us = colon == std::string_view::npos ? std::nullopt
                                                : exchange::parse_int(item.substr(colon + 1));
      if (!us || *us < 0 || *us > exchange::kMaxDurationUs || colon == 0) {
        return bad(message, "spans", "name:duration_us pairs separated by ';'");
      }
      Span child;
      assign_decoded_text(child.name, item.substr(0, colon));
      child.start_us = r.root.start_us + offset;
      child.duration = Duration::micros(*us);
      offset += *us;
      r.root.children.push_back(std::move(child));
    }
    // labels: key=value;… (the value after the first '=')
    for (std::string_view rest = labels; !rest.empty();) {
      std::size_t semi = rest.find(';');
      std::string_view item = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      std::size_t eq = item.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return bad(message, "labels", "key=value pairs separated by ';'");
      }
      r.labels.emplace_back(decode_text(item.substr(0, eq)), decode_text(item.substr(eq + 1)));
    }
    if (!has_status) r.status = r.exit_code == 0 ? StepStatus::ok : StepStatus::failed;
    if (r.trace_id == 0) r.trace_id = stable_trace_id(text);
    exchange::fill_context(r.context, present, defaults);
    return true;
  }
};

}  // namespace

std::unique_ptr<Importer> make_csv_importer() {
  return std::make_unique<CsvImporter>();
}

}  // namespace perfguard
