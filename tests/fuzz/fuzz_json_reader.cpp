// JsonDocument::parse on arbitrary bytes, then a walk over every value it accepted (every
// accessor, so a bad tape index or string view shows up here rather than in an importer).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json_reader.h"

namespace {

using perfguard::JsonValue;

std::size_t walk(JsonValue v, std::string_view text, int depth) {
  if (!v.valid() || depth > perfguard::JsonDocument::kMaxDepth + 1) std::abort();
  if (v.offset() >= text.size()) std::abort();
  std::size_t n = 1;
  switch (v.type()) {
    case JsonValue::Type::null:
      break;
    case JsonValue::Type::boolean:
      n += v.as_bool();
      break;
    case JsonValue::Type::number:
      n += v.raw_number().size() + (v.as_int64() ? 1 : 0);
      n += v.as_double() > 0;
      break;
    case JsonValue::Type::string:
      n += v.as_string().size();
      break;
    case JsonValue::Type::array: {
      std::size_t count = 0;
      for (JsonValue item : v.items()) {
        n += walk(item, text, depth + 1);
        ++count;
      }
      if (count != v.size()) std::abort();
      break;
    }
    case JsonValue::Type::object: {
      std::size_t count = 0;
      for (const auto& [key, value] : v.members()) {
        n += key.size() + walk(value, text, depth + 1);
        // find() returns the first member of that name: a value, always.
        if (!v.find(key).valid()) std::abort();
        ++count;
      }
      if (count != v.size()) std::abort();
      break;
    }
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  perfguard::JsonDocument doc;
  if (auto error = doc.parse(text)) {
    if (error->line == 0 || error->message.empty()) std::abort();
    return 0;
  }
  volatile std::size_t sink = walk(doc.root(), text, 0);
  (void)sink;
  return 0;
}
