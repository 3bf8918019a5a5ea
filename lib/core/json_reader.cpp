#include "core/json_reader.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace perfguard {

std::string to_string(const JsonError& error) {
  return "line " + std::to_string(error.line) + ", column " + std::to_string(error.column) + ": " +
         error.message;
}

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// A printable form of the byte at an error: `'x'`, `end of input`, `byte 0x07`.
std::string describe(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return "end of input";
  unsigned char c = static_cast<unsigned char>(text[pos]);
  if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
  return buf;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The length of the valid UTF-8 sequence starting at `p` (a non-ASCII lead byte), or 0.
// Rejects overlong forms, surrogates and code points past U+10FFFF.
std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end) {
  unsigned char c = p[0];
  std::size_t n;
  std::uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (static_cast<std::size_t>(end - p) < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

// Bytes a string holds as they are: printable ASCII but the quote and the backslash.
constexpr auto kPlainInString = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// Recursive descent over the text, appending nodes in document order (a value's subtree
// follows it directly, so `end` lets a reader skip it).
class JsonParser {
 public:
  JsonParser(JsonDocument& doc, std::string_view text) : doc_(doc), text_(text) {}

  std::optional<JsonError> run() {
    skip_space();
    if (!value(0)) return error_;
    skip_space();
    if (pos_ != text_.size()) {
      fail(pos_, "unexpected " + describe(text_, pos_) + " after the JSON value");
      return error_;
    }
    return std::nullopt;
  }

 private:
  using Node = JsonDocument::Node;
  using Type = JsonValue::Type;

  bool fail(std::size_t at, std::string message) {
    if (error_) return false;
    JsonError e;
    e.line = 1;
    std::size_t line_start = 0;
    at = std::min(at, text_.size());
    for (std::size_t i = 0; i < at; ++i) {
      if (text_[i] == '\n') {
        ++e.line;
        line_start = i + 1;
      }
    }
    e.column = 1;
    for (std::size_t i = line_start; i < at; ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++e.column;
    }
    e.message = std::move(message);
    error_ = std::move(e);
    return false;
  }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  std::uint32_t push(Type type) {
    Node n;
    n.type = type;
    n.offset = static_cast<std::uint32_t>(pos_);
    doc_.nodes_.push_back(n);
    return static_cast<std::uint32_t>(doc_.nodes_.size() - 1);
  }

  void close(std::uint32_t index) {
    doc_.nodes_[index].end = static_cast<std::uint32_t>(doc_.nodes_.size());
  }

  bool literal(std::string_view word, Type type, std::int64_t v) {
    if (text_.substr(pos_, word.size()) != word) {
      return fail(pos_, "expected a JSON value, found " + describe(text_, pos_));
    }
    std::uint32_t i = push(type);
    doc_.nodes_[i].integer = v;
    pos_ += word.size();
    close(i);
    return true;
  }

  bool value(int depth) {
    if (pos_ >= text_.size()) return fail(pos_, "expected a JSON value, found end of input");
    switch (text_[pos_]) {
      case '{':
        return object(depth);
      case '[':
        return array(depth);
      case '"': {
        std::uint32_t i = push(Type::string);
        if (!string(i)) return false;
        close(i);
        return true;
      }
      case 't':
        return literal("true", Type::boolean, 1);
      case 'f':
        return literal("false", Type::boolean, 0);
      case 'n':
        return literal("null", Type::null, 0);
      default:
        return number();
    }
  }

  bool object(int depth) {
    if (depth >= JsonDocument::kMaxDepth) return fail(pos_, "nested deeper than 256 levels");
    std::uint32_t i = push(Type::object);
    ++pos_;
    skip_space();
    std::uint32_t count = 0;
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
    } else {
      for (;;) {
        if (pos_ >= text_.size() || text_[pos_] != '"') {
          return fail(pos_,
                      "expected a member name in double quotes, found " + describe(text_, pos_));
        }
        std::uint32_t k = push(Type::string);
        if (!string(k)) return false;
        close(k);
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != ':') {
          return fail(pos_, "expected ':' after a member name, found " + describe(text_, pos_));
        }
        ++pos_;
        skip_space();
        if (!value(depth + 1)) return false;
        ++count;
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          skip_space();
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == '}') {
          ++pos_;
          break;
        }
        return fail(pos_,
                    "expected ',' or '}' after an object member, found " + describe(text_, pos_));
      }
    }
    doc_.nodes_[i].count = count;
    close(i);
    return true;
  }

  bool array(int depth) {
    if (depth >= JsonDocument::kMaxDepth) return fail(pos_, "nested deeper than 256 levels");
    std::uint32_t i = push(Type::array);
    ++pos_;
    skip_space();
    std::uint32_t count = 0;
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
    } else {
      for (;;) {
        if (!value(depth + 1)) return false;
        ++count;
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          skip_space();
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == ']') {
          ++pos_;
          break;
        }
        return fail(pos_,
                    "expected ',' or ']' after an array element, found " + describe(text_, pos_));
      }
    }
    doc_.nodes_[i].count = count;
    close(i);
    return true;
  }

  // Reads four hex digits at pos_ (after `\u`).
  bool hex4(std::uint32_t& out) {
    if (text_.size() - pos_ < 4) return fail(pos_, "expected four hex digits after \\u");
    out = 0;
    for (int k = 0; k < 4; ++k) {
      int d = hex_digit(text_[pos_ + k]);
      if (d < 0) return fail(pos_ + k, "expected four hex digits after \\u");
      out = out << 4 | static_cast<std::uint32_t>(d);
    }
    pos_ += 4;
    return true;
  }

  bool string(std::uint32_t index) {
    const std::size_t open = pos_;
    ++pos_;
    const std::size_t start = pos_;
    const auto* bytes = reinterpret_cast<const unsigned char*>(text_.data());
    const auto* end = bytes + text_.size();
    // Fast path: no escapes, the string is a view into the text.
    const std::size_t size = text_.size();
    for (;;) {
      while (pos_ < size && kPlainInString[bytes[pos_]]) ++pos_;  // the usual bytes, at speed
      if (pos_ >= size) return fail(open, "unterminated string");
      unsigned char c = bytes[pos_];
      if (c == '"') {
        Node& n = doc_.nodes_[index];
        n.data = static_cast<std::uint32_t>(start);
        n.length = static_cast<std::uint32_t>(pos_ - start);
        ++pos_;
        return true;
      }
      if (c == '\\') break;
      if (c < 0x20)
        return fail(pos_, "control character " + describe(text_, pos_) + " in a string");
      if (c < 0x80) {
        ++pos_;
      } else {
        std::size_t n = utf8_sequence(bytes + pos_, end);
        if (n == 0) return fail(pos_, "invalid UTF-8 in a string");
        pos_ += n;
      }
    }
    // Slow path: decode into the document's buffer.
    std::string& buf = doc_.strings_;
    const std::size_t data = buf.size();
    buf.append(text_.data() + start, pos_ - start);
    for (;;) {
      if (pos_ >= text_.size()) return fail(open, "unterminated string");
      unsigned char c = bytes[pos_];
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c == '\\') {
        if (pos_ + 1 >= text_.size()) return fail(open, "unterminated string");
        char e = text_[pos_ + 1];
        pos_ += 2;
        switch (e) {
          case '"':
            buf += '"';
            break;
          case '\\':
            buf += '\\';
            break;
          case '/':
            buf += '/';
            break;
          case 'b':
            buf += '\b';
            break;
          case 'f':
            buf += '\f';
            break;
          case 'n':
            buf += '\n';
            break;
          case 'r':
            buf += '\r';
            break;
          case 't':
            buf += '\t';
            break;
          case 'u': {
            std::uint32_t cp;
            const std::size_t at = pos_ - 2;
            if (!hex4(cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(at, "lone low surrogate \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              std::uint32_t low;
              if (text_.substr(pos_, 2) != "\\u") {
                return fail(at, "high surrogate \\u escape without its low surrogate");
              }
              pos_ += 2;
              if (!hex4(low)) return false;
              if (low < 0xDC00 || low > 0xDFFF) {
                return fail(at, "high surrogate \\u escape without its low surrogate");
              }
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            append_utf8(buf, cp);
            break;
          }
          default:
            return fail(pos_ - 2, "invalid escape \\" + std::string(1, e) + " in a string");
        }
        continue;
      }
      if (c < 0x20)
        return fail(pos_, "control character " + describe(text_, pos_) + " in a string");
      if (c < 0x80) {
        buf += static_cast<char>(c);
        ++pos_;
      } else {
        std::size_t n = utf8_sequence(bytes + pos_, end);
        if (n == 0) return fail(pos_, "invalid UTF-8 in a string");
        buf.append(text_.data() + pos_, n);
        pos_ += n;
      }
    }
    Node& n = doc_.nodes_[index];
    n.in_buffer = true;
    n.data = static_cast<std::uint32_t>(data);
    n.length = static_cast<std::uint32_t>(buf.size() - data);
    return true;
  }

  bool digits() {
    std::size_t from = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    return pos_ > from;
  }

  // number = [ '-' ] int [ frac ] [ exp ]; int = '0' / digit1-9 *digit
  bool number() {
    const std::size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') {
      return fail(start, "expected a JSON value, found " + describe(text_, start));
    }
    if (text_[pos_] == '0') {
      ++pos_;
      if (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        return fail(start, "leading zero in a number");
      }
    } else {
      digits();
    }
    bool integral = true;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      integral = false;
      if (!digits()) return fail(pos_, "expected a digit after the decimal point");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      integral = false;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return fail(pos_, "expected a digit in the exponent");
    }
    std::uint32_t i = static_cast<std::uint32_t>(doc_.nodes_.size());
    Node n;
    n.type = Type::number;
    n.offset = static_cast<std::uint32_t>(start);
    n.data = n.offset;
    n.length = static_cast<std::uint32_t>(pos_ - start);
    if (integral) {
      auto [p, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, n.integer);
      n.is_integer = ec == std::errc() && p == text_.data() + pos_;
    }
    n.end = i + 1;
    doc_.nodes_.push_back(n);
    return true;
  }

  JsonDocument& doc_;
  std::string_view text_;
  std::size_t pos_ = 0;
  std::optional<JsonError> error_;
};

std::optional<JsonError> JsonDocument::parse(std::string_view text) {
  nodes_.clear();
  strings_.clear();
  text_ = text;
  if (text.size() >= std::numeric_limits<std::uint32_t>::max()) {
    text_ = {};
    return JsonError{1, 1, "the text is larger than 4 GiB"};
  }
  auto error = JsonParser(*this, text).run();
  if (error) {
    nodes_.clear();
    text_ = {};
  }
  return error;
}

JsonValue JsonDocument::root() const {
  return nodes_.empty() ? JsonValue() : JsonValue(this, 0);
}

JsonValue::Type JsonValue::type() const {
  return valid() ? doc_->nodes_[index_].type : Type::null;
}

bool JsonValue::as_bool() const {
  return is_bool() && doc_->nodes_[index_].integer != 0;
}

std::string_view JsonValue::as_string() const {
  if (!is_string()) return {};
  const auto& n = doc_->nodes_[index_];
  const char* base = n.in_buffer ? doc_->strings_.data() : doc_->text_.data();
  return std::string_view(base + n.data, n.length);
}

std::optional<std::int64_t> JsonValue::as_int64() const {
  if (!is_number() || !doc_->nodes_[index_].is_integer) return std::nullopt;
  return doc_->nodes_[index_].integer;
}

double JsonValue::as_double() const {
  if (!is_number()) return 0.0;
  const auto& n = doc_->nodes_[index_];
  if (n.is_integer) return static_cast<double>(n.integer);
  double v = 0.0;
  std::string_view raw = raw_number();
  auto [p, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (ec == std::errc::result_out_of_range) {
    // Past the range of a double: strtod's answer (infinity, or zero on underflow).
    return std::strtod(std::string(raw).c_str(), nullptr);
  }
  return v;
}

std::string_view JsonValue::raw_number() const {
  if (!is_number()) return {};
  const auto& n = doc_->nodes_[index_];
  return doc_->text_.substr(n.data, n.length);
}

std::size_t JsonValue::size() const {
  if (!is_array() && !is_object()) return 0;
  return doc_->nodes_[index_].count;
}

std::size_t JsonValue::offset() const {
  return valid() ? doc_->nodes_[index_].offset : 0;
}

JsonValue JsonValue::find(std::string_view key) const {
  if (!is_object()) return {};
  for (auto [k, v] : members()) {
    if (k == key) return v;
  }
  return {};
}

JsonValue::Range<JsonValue::Iterator> JsonValue::items() const {
  if (!is_array()) return {Iterator(doc_, 0), Iterator(doc_, 0)};
  return {Iterator(doc_, index_ + 1), Iterator(doc_, doc_->nodes_[index_].end)};
}

JsonValue::Iterator& JsonValue::Iterator::operator++() {
  index_ = doc_->nodes_[index_].end;
  return *this;
}

JsonValue::Range<JsonValue::MemberIterator> JsonValue::members() const {
  if (!is_object()) return {MemberIterator(doc_, 0), MemberIterator(doc_, 0)};
  return {MemberIterator(doc_, index_ + 1), MemberIterator(doc_, doc_->nodes_[index_].end)};
}

JsonValue::Member JsonValue::MemberIterator::operator*() const {
  return Member{JsonValue(doc_, index_).as_string(), JsonValue(doc_, index_ + 1)};
}

JsonValue::MemberIterator& JsonValue::MemberIterator::operator++() {
  index_ = doc_->nodes_[index_ + 1].end;
  return *this;
}

}  // namespace perfguard
