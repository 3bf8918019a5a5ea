#include "core/text_encoding.h"

#include <cstring>

namespace perfguard {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Whether text[i] is a `%` followed by two hex digits: what decoding turns into a byte.
bool escape_at(std::string_view text, std::size_t i) {
  return text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
         hex_value(text[i + 2]) >= 0;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
  }
  return len;
}

bool is_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool needs_text_encoding(std::string_view bytes, NulBytes nul) {
  for (std::size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '%' && escape_at(bytes, i)) return true;
    if (c == 0 && nul == NulBytes::encoded) return true;
    if (c < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(bytes, i);
    if (len == 0) return true;
    i += len;
  }
  return false;
}

void append_encoded_text(std::string& out, std::string_view bytes, NulBytes nul) {
  if (!needs_text_encoding(bytes, nul)) {
    out.append(bytes);
    return;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.reserve(out.size() + bytes.size() + 8);
  auto escape = [&](unsigned char b) {
    out += '%';
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  };
  for (std::size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '%' || (c == 0 && nul == NulBytes::encoded)) {
      escape(c);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (const std::size_t len = utf8_sequence_length(bytes, i)) {
      out.append(bytes.substr(i, len));
      i += len;
    } else {
      escape(c);
      ++i;
    }
  }
}

std::string encode_text(std::string_view bytes, NulBytes nul) {
  std::string out;
  append_encoded_text(out, bytes, nul);
  return out;
}

void assign_decoded_text(std::string& out, std::string_view text) {
  const void* percent = std::memchr(text.data(), '%', text.size());
  if (percent == nullptr) {  // nearly always: no copy but the assignment
    out.assign(text);
    return;
  }
  out.clear();
  std::size_t i = static_cast<const char*>(percent) - text.data();
  out.append(text.substr(0, i));
  while (i < text.size()) {
    if (escape_at(text, i)) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 3;
    } else {
      out += text[i++];
    }
  }
}

std::string decode_text(std::string_view text) {
  std::string out;
  assign_decoded_text(out, text);
  return out;
}

}  // namespace perfguard
