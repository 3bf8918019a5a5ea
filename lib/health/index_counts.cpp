#include "health/index_counts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace perfguard::health {

Result<IndexCounts> count_index(const std::filesystem::path& index_file) {
  const int fd = ::open(index_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return IndexCounts{};
    return make_error(ExitCode::step_failed,
                      "cannot read the index " + index_file.string() + ": " + std::strerror(errno));
  }
  unsigned char header[12];
  struct stat st {};
  const bool read_ok = ::fstat(fd, &st) == 0 && ::pread(fd, header, sizeof header, 0) == 12;
  ::close(fd);
  const auto be32 = [](const unsigned char* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
           std::uint32_t(p[3]);
  };
  if (!read_ok || std::memcmp(header, "DIRC", 4) != 0 || be32(header + 4) < 2 ||
      be32(header + 4) > 4) {
    return make_error(ExitCode::step_failed,
                      "the index " + index_file.string() +
                          " is not a git index of version 2 to 4: see what `git status` says");
  }
  return IndexCounts{be32(header + 8), static_cast<std::uint64_t>(st.st_size)};
}

}  // namespace perfguard::health
