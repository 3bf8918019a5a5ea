// The hyperfine importer on arbitrary bytes: hyperfine's `--export-json` output, read from a file
// as `perf-baseline import --format hyperfine FILE` reads it.
#include <cstddef>
#include <cstdint>

#include "exchange/exchange.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace perfguard;
  auto importer = make_importer(ImportFormat::hyperfine);
  ImportOptions options;
  options.now_us = 1764460800000000;  // 2025-11-30
  fuzz::DiscardSink sink;
  Status status = importer->read(fuzz::scratch_file(data, size), options, sink);
  (void)status;
  return 0;
}
