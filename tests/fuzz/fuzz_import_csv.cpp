// The csv importer on arbitrary bytes: our `--format csv` rows (RFC 4180), read from a file as
// `perf-baseline import --format csv FILE` reads it.
#include <cstddef>
#include <cstdint>

#include "exchange/exchange.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace perfguard;
  auto importer = make_importer(ImportFormat::csv);
  ImportOptions options;
  options.now_us = 1764460800000000;  // 2025-11-30
  fuzz::DiscardSink sink;
  Status status = importer->read(fuzz::scratch_file(data, size), options, sink);
  (void)status;
  return 0;
}
