// parse_duration on arbitrary text. What parses must format to text that parses again, and
// formatting is then stable: format(parse(format(d))) == format(d).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace perfguard;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_duration(text);
  if (!parsed) return 0;
  if (parsed->us < 0) std::abort();  // only differences are negative
  const std::string printed = format_duration(*parsed);
  auto again = parse_duration(printed);
  if (!again) std::abort();
  if (format_duration(*again) != printed) std::abort();
  return 0;
}
