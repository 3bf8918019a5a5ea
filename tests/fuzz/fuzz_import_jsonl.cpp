// The jsonl importer on arbitrary bytes: our record JSON, one object per line (`--format jsonl`),
// read from a file as `perf-baseline import --format jsonl FILE` reads it.
#include <cstddef>
#include <cstdint>

#include "exchange/exchange.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace perfguard;
  auto importer = make_importer(ImportFormat::jsonl);
  ImportOptions options;
  options.now_us = 1764460800000000;  // 2025-11-30
  fuzz::DiscardSink sink;
  Status status = importer->read(fuzz::scratch_file(data, size), options, sink);
  (void)status;
  return 0;
}
