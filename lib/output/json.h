#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace perfguard {

// A small streaming JSON writer: enough for our records, with correct string escaping
// (control characters, quotes, backslashes; invalid UTF-8 replaced by U+FFFD).
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view v);
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonWriter& value(double v);
  JsonWriter& value(bool v);
  JsonWriter& null();

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separator();
  std::string out_;
  bool need_comma_ = false;
};

void append_json_string(std::string& out, std::string_view s);

}  // namespace perfguard
