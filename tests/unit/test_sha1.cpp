#include <doctest/doctest.h>

#include <fstream>
#include <random>
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

TEST_CASE("the processor's SHA instructions give the portable code's digests") {
  std::mt19937 random(7);
  std::string bytes(1 << 20, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  auto both = [&](std::string_view data, size_t piece) {
    Sha1 fastest, portable(Sha1::Engine::portable);
    for (size_t i = 0; i < data.size(); i += piece) {
      fastest.update(data.substr(i, piece));
      portable.update(data.substr(i, piece));
    }
    return std::pair(hex(fastest.finish()), hex(portable.finish()));
  };
  for (size_t n = 0; n <= 300; ++n) {
    CAPTURE(n);
    auto [fastest, portable] = both(std::string_view(bytes).substr(0, n), 1000);
    CHECK(fastest == portable);
  }
  for (size_t piece : {size_t(1), size_t(63), size_t(64), size_t(4096), bytes.size()}) {
    CAPTURE(piece);
    auto [fastest, portable] = both(bytes, piece);
    CHECK(fastest == portable);
  }
  Sha1 portable(Sha1::Engine::portable);
  portable.update(std::string(1000000, 'a'));
  CHECK(hex(portable.finish()) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
#if defined(__x86_64__) && defined(__linux__)
  // Used exactly where the processor says it has them.
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  bool sha_ni = false;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0) {
      sha_ni = (line + " ").find(" sha_ni ") != std::string::npos;
      break;
    }
  }
  CHECK(Sha1::accelerated() == sha_ni);
#endif
}
