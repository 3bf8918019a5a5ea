// The hyperfine importer on arbitrary bytes: hyperfine's `--export-json` output, read from a file
// as `perf-baseline import --format hyperfine FILE` reads it.
#include <cstddef>
#include <cstdint>

#include "exchange/exchange.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  perfguard::fuzz::import_discarding(perfguard::ImportFormat::hyperfine, data, size);
  return 0;
}
