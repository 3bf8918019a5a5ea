// Our record JSON, one record per line: the `--format jsonl` contract, and what
// `import --format jsonl` reads back.
#include "exchange/exchange.h"
#include "output/record_json.h"

namespace perfguard {

namespace {

class JsonlExporter : public Exporter {
 public:
  void add(const StepRecord& record, std::string& out) override {
    out += record_to_jsonl(record);
    out += '\n';
  }
  void finish(std::string&) override {}
};

}  // namespace

std::unique_ptr<Exporter> make_jsonl_exporter() {
  return std::make_unique<JsonlExporter>();
}

}  // namespace perfguard
