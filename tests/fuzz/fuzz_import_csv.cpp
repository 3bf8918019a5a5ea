// The csv importer on arbitrary bytes: our `--format csv` rows (RFC 4180), read from a file as
// `perf-baseline import --format csv FILE` reads it.
#include <cstddef>
#include <cstdint>

#include "exchange/exchange.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  perfguard::fuzz::import_discarding(perfguard::ImportFormat::csv, data, size);
  return 0;
}
