#include <doctest/doctest.h>

#include <string>

#include "git/index_file.h"
#include "support.h"

using namespace perfguard;
using namespace perfguard::test;

namespace {

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

}  // namespace

TEST_CASE("an index whose entry count is past its size is unreadable, not a huge allocation") {
  // Found by tests/fuzz/fuzz_index_file: the count was trusted for reserve().
  TempDir tmp;
  std::string bytes = std::string("DIRC") + std::string("\0\0\0\2", 4) + "\xff\xff\xff\xff";
  bytes += std::string(20, '\0');  // the checksum
  write_bytes(tmp / "index", bytes);
  IndexRead read = read_index_file(tmp / "index");
  CHECK(read.problem == IndexProblem::unreadable);
  CHECK_FALSE(read.index.has_value());
}

TEST_CASE("an index without entries is read, and a missing one is missing") {
  TempDir tmp;
  write_bytes(tmp / "index", std::string("DIRC\0\0\0\2\0\0\0\0", 12) + std::string(20, '\0'));
  IndexRead read = read_index_file(tmp / "index");
  CHECK(read.problem == IndexProblem::none);
  REQUIRE(read.index.has_value());
  CHECK(read.index->entries.empty());
  CHECK(read_index_file(tmp / "absent").problem == IndexProblem::missing);
}
