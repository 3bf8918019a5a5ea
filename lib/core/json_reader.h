#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perfguard {

// Where a text is not JSON: 1-based line and column (the column counts characters, not
// bytes) and what was expected there.
struct JsonError {
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;
};

// `line 3, column 7: expected ',' or '}' after an object member`
std::string to_string(const JsonError& error);

class JsonDocument;

// A read-only view of one value in a JsonDocument; valid while the document is not parsed
// again or destroyed (and, for strings, while the parsed text lives). A default or missing
// value (find() of an absent key) is not valid(): every accessor then returns the empty
// or zero result, so `v.find("a").find("b")` needs no checks in between.
class JsonValue {
 public:
  enum class Type : std::uint8_t { null, boolean, number, string, array, object };

  JsonValue() = default;

  bool valid() const { return doc_ != nullptr; }
  explicit operator bool() const { return valid(); }
  Type type() const;
  bool is_null() const { return valid() && type() == Type::null; }
  bool is_bool() const { return valid() && type() == Type::boolean; }
  bool is_number() const { return valid() && type() == Type::number; }
  bool is_string() const { return valid() && type() == Type::string; }
  bool is_array() const { return valid() && type() == Type::array; }
  bool is_object() const { return valid() && type() == Type::object; }

  bool as_bool() const;
  // The string's contents with escapes decoded (valid UTF-8).
  std::string_view as_string() const;
  // A number written as an integer (no fraction or exponent) that fits in 64 bits.
  std::optional<std::int64_t> as_int64() const;
  double as_double() const;
  // The number as written.
  std::string_view raw_number() const;

  // Elements of an array, members of an object; 0 otherwise.
  std::size_t size() const;
  // The first member named `key` of an object.
  JsonValue find(std::string_view key) const;
  JsonValue operator[](std::string_view key) const { return find(key); }

  // Byte offset of the value in the parsed text (for messages about it).
  std::size_t offset() const;

  struct Member;
  class Iterator;
  template <class T>
  struct Range {
    T first, last;
    T begin() const { return first; }
    T end() const { return last; }
  };
  class MemberIterator;
  // for (JsonValue v : array.items())
  Range<Iterator> items() const;
  // for (const auto& [key, value] : object.members())
  Range<MemberIterator> members() const;

 private:
  friend class JsonDocument;
  JsonValue(const JsonDocument* doc, std::uint32_t index) : doc_(doc), index_(index) {}
  const JsonDocument* doc_ = nullptr;
  std::uint32_t index_ = 0;
};

struct JsonValue::Member {
  std::string_view key;
  JsonValue value;
};

class JsonValue::Iterator {
 public:
  JsonValue operator*() const { return JsonValue(doc_, index_); }
  Iterator& operator++();
  bool operator==(const Iterator& o) const { return index_ == o.index_; }
  bool operator!=(const Iterator& o) const { return index_ != o.index_; }

 private:
  friend class JsonValue;
  Iterator(const JsonDocument* doc, std::uint32_t index) : doc_(doc), index_(index) {}
  const JsonDocument* doc_;
  std::uint32_t index_;
};

class JsonValue::MemberIterator {
 public:
  Member operator*() const;
  MemberIterator& operator++();
  bool operator==(const MemberIterator& o) const { return index_ == o.index_; }
  bool operator!=(const MemberIterator& o) const { return index_ != o.index_; }

 private:
  friend class JsonValue;
  MemberIterator(const JsonDocument* doc, std::uint32_t index) : doc_(doc), index_(index) {}
  const JsonDocument* doc_;
  std::uint32_t index_;  // the key's node
};

// A strict RFC 8259 parser into a flat tape of nodes: one value, surrounded by whitespace
// only; no comments, trailing commas, leading zeros, NaN or unescaped control characters;
// strings must be valid UTF-8 and \u escapes valid pairs. Duplicate keys are kept (find()
// returns the first). Nesting deeper than 256 is refused rather than risking the stack.
//
// Made for parsing many small documents fast (one per JSONL line): parse() again reuses the
// buffers, and strings without escapes are views into the text, not copies, so the text
// must outlive the values read from it.
class JsonDocument {
 public:
  static constexpr int kMaxDepth = 256;

  // Parses `text`; on failure the document is empty and the error says where and why.
  std::optional<JsonError> parse(std::string_view text);
  JsonValue root() const;

 private:
  friend class JsonValue;
  friend class JsonParser;
  struct Node {
    std::uint32_t end = 0;     // the index after this node's subtree
    std::uint32_t count = 0;   // array elements, object members
    std::uint32_t offset = 0;  // byte offset of the value in the text
    std::uint32_t length = 0;  // string or raw number length
    std::uint32_t data = 0;    // string: where its bytes start (text or buffer)
    JsonValue::Type type = JsonValue::Type::null;
    bool in_buffer = false;  // string: the decoded bytes are in strings_, not the text
    bool is_integer = false;
    std::int64_t integer = 0;  // number: the value when is_integer; boolean: 0 or 1
  };
  std::string_view text_;
  std::vector<Node> nodes_;
  std::string strings_;
};

}  // namespace perfguard
