// The journal's reader on arbitrary bytes (`perf-baseline import --format journal`). Every
// record it accepts must survive the journal's own round trip: written as a journal line
// (record_to_jsonl) and read back, it is the same record, so nothing a tool appends to the
// journal is lost or changed by an import.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/json_reader.h"
#include "exchange/exchange.h"
#include "exchange/record_reader.h"
#include "fuzz_input.h"
#include "output/record_json.h"

namespace {

using namespace perfguard;

class RoundTripSink : public ImportSink {
 public:
  Status record(StepRecord& record) override {
    const std::string line = record_to_jsonl(record);
    if (doc_.parse(line)) std::abort();  // we wrote a line that is not JSON
    std::string problem;
    if (!exchange::record_from_json(doc_.root(), line, RunContext{}, again_, problem)) {
      std::abort();  // we wrote a line that we refuse to read
    }
    if (record_to_jsonl(again_) != line) std::abort();  // read back, it is another record
    return {};
  }
  bool problem(ImportProblem) override { return true; }

 private:
  JsonDocument doc_;
  StepRecord again_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto importer = make_importer(ImportFormat::journal);
  ImportOptions options;
  options.now_us = 1764460800000000;  // 2025-11-30
  RoundTripSink sink;
  Status status =
      importer->read(fuzz::scratch_file(data, size, "perf.db.journal.jsonl"), options, sink);
  (void)status;
  return 0;
}
