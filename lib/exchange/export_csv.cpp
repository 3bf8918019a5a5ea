// The `--format csv` columns (output/report.h), written by the same code the tools use,
// in batches so any number of records streams through.
#include <cstdio>
#include <cstdlib>

#include "exchange/exchange.h"
#include "output/report.h"

namespace perfguard {

namespace {

class CsvExporter : public Exporter {
 public:
  void add(const StepRecord& record, std::string& out) override {
    batch_.push_back(record);
    if (batch_.size() >= kBatch) flush(out);
  }
  void finish(std::string& out) override { flush(out); }

 private:
  static constexpr std::size_t kBatch = 256;

  // write_records() writes a header row and the rows: every batch after the first drops
  // its header, so there is exactly one, even with no records at all.
  void flush(std::string& out) {
    if (batch_.empty() && header_written_) return;
    char* text = nullptr;
    std::size_t size = 0;
    std::FILE* mem = ::open_memstream(&text, &size);
    if (!mem) throw std::bad_alloc();
    write_records(mem, Format::csv, batch_, "perf-baseline", 0);
    std::fclose(mem);
    std::string_view rows(text, size);
    if (header_written_) {
      std::size_t nl = rows.find('\n');
      rows.remove_prefix(nl == std::string_view::npos ? rows.size() : nl + 1);
    }
    out.append(rows);
    std::free(text);
    header_written_ = true;
    batch_.clear();
  }

  std::vector<StepRecord> batch_;
  bool header_written_ = false;
};

}  // namespace

std::unique_ptr<Exporter> make_csv_exporter() {
  return std::make_unique<CsvExporter>();
}

}  // namespace perfguard
