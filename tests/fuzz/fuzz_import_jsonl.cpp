// The jsonl importer on arbitrary bytes: our record JSON, one object per line (`--format jsonl`),
// read from a file as `perf-baseline import --format jsonl FILE` reads it.
#include <cstddef>
#include <cstdint>

#include "exchange/exchange.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  perfguard::fuzz::import_discarding(perfguard::ImportFormat::jsonl, data, size);
  return 0;
}
