#include "core/sha1.h"

#include <cstring>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
// glibc's header; clang 14 reads it as C++ and stumbles on its _Bool.
#if __has_include(<sys/platform/x86.h>) && !defined(__clang__)
#define PERFGUARD_GLIBC_CPU_FEATURES 1
#include <sys/platform/x86.h>
#endif
#endif

namespace perfguard {

namespace {

std::uint32_t rol(std::uint32_t x, int n) {
  return (x << n) | (x >> (32 - n));
}

void portable_blocks(std::uint32_t* h, const std::uint8_t* p, std::size_t count) {
  for (; count > 0; --count, p += 64) {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      w[i] = (std::uint32_t(p[4 * i]) << 24) | (std::uint32_t(p[4 * i + 1]) << 16) |
             (std::uint32_t(p[4 * i + 2]) << 8) | std::uint32_t(p[4 * i + 3]);
    }
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d), k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d, k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d, k = 0xCA62C1D6;
      }
      std::uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
}

#if defined(__x86_64__)

// glibc has asked the processor already (in a virtual machine each CPUID instruction is a
// trip to the hypervisor, 7.5 µs here): its answer is read where it has one to give.
bool cpu_has_sha_extensions() {
#if defined(PERFGUARD_GLIBC_CPU_FEATURES)
  return CPU_FEATURE_ACTIVE(SHA) && CPU_FEATURE_ACTIVE(SSSE3) && CPU_FEATURE_ACTIVE(SSE4_1);
#else
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool ssse3 = c & (1u << 9), sse41 = c & (1u << 19);
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return ssse3 && sse41 && (b & (1u << 29));
#endif
}

// Four of a block's big-endian words, as the SHA instructions take them.
__attribute__((target("sse4.1,ssse3"))) inline __m128i load_words(const std::uint8_t* p, int i,
                                                                  __m128i mask) {
  return _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)), mask);
}

// The SHA extensions' reference sequence: four rounds an instruction, the message schedule's
// next words made while they run (sha1msg1, sha1msg2).
__attribute__((target("sha,sse4.1,ssse3"))) void sha_ni_blocks(std::uint32_t* h,
                                                               const std::uint8_t* p,
                                                               std::size_t count) {
  const __m128i mask = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
  __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)), 0x1B);
  __m128i e0 = _mm_set_epi32(static_cast<int>(h[4]), 0, 0, 0);
  __m128i e1, m0, m1, m2, m3;
  for (; count > 0; --count, p += 64) {
    const __m128i abcd_saved = abcd, e0_saved = e0;
    // Rounds 0-3
    m0 = load_words(p, 0, mask);
    e0 = _mm_add_epi32(e0, m0);
    e1 = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, e0, 0);
    // Rounds 4-7
    m1 = load_words(p, 1, mask);
    e1 = _mm_sha1nexte_epu32(e1, m1);
    e0 = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, e1, 0);
    m0 = _mm_sha1msg1_epu32(m0, m1);
    // Rounds 8-11
    m2 = load_words(p, 2, mask);
    e0 = _mm_sha1nexte_epu32(e0, m2);
    e1 = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, e0, 0);
    m1 = _mm_sha1msg1_epu32(m1, m2);
    m0 = _mm_xor_si128(m0, m2);
    // Rounds 12-15
    m3 = load_words(p, 3, mask);
    e1 = _mm_sha1nexte_epu32(e1, m3);
    e0 = abcd;
    m0 = _mm_sha1msg2_epu32(m0, m3);
    abcd = _mm_sha1rnds4_epu32(abcd, e1, 0);
    m2 = _mm_sha1msg1_epu32(m2, m3);
    m1 = _mm_xor_si128(m1, m3);
    // Rounds 16-67, four at a time: the same pattern with the words rotating.
#define PERFGUARD_SHA1_STEP(ea, eb, wa, wb, wc, wd, f) \
  ea = _mm_sha1nexte_epu32(ea, wa);                    \
  eb = abcd;                                           \
  wb = _mm_sha1msg2_epu32(wb, wa);                     \
  abcd = _mm_sha1rnds4_epu32(abcd, ea, f);             \
  wd = _mm_sha1msg1_epu32(wd, wa);                     \
  wc = _mm_xor_si128(wc, wa);
    PERFGUARD_SHA1_STEP(e0, e1, m0, m1, m2, m3, 0)  // 16-19
    PERFGUARD_SHA1_STEP(e1, e0, m1, m2, m3, m0, 1)  // 20-23
    PERFGUARD_SHA1_STEP(e0, e1, m2, m3, m0, m1, 1)  // 24-27
    PERFGUARD_SHA1_STEP(e1, e0, m3, m0, m1, m2, 1)  // 28-31
    PERFGUARD_SHA1_STEP(e0, e1, m0, m1, m2, m3, 1)  // 32-35
    PERFGUARD_SHA1_STEP(e1, e0, m1, m2, m3, m0, 1)  // 36-39
    PERFGUARD_SHA1_STEP(e0, e1, m2, m3, m0, m1, 2)  // 40-43
    PERFGUARD_SHA1_STEP(e1, e0, m3, m0, m1, m2, 2)  // 44-47
    PERFGUARD_SHA1_STEP(e0, e1, m0, m1, m2, m3, 2)  // 48-51
    PERFGUARD_SHA1_STEP(e1, e0, m1, m2, m3, m0, 2)  // 52-55
    PERFGUARD_SHA1_STEP(e0, e1, m2, m3, m0, m1, 2)  // 56-59
    PERFGUARD_SHA1_STEP(e1, e0, m3, m0, m1, m2, 3)  // 60-63
    PERFGUARD_SHA1_STEP(e0, e1, m0, m1, m2, m3, 3)  // 64-67
#undef PERFGUARD_SHA1_STEP
    // Rounds 68-71
    e1 = _mm_sha1nexte_epu32(e1, m1);
    e0 = abcd;
    m2 = _mm_sha1msg2_epu32(m2, m1);
    abcd = _mm_sha1rnds4_epu32(abcd, e1, 3);
    m3 = _mm_xor_si128(m3, m1);
    // Rounds 72-75
    e0 = _mm_sha1nexte_epu32(e0, m2);
    e1 = abcd;
    m3 = _mm_sha1msg2_epu32(m3, m2);
    abcd = _mm_sha1rnds4_epu32(abcd, e0, 3);
    // Rounds 76-79
    e1 = _mm_sha1nexte_epu32(e1, m3);
    e0 = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, e1, 3);
    // Adding the block's result to the state
    e0 = _mm_sha1nexte_epu32(e0, e0_saved);
    abcd = _mm_add_epi32(abcd, abcd_saved);
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm_shuffle_epi32(abcd, 0x1B));
  h[4] = static_cast<std::uint32_t>(_mm_extract_epi32(e0, 3));
}

#endif

}  // namespace

bool Sha1::accelerated() {
#if defined(__x86_64__)
  static const bool has = cpu_has_sha_extensions();
  return has;
#else
  return false;
#endif
}

Sha1::Sha1(Engine engine)
    : engine_(engine), h_{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0} {}

void Sha1::blocks(const std::uint8_t* p, std::size_t count) {
#if defined(__x86_64__)
  if (engine_ == Engine::fastest && accelerated()) return sha_ni_blocks(h_.data(), p, count);
#endif
  portable_blocks(h_.data(), p, count);
}

void Sha1::update(std::string_view data) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  size_t n = data.size();
  size_t used = length_ % 64;
  length_ += n;
  if (used) {
    size_t take = std::min(n, 64 - used);
    std::memcpy(buffer_.data() + used, p, take);
    p += take, n -= take, used += take;
    if (used < 64) return;
    blocks(buffer_.data(), 1);
  }
  blocks(p, n / 64);
  p += n / 64 * 64, n %= 64;
  std::memcpy(buffer_.data(), p, n);
}

std::array<std::uint8_t, 20> Sha1::finish() {
  const std::uint64_t bits = length_ * 8;
  const std::uint8_t pad = 0x80;
  update(std::string_view(reinterpret_cast<const char*>(&pad), 1));
  const std::uint8_t zero = 0;
  while (length_ % 64 != 56) update(std::string_view(reinterpret_cast<const char*>(&zero), 1));
  std::uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = std::uint8_t(bits >> (56 - 8 * i));
  update(std::string_view(reinterpret_cast<const char*>(len), 8));
  std::array<std::uint8_t, 20> out;
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = std::uint8_t(h_[i] >> (24 - 8 * j));
  }
  return out;
}

std::array<std::uint8_t, 20> git_blob_id(std::string_view content) {
  Sha1 sha;
  const std::string header = "blob " + std::to_string(content.size());
  sha.update(std::string_view(header.c_str(), header.size() + 1));  // with its NUL
  sha.update(content);
  return sha.finish();
}

}  // namespace perfguard
