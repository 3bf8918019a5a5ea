#include <doctest/doctest.h>

#include <random>
#include <string>

#include "core/text_encoding.h"

using namespace perfguard;

TEST_CASE("valid UTF-8 without %XX is written as it is") {
  const std::string same[] = {
      "",
      "/srv/repo",
      "feature/caf\xC3\xA9",            // é
      "\xE2\x82\xAC \xF0\x9F\x98\x80",  // € 😀
      "100%",                           // a % without two hex digits after it
      "50% off, %zz, %4",               // nor here
      std::string("nul\0byte", 8),      // U+0000 is UTF-8; the formats escape it
      "\x7f\x01 control characters are UTF-8",
  };
  for (const std::string& s : same) {
    CAPTURE(s);
    CHECK_FALSE(needs_text_encoding(s));
    CHECK(encode_text(s) == s);
    CHECK(decode_text(encode_text(s)) == s);
  }
}

TEST_CASE("bytes that are not UTF-8 become %XX and every % becomes %25") {
  struct Case {
    std::string bytes;
    std::string text;
  };
  const Case cases[] = {
      {"r\xFF", "r%FF"},
      {"\xFF\xFE", "%FF%FE"},
      {"\x80", "%80"},                                   // a lone continuation byte
      {"\xC3", "%C3"},                                   // cut short at the end
      {"\xC3(", "%C3("},                                 // cut short by ASCII
      {"\xC0\xAF", "%C0%AF"},                            // an overlong '/'
      {"\xE0\x80\xAF", "%E0%80%AF"},                     // an overlong '/' in three bytes
      {"\xED\xA0\x80", "%ED%A0%80"},                     // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", "%F4%90%80%80"},              // past U+10FFFF
      {"\xF5\x80\x80\x80", "%F5%80%80%80"},              // never a lead byte
      {"caf\xC3\xA9 \xE9t\xE9", "caf\xC3\xA9 %E9t%E9"},  // UTF-8 kept, Latin-1 encoded
      {"100% \xFF", "100%25 %FF"},                       // the % escaped once anything is
      {"a%41", "a%2541"},                                // valid, but it would read back as "aA"
      {"%FF", "%25FF"},                                  // the text an encoded "\xFF" is
      {"%ff", "%25ff"},                                  // hex digits of either case
  };
  for (const Case& c : cases) {
    CAPTURE(c.bytes);
    CHECK(needs_text_encoding(c.bytes));
    CHECK(encode_text(c.bytes) == c.text);
    CHECK(is_utf8(encode_text(c.bytes)));
    CHECK(decode_text(c.text) == c.bytes);
  }
}

TEST_CASE("no two byte strings are written as the same text") {
  // What a writer that kept valid strings as they are and only escaped bytes would confuse.
  CHECK(encode_text("r%FF") != encode_text("r\xFF"));
  CHECK(encode_text("%25") != encode_text("%"));
  CHECK(decode_text(encode_text("r%FF")) == "r%FF");
  CHECK(decode_text(encode_text("r\xFF")) == "r\xFF");
}

TEST_CASE("decoding reads %XX in either case and leaves every other character") {
  CHECK(decode_text("%2f%2F") == "//");
  CHECK(decode_text("100%") == "100%");
  CHECK(decode_text("%4") == "%4");
  CHECK(decode_text("%G0") == "%G0");
  CHECK(decode_text("%%41") == "%A");
  CHECK(decode_text("caf\xC3\xA9") == "caf\xC3\xA9");
  std::string reused = "something long that was there before";
  assign_decoded_text(reused, "x%FFy");
  CHECK(reused == "x\xFFy");
  assign_decoded_text(reused, "plain");
  CHECK(reused == "plain");
}

TEST_CASE("is_utf8 and utf8_sequence_length follow the Unicode table of well-formed bytes") {
  CHECK(utf8_sequence_length("a", 0) == 1);
  CHECK(utf8_sequence_length("\xC3\xA9", 0) == 2);
  CHECK(utf8_sequence_length("\xE2\x82\xAC", 0) == 3);
  CHECK(utf8_sequence_length("\xF0\x9F\x98\x80", 0) == 4);
  CHECK(utf8_sequence_length("\xF4\x8F\xBF\xBF", 0) == 4);  // U+10FFFF, the last
  CHECK(utf8_sequence_length("\xEF\xBF\xBD", 0) == 3);      // U+FFFD
  CHECK(utf8_sequence_length("\xC1\xBF", 0) == 0);
  CHECK(utf8_sequence_length("\xE0\x9F\xBF", 0) == 0);
  CHECK(utf8_sequence_length("\xED\xBF\xBF", 0) == 0);
  CHECK(utf8_sequence_length("\xF0\x8F\xBF\xBF", 0) == 0);
  CHECK(utf8_sequence_length("\xE2\x82", 0) == 0);
  CHECK(is_utf8("caf\xC3\xA9"));
  CHECK_FALSE(is_utf8("caf\xE9"));
}

TEST_CASE("every byte string encodes to UTF-8 and decodes back to itself") {
  std::mt19937 rng(20261130);
  const std::string alphabet = std::string("%aF4\x80\xBF\xC2\xC3\xE2\xED\xF0\xF4\xFF", 13);
  for (int n = 0; n < 20000; ++n) {
    std::string bytes;
    const std::size_t length = rng() % 9;
    for (std::size_t i = 0; i < length; ++i) {
      // Mostly the bytes that make the edge cases, sometimes any byte.
      bytes += rng() % 4 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() % 256);
    }
    CAPTURE(bytes);
    const std::string text = encode_text(bytes);
    REQUIRE(is_utf8(text));
    REQUIRE(decode_text(text) == bytes);
    REQUIRE(needs_text_encoding(bytes) == (text != bytes));
  }
}

TEST_CASE("for text that cannot hold a NUL, a NUL is written %00 and the rest as ever") {
  using namespace std::string_literals;
  const std::string nul = "a\0b"s;
  CHECK(encode_text(nul) == nul);
  CHECK(needs_text_encoding(nul, NulBytes::encoded));
  CHECK(encode_text(nul, NulBytes::encoded) == "a%00b");
  CHECK(encode_text("r\xff%41"s + '\0', NulBytes::encoded) == "r%FF%2541%00");
  CHECK(decode_text(encode_text("r\xff%41"s + '\0', NulBytes::encoded)) == "r\xff%41"s + '\0');
  for (const std::string s : {"/srv/repo", "100%", "r\xff", "%41"}) {
    CAPTURE(s);
    CHECK(encode_text(s, NulBytes::encoded) == encode_text(s));
    CHECK(needs_text_encoding(s, NulBytes::encoded) == needs_text_encoding(s));
  }
}
