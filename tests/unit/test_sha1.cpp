#include <doctest/doctest.h>

#include <string>

#include "core/sha1.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {
std::string hex(const std::array<std::uint8_t, 20>& d) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : d) out += std::string{digits[b >> 4], digits[b & 15]};
  return out;
}
std::string sha1(std::string_view s) {
  Sha1 h;
  h.update(s);
  return hex(h.finish());
}
}  // namespace

TEST_CASE("SHA-1 matches the FIPS 180 test vectors") {
  CHECK(sha1("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(sha1("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  CHECK(sha1(std::string(1000000, 'a')) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_CASE("fed in pieces, the digest is the same") {
  Sha1 h;
  std::string text(1000, 'x');
  for (size_t i = 0; i < text.size(); i += 7) h.update(std::string_view(text).substr(i, 7));
  CHECK(hex(h.finish()) == sha1(text));
}

TEST_CASE("blob ids agree with git hash-object") {
  TempDir tmp;
  for (std::string content : {std::string(), std::string("hello\n"), std::string(70000, 'z')}) {
    write_file(tmp / "f", content);
    std::string expected = sh(tmp.path(), "git hash-object f");
    expected.pop_back();
    CHECK(hex(git_blob_id(content)) == expected);
  }
}
