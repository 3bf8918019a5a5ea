// decode_manifest on arbitrary bytes. A manifest that decodes re-encodes to the same bytes:
// the encoding has one form per list of captured paths.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "safety/capture.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace perfguard;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_manifest(text);
  if (!decoded) return 0;
  if (encode_manifest(*decoded) != text) std::abort();
  return 0;
}
