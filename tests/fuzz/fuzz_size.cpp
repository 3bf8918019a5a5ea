// parse_size on arbitrary text. What parses must format to text that parses again, and
// formatting is then stable: format(parse(format(n))) == format(n).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace perfguard;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_size(text);
  if (!parsed) return 0;
  if (*parsed < 0) std::abort();
  const std::string printed = format_size(*parsed);
  auto again = parse_size(printed);
  if (!again) std::abort();
  if (format_size(*again) != printed) std::abort();
  return 0;
}
