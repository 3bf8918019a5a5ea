#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace perfguard {

// SHA-1 (FIPS 180-4), enough to compute a git blob id without starting git. Not for
// security: git object ids are what it is compared with.
class Sha1 {
 public:
  Sha1();
  void update(std::string_view data);
  std::array<std::uint8_t, 20> finish();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 5> h_;
  std::array<std::uint8_t, 64> buffer_{};
  std::uint64_t length_ = 0;
};

// The git object id of a blob with this content: SHA-1 of "blob <size>\0<content>".
std::array<std::uint8_t, 20> git_blob_id(std::string_view content);

}  // namespace perfguard
