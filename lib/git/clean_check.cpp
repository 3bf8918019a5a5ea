#include "git/clean_check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace perfguard {

namespace {

constexpr size_t kOidBytes = 20;  // SHA-1 repositories only; others are `unknown`

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}
std::uint16_t be16(const unsigned char* p) { return std::uint16_t((p[0] << 8) | p[1]); }

std::string hex(const unsigned char* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}

bool read_whole(const std::filesystem::path& path, std::string& out, struct stat& st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fstat(fd, &st) == 0;
  if (ok) {
    out.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (ok && done < out.size()) {
      ssize_t n = ::read(fd, out.data() + done, out.size() - done);
      ok = n > 0;
      if (ok) done += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  return ok;
}

struct IndexEntry {
  std::string path;
  std::uint32_t ctime_s, ctime_ns, mtime_s, mtime_ns, ino, mode, uid, gid, size;
};

// Parses index versions 2-4. False for anything it does not fully understand.
bool parse_index(const std::string& data, std::vector<IndexEntry>& entries,
                 std::string& root_tree) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t end = data.size() < kOidBytes ? 0 : data.size() - kOidBytes;  // trailing checksum
  if (end < 12 || std::memcmp(p, "DIRC", 4) != 0) return false;
  const std::uint32_t version = be32(p + 4), count = be32(p + 8);
  if (version < 2 || version > 4) return false;
  size_t pos = 12;
  std::string previous;
  entries.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (pos + 62 > end) return false;
    const unsigned char* e = p + pos;
    // ctime, mtime (seconds, nanoseconds), dev, ino, mode, uid, gid, size, oid, flags.
    IndexEntry entry{{},          be32(e),      be32(e + 4),  be32(e + 8),  be32(e + 12),
                     be32(e + 20), be32(e + 24), be32(e + 28), be32(e + 32), be32(e + 36)};
    const std::uint16_t flags = be16(e + 60);
    size_t cursor = pos + 62;
    if (flags & 0x3000) return false;  // an unmerged stage
    if (flags & 0x4000) {              // extended flags: skip-worktree, intent-to-add
      if (cursor + 2 > end || be16(p + cursor) != 0) return false;
      cursor += 2;
    }
    if (version == 4) {
      size_t strip = 0;  // varint (offset encoding) of bytes to drop from the previous name
      unsigned char c;
      do {
        if (cursor >= end) return false;
        c = p[cursor++];
        strip = (strip << 7) | (c & 0x7f);
        if (c & 0x80) ++strip;
      } while (c & 0x80);
      if (strip > previous.size()) return false;
      const char* name = data.data() + cursor;
      size_t len = ::strnlen(name, end - cursor);
      if (cursor + len >= end) return false;
      entry.path = previous.substr(0, previous.size() - strip) + std::string(name, len);
      pos = cursor + len + 1;
    } else {
      const char* name = data.data() + cursor;
      size_t len = ::strnlen(name, end - cursor);
      if (cursor + len >= end) return false;
      entry.path.assign(name, len);
      pos = pos + ((cursor - pos + len + 8) & ~size_t(7));  // NUL padding to a multiple of 8
    }
    previous = entry.path;
    entries.push_back(std::move(entry));
  }
  // Extensions: only the cache-tree is needed; one we must honour but do not read (split
  // index, sparse directories) makes the answer unknown.
  while (pos + 8 <= end) {
    const unsigned char* ext = p + pos;
    const std::uint32_t size = be32(ext + 4);
    if (pos + 8 + size > end) return false;
    if (std::memcmp(ext, "TREE", 4) == 0) {
      // The root entry comes first: "" NUL entry_count SP subtrees LF [oid].
      const char* t = data.data() + pos + 8;
      const char* t_end = t + size;
      if (t == t_end || *t != '\0') return false;
      const char* nl = static_cast<const char*>(std::memchr(t, '\n', size));
      if (!nl || nl[-1] == '\0') return false;
      if (t[1] == '-') return false;  // invalidated
      if (nl + 1 + kOidBytes > t_end) return false;
      root_tree = hex(reinterpret_cast<const unsigned char*>(nl + 1), kOidBytes);
    } else if (ext[0] >= 'A' && ext[0] <= 'Z') {
      // Optional extension (untracked cache, fsmonitor, …): safe to ignore.
    } else {
      return false;  // "link", "sdir": required extensions this reader does not handle
    }
    pos += 8 + size;
  }
  return true;
}

bool entry_matches(const IndexEntry& e, const struct stat& st) {
  const std::uint32_t type = e.mode & 0170000;
  if (type == 0100000) {
    if (!S_ISREG(st.st_mode)) return false;
    if (((e.mode & 0111) != 0) != ((st.st_mode & 0100) != 0)) return false;
  } else if (type == 0120000) {
    if (!S_ISLNK(st.st_mode)) return false;
  } else {
    return false;  // a gitlink (submodule): let git look inside
  }
  return e.mtime_s == std::uint32_t(st.st_mtim.tv_sec) &&
         e.mtime_ns == std::uint32_t(st.st_mtim.tv_nsec) &&
         e.ctime_s == std::uint32_t(st.st_ctim.tv_sec) &&
         e.ctime_ns == std::uint32_t(st.st_ctim.tv_nsec) && e.ino == std::uint32_t(st.st_ino) &&
         e.uid == std::uint32_t(st.st_uid) && e.gid == std::uint32_t(st.st_gid) &&
         e.size == std::uint32_t(st.st_size);
}

// True when `dir` (relative, "" for the top) holds nothing the index does not know.
bool only_known_files(const std::string& root, const std::string& dir,
                      const std::unordered_set<std::string_view>& files,
                      const std::unordered_set<std::string_view>& dirs) {
  const std::string abs = dir.empty() ? root : root + "/" + dir;
  DIR* d = ::opendir(abs.c_str());
  if (!d) return false;
  bool ok = true;
  while (ok) {
    const dirent* ent = ::readdir(d);
    if (!ent) break;
    std::string_view name = ent->d_name;
    if (name == "." || name == "..") continue;
    if (dir.empty() && name == ".git") continue;
    std::string rel = dir.empty() ? std::string(name) : dir + "/" + std::string(name);
    unsigned char type = ent->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st {};
      if (::lstat((root + "/" + rel).c_str(), &st) != 0) {
        ok = false;
        break;
      }
      type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
    }
    if (type == DT_DIR) {
      ok = dirs.count(rel) && only_known_files(root, rel, files, dirs);
    } else {
      ok = files.count(rel) > 0;
    }
  }
  ::closedir(d);
  return ok;
}

}  // namespace

CleanCheck check_clean(const Repository& repo, const std::string& head_tree) {
  if (!repo.work_tree() || head_tree.size() != 2 * kOidBytes) return CleanCheck::unknown;
  std::string data;
  struct stat index_st {};
  if (!read_whole(repo.index_file(), data, index_st)) return CleanCheck::unknown;
  std::vector<IndexEntry> entries;
  std::string root_tree;
  if (!parse_index(data, entries, root_tree) || root_tree != head_tree) {
    return CleanCheck::unknown;
  }

  const std::string root = repo.work_tree()->string();
  std::unordered_set<std::string_view> files, dirs;
  files.reserve(entries.size());
  for (const auto& e : entries) {
    struct stat st {};
    if (::lstat((root + "/" + e.path).c_str(), &st) != 0 || !entry_matches(e, st)) {
      return CleanCheck::unknown;
    }
    // Racily clean: changed in the same instant the index was written; only a content
    // comparison could tell.
    if (std::pair(st.st_mtim.tv_sec, st.st_mtim.tv_nsec) >=
        std::pair(index_st.st_mtim.tv_sec, index_st.st_mtim.tv_nsec)) {
      return CleanCheck::unknown;
    }
    files.insert(e.path);
    for (size_t slash = e.path.find('/'); slash != std::string::npos;
         slash = e.path.find('/', slash + 1)) {
      dirs.insert(std::string_view(e.path).substr(0, slash));
    }
  }
  return only_known_files(root, "", files, dirs) ? CleanCheck::clean : CleanCheck::unknown;
}

}  // namespace perfguard
