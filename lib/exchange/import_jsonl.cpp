// Our record JSON, one object per line (`--format jsonl`, and the fallback journal): the
// fields of output/record_json.h. Fields this version does not know are ignored, so a
// newer writer's lines import; a missing trace_id is derived from the line.
#include <string>

#include "core/json_reader.h"
#include "exchange/exchange.h"
#include "exchange/input.h"
#include "exchange/record_reader.h"

namespace perfguard {

Status exchange::read_record_lines(const std::filesystem::path& input, const ImportOptions& options,
                                   ImportSink& sink, const RecordLineHandlers& handlers) {
  LineReader reader;
  if (Status s = reader.open(input); !s) return s;
  const std::string name = display_name(input);
  JsonDocument doc;
  StepRecord record;
  std::string problem;
  std::string_view text;
  while (reader.next(text)) {
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank
    const std::size_t number = reader.line_number();
    if (auto error = doc.parse(text)) {
      // One value per line, so the column is what locates the problem.
      if (!sink.problem({name, number,
                         "column " + std::to_string(error->column) + ": " + error->message,
                         std::string(text)})) {
        break;
      }
      continue;
    }
    const RecordLine line{doc.root(), text, number};
    if (handlers.keep && !handlers.keep(line)) continue;
    if (!record_from_json(line.root, text, options.context, record, problem)) {
      if (!sink.problem({name, number, problem, std::string(text)})) break;
      continue;
    }
    if (auto bad_number = out_of_bounds(record)) {
      if (!sink.problem({name, number, *bad_number, std::string(text)})) break;
      continue;
    }
    if (handlers.take) {
      auto read_on = handlers.take(line, record);
      if (!read_on) return read_on.error();
      if (!*read_on) break;
    } else if (Status s = sink.record(record); !s) {
      return s;
    }
  }
  return reader.status();
}

namespace {

class JsonlImporter : public Importer {
 public:
  Status read(const std::filesystem::path& input, const ImportOptions& options,
              ImportSink& sink) override {
    return exchange::read_record_lines(input, options, sink);
  }
};

}  // namespace

std::unique_ptr<Importer> make_jsonl_importer() {
  return std::make_unique<JsonlImporter>();
}

}  // namespace perfguard
