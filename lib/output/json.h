#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace perfguard {

// How a string that is not valid UTF-8 is written.
enum class JsonStrings {
  // Percent-encoded (core/text_encoding.h, "TEXT ENCODING" in perfguard(7)): valid JSON
  // that decodes back to the bytes. Every output and the journal.
  encoded,
  // As its bytes: the store's labels column, which keeps bytes as its other columns do.
  bytes,
};

// A small streaming JSON writer: enough for our records, with correct string escaping
// (control characters, quotes, backslashes; bytes that are not UTF-8 as `strings` says).
class JsonWriter {
 public:
  explicit JsonWriter(JsonStrings strings = JsonStrings::encoded) : strings_(strings) {}
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
  JsonStrings strings_;
  std::string out_;
  bool need_comma_ = false;
};

// `s` as a JSON string.
void append_json_string(std::string& out, std::string_view s,
                        JsonStrings strings = JsonStrings::encoded);

// A finite number as every machine format writes it: the shortest text that reads back as
// the same double, without an exponent between 1e-5 and 1e15 (100000, not 1e+05, which
// surprises scripts and spreadsheets).
void append_number(std::string& out, double v);

}  // namespace perfguard
