#include "health/object_counts.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

namespace perfguard::health {

namespace {

constexpr std::uint64_t kHashBytes = 20;  // SHA-1, the only object format libgit2 1.5 opens

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirHandle = std::unique_ptr<DIR, DirCloser>;

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Error damaged(const fs::path& idx, const std::string& why, const fs::path& pack) {
  return make_error(ExitCode::step_failed, "pack index " + idx.string() + " is damaged (" + why +
                                               "): rebuild it with `git index-pack " +
                                               pack.string() + "`");
}

// The object count of a pack index, after the checks git makes before it uses one (load_idx
// in git's packfile.c): size, signature and version, a non-decreasing fan-out table, and a
// file size that fits the count. Versions 1 and 2 are read, as in git.
Result<std::uint64_t> read_idx_count(const fs::path& idx, const fs::path& pack,
                                     std::uint64_t& file_size) {
  FdCloser f{::open(idx.c_str(), O_RDONLY | O_CLOEXEC)};
  struct stat st {};
  if (f.fd < 0 || ::fstat(f.fd, &st) != 0) {
    return make_error(ExitCode::step_failed,
                      "cannot read pack index " + idx.string() + ": " + std::strerror(errno));
  }
  file_size = static_cast<std::uint64_t>(st.st_size);
  unsigned char head[8 + 256 * 4];
  if (file_size < 4 * 256 + 2 * kHashBytes) return damaged(idx, "too small", pack);
  const std::size_t want = std::min<std::size_t>(sizeof head, file_size);
  if (::pread(f.fd, head, want, 0) != static_cast<ssize_t>(want)) {
    return make_error(ExitCode::step_failed,
                      "cannot read pack index " + idx.string() + ": " + std::strerror(errno));
  }
  int version = 1;
  const unsigned char* fanout = head;
  if (std::memcmp(head, "\377tOc", 4) == 0) {
    version = static_cast<int>(be32(head + 4));
    if (version != 2) return damaged(idx, "unknown version " + std::to_string(version), pack);
    if (want < sizeof head) return damaged(idx, "too small", pack);
    fanout = head + 8;
  }
  std::uint32_t count = 0;
  for (int i = 0; i < 256; ++i) {
    const std::uint32_t n = be32(fanout + 4 * i);
    if (n < count) return damaged(idx, "its fan-out table decreases", pack);
    count = n;
  }
  const std::uint64_t n = count;
  if (version == 1) {
    if (file_size != 4 * 256 + n * (kHashBytes + 4) + 2 * kHashBytes) {
      return damaged(idx, "its size does not fit its object count", pack);
    }
  } else {
    // Names, CRCs and 4-byte offsets for every object; 8-byte offsets for some of them.
    const std::uint64_t minimum = 8 + 4 * 256 + n * (kHashBytes + 4 + 4) + 2 * kHashBytes;
    if (file_size < minimum || file_size > minimum + n * 8) {
      return damaged(idx, "its size does not fit its object count", pack);
    }
  }
  return n;
}

bool regular_file(const fs::path& p, std::uint64_t& size) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  size = static_cast<std::uint64_t>(st.st_size);
  return true;
}

void add_garbage(ObjectCounts& counts, int dir_fd, const char* name) {
  ++counts.garbage;
  struct stat st {};
  if (::fstatat(dir_fd, name, &st, 0) == 0) counts.garbage_size += std::uint64_t(st.st_size);
}

Error unreadable(const fs::path& dir) {
  return make_error(ExitCode::step_failed,
                    "cannot read " + dir.string() + ": " + std::strerror(errno));
}

// objects/00 … objects/ff: a file named by the 38 remaining hex digits is a loose object;
// anything else there is garbage (git's for_each_loose_file_in_objdir and count_loose).
Status count_loose(const fs::path& objects_dir, ObjectCounts& counts) {
  static const char* const kHex = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) {
    const char sub[3] = {kHex[i >> 4], kHex[i & 15], '\0'};
    const fs::path dir = objects_dir / sub;
    DirHandle d(::opendir(dir.c_str()));
    if (!d) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return unreadable(dir);
    }
    const int fd = ::dirfd(d.get());
    while (const dirent* e = ::readdir(d.get())) {
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      const bool object_name = name.size() == 2 * kHashBytes - 2 &&
                               std::all_of(name.begin(), name.end(),
                                           [](unsigned char c) { return std::isxdigit(c) != 0; });
      struct stat st {};
      if (object_name && ::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISREG(st.st_mode)) {
        ++counts.loose_objects;
        counts.loose_size += std::uint64_t(st.st_blocks) * 512;  // git's on_disk_bytes()
      } else {
        add_garbage(counts, fd, e->d_name);
      }
    }
  }
  return {};
}

// objects/pack: every .idx with a .pack beside it is a pack (git's add_packed_git). The
// files of a pack's family (.pack, .idx, .rev, .bitmap, .keep, .promisor, .mtimes) are
// garbage when the family lacks its .pack or its .idx, and any other file is garbage
// (git's prepare_pack and report_pack_garbage), except the multi-pack-index's own.
Status count_packs(const fs::path& objects_dir, ObjectCounts& counts) {
  const fs::path dir = objects_dir / "pack";
  DirHandle d(::opendir(dir.c_str()));
  if (!d) {
    if (errno == ENOENT || errno == ENOTDIR) return {};
    return unreadable(dir);
  }
  const int fd = ::dirfd(d.get());
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d.get())) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());

  struct Family {
    std::vector<std::string> files;
    bool pack = false, idx = false;
  };
  std::map<std::string, Family> families;
  static constexpr std::string_view kFamily[] = {".idx",  ".rev",      ".pack",  ".bitmap",
                                                 ".keep", ".promisor", ".mtimes"};
  for (const std::string& name : names) {
    if (name == "multi-pack-index") continue;
    if (name.starts_with("multi-pack-index") &&
        (ends_with(name, ".bitmap") || ends_with(name, ".rev"))) {
      continue;
    }
    const bool known = std::any_of(std::begin(kFamily), std::end(kFamily),
                                   [&](std::string_view ext) { return ends_with(name, ext); });
    if (!known) {
      add_garbage(counts, fd, name.c_str());
      continue;
    }
    Family& family = families[name.substr(0, name.rfind('.'))];
    family.files.push_back(name);
    family.pack = family.pack || ends_with(name, ".pack");
    family.idx = family.idx || ends_with(name, ".idx");
  }

  for (const auto& [stem, family] : families) {
    if (!(family.pack && family.idx)) {
      for (const std::string& name : family.files) add_garbage(counts, fd, name.c_str());
      continue;
    }
    const fs::path pack = dir / (stem + ".pack");
    std::uint64_t pack_bytes = 0, idx_bytes = 0;
    if (!regular_file(pack, pack_bytes)) continue;  // git skips it; nothing to count
    auto objects = read_idx_count(dir / (stem + ".idx"), pack, idx_bytes);
    if (!objects) return objects.error();
    ++counts.packs;
    counts.packed_objects += *objects;
    counts.pack_size += pack_bytes + idx_bytes;
  }
  return {};
}

}  // namespace

Result<ObjectCounts> count_objects(const fs::path& objects_dir) {
  ObjectCounts counts;
  if (auto st = count_loose(objects_dir, counts); !st) return st.error();
  if (auto st = count_packs(objects_dir, counts); !st) return st.error();
  return counts;
}

}  // namespace perfguard::health
