#include "git/clean_check.h"

#include "core/sha1.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace perfguard {

namespace {

constexpr size_t kOidBytes = 20;  // SHA-1 repositories only; others are `unknown`

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}
std::uint16_t be16(const unsigned char* p) {
  return std::uint16_t((p[0] << 8) | p[1]);
}

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
  const unsigned char* oid;  // into the index data
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
    IndexEntry entry{{},           be32(e),      be32(e + 4),  be32(e + 8),
                     be32(e + 12), be32(e + 20), be32(e + 24), be32(e + 28),
                     be32(e + 32), be32(e + 36), e + 40};
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

// The file is still the kind of thing the entry says: a regular file with the same
// executable bit, or a symlink.
bool same_kind(const IndexEntry& e, const struct stat& st) {
  const std::uint32_t type = e.mode & 0170000;
  if (type == 0100000) {
    return S_ISREG(st.st_mode) && ((e.mode & 0111) != 0) == ((st.st_mode & 0100) != 0);
  }
  return type == 0120000 && S_ISLNK(st.st_mode);  // not a gitlink: let git look inside
}

bool stat_matches(const IndexEntry& e, const struct stat& st) {
  return e.mtime_s == std::uint32_t(st.st_mtim.tv_sec) &&
         e.mtime_ns == std::uint32_t(st.st_mtim.tv_nsec) &&
         e.ctime_s == std::uint32_t(st.st_ctim.tv_sec) &&
         e.ctime_ns == std::uint32_t(st.st_ctim.tv_nsec) && e.ino == std::uint32_t(st.st_ino) &&
         e.uid == std::uint32_t(st.st_uid) && e.gid == std::uint32_t(st.st_gid) &&
         e.size == std::uint32_t(st.st_size);
}

// What git does for an entry whose stat data cannot be trusted: hash the content.
bool content_matches(const IndexEntry& e, const std::string& path, const struct stat& st) {
  std::string content;
  if (S_ISLNK(st.st_mode)) {
    content.resize(static_cast<size_t>(st.st_size) + 1);
    ssize_t n = ::readlink(path.c_str(), content.data(), content.size());
    if (n < 0 || static_cast<size_t>(n) >= content.size()) return false;
    content.resize(static_cast<size_t>(n));
  } else {
    struct stat again {};
    if (!read_whole(path, content, again)) return false;
  }
  const auto id = git_blob_id(content);
  return std::memcmp(id.data(), e.oid, id.size()) == 0;
}

}  // namespace

TrackedScan scan_tracked_files(const Repository& repo) {
  TrackedScan scan;
  if (!repo.work_tree()) return scan;
  std::string data;
  struct stat index_st {};
  if (!read_whole(repo.index_file(), data, index_st)) return scan;
  std::vector<IndexEntry> entries;
  if (!parse_index(data, entries, scan.index_tree)) {
    scan.index_tree.clear();
    return scan;
  }

  const std::string root = repo.work_tree()->string() + "/";
  auto matches = [&](size_t begin, size_t end) {
    std::string path = root;
    for (size_t i = begin; i < end; ++i) {
      const IndexEntry& e = entries[i];
      path.resize(root.size());
      path += e.path;
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0 || !same_kind(e, st)) return false;
      // Racily clean (written in the same clock tick as the index) or smudged (size 0,
      // which git writes for such entries): the stat data proves nothing, the content does.
      const bool racy = std::pair(st.st_mtim.tv_sec, st.st_mtim.tv_nsec) >=
                        std::pair(index_st.st_mtim.tv_sec, index_st.st_mtim.tv_nsec);
      const bool smudged = e.size == 0 && st.st_size != 0;
      if (racy || smudged ? !content_matches(e, path, st) : !stat_matches(e, st)) return false;
    }
    return true;
  };
  // lstat() is most of the cost: split it over two threads when there is enough of it.
  const size_t half = entries.size() > 512 ? entries.size() / 2 : entries.size();
  bool second_half = true;
  std::thread helper;
  if (half < entries.size()) {
    helper = std::thread([&] { second_half = matches(half, entries.size()); });
  }
  const bool first_half = matches(0, half);
  if (helper.joinable()) helper.join();
  scan.unchanged = first_half && second_half;
  return scan;
}

}  // namespace perfguard
