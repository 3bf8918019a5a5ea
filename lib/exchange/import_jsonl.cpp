// Our record JSON, one object per line (`--format jsonl`, and the fallback journal): the
// fields of output/record_json.h. Fields this version does not know are ignored, so a
// newer writer's lines import; a missing trace_id is derived from the line.
#include <string>

#include "core/json_reader.h"
#include "exchange/exchange.h"
#include "exchange/input.h"
#include "exchange/record_reader.h"

namespace perfguard {

namespace {

class JsonlImporter : public Importer {
 public:
  Status read(const std::filesystem::path& input, const ImportOptions& options,
              ImportSink& sink) override {
    exchange::LineReader reader;
    if (Status s = reader.open(input); !s) return s;
    const std::string name = exchange::display_name(input);
    JsonDocument doc;
    StepRecord record;
    std::string problem;
    std::string_view line;
    while (reader.next(line)) {
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank
      if (auto error = doc.parse(line)) {
        // JSONL: one value per line, so the column is what locates the problem.
        if (!sink.problem({name, reader.line_number(),
                           "column " + std::to_string(error->column) + ": " + error->message,
                           std::string(line)})) {
          break;
        }
        continue;
      }
      if (!exchange::record_from_json(doc.root(), line, options.context, record, problem)) {
        if (!sink.problem({name, reader.line_number(), problem, std::string(line)})) break;
        continue;
      }
      if (auto bad_number = exchange::out_of_bounds(record)) {
        if (!sink.problem({name, reader.line_number(), *bad_number, std::string(line)})) break;
        continue;
      }
      if (Status s = sink.record(record); !s) return s;
    }
    return reader.status();
  }
};

}  // namespace

std::unique_ptr<Importer> make_jsonl_importer() {
  return std::make_unique<JsonlImporter>();
}

}  // namespace perfguard
