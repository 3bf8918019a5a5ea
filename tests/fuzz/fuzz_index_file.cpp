// read_index_file on arbitrary bytes (git's index format, versions 2-4). An index read
// without a problem has its bytes kept whole, and each entry's path ends with a NUL.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "fuzz_input.h"
#include "git/index_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace perfguard;
  IndexRead read = read_index_file(fuzz::scratch_file(data, size, "index"));
  if (read.problem == IndexProblem::none) {
    if (!read.index) std::abort();
    if (read.index->bytes.size() != size ||
        (size && std::memcmp(read.index->bytes.data(), data, size) != 0)) {
      std::abort();
    }
    for (const IndexEntry& e : read.index->entries) {
      if (e.stage < 0 || e.stage > 3) std::abort();
      if (e.path.data()[e.path.size()] != '\0') std::abort();  // a C string, as promised
    }
    if (!read.index->cache_tree_root.empty() && read.index->cache_tree_root.size() != 40) {
      std::abort();
    }
  } else if (read.index) {
    std::abort();
  }
  return 0;
}
