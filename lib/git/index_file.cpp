#include "git/index_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace perfguard {

namespace {

constexpr size_t kOidBytes = 20;

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}
std::uint16_t be16(const unsigned char* p) {
  return std::uint16_t((p[0] << 8) | p[1]);
}

// The valid entries of a cache-tree extension: each entry is "<name>\0<entries> <subtrees>\n",
// then the tree id when <entries> is not negative, and its subtrees follow it (pre-order).
// Nothing at all when the extension is malformed: the caller then reads trees instead.
std::map<std::string, std::string> parse_cache_tree(std::string_view data) {
  std::map<std::string, std::string> valid;
  struct Open {
    std::string prefix;  // "" or "a/b/"
    long children_left;
  };
  std::vector<Open> open;
  size_t pos = 0;
  bool first = true;
  while (pos < data.size()) {
    const size_t nul = data.find('\0', pos);
    if (nul == std::string_view::npos) return {};
    const std::string_view name = data.substr(pos, nul - pos);
    const size_t nl = data.find('\n', nul + 1);
    if (nl == std::string_view::npos) return {};
    const std::string counts(data.substr(nul + 1, nl - nul - 1));
    char* end = nullptr;
    const long entries = std::strtol(counts.c_str(), &end, 10);
    if (end == counts.c_str() || *end != ' ') return {};
    const char* sub_text = end + 1;
    const long subtrees = std::strtol(sub_text, &end, 10);
    if (end == sub_text || end != counts.c_str() + counts.size() || subtrees < 0 ||
        static_cast<size_t>(subtrees) > data.size()) {
      return {};
    }
    pos = nl + 1;
    std::string prefix;
    if (first) {
      if (!name.empty()) return {};
      first = false;
    } else {
      while (!open.empty() && open.back().children_left == 0) open.pop_back();
      if (open.empty() || name.empty() || name.find('/') != std::string_view::npos) return {};
      --open.back().children_left;
      prefix = open.back().prefix + std::string(name) + "/";
    }
    if (entries >= 0) {
      if (pos + kOidBytes > data.size()) return {};
      ObjectId oid;
      std::memcpy(oid.data(), data.data() + pos, kOidBytes);
      valid[prefix] = to_hex(oid);
      pos += kOidBytes;
    }
    open.push_back({std::move(prefix), subtrees});
  }
  if (first) return {};
  for (const auto& o : open) {
    if (o.children_left != 0) return {};
  }
  return valid;
}

// Parses index versions 2-4 of a SHA-1 repository.
IndexProblem parse_index(IndexFile& index) {
  const std::string& data = index.bytes;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t end = data.size() < kOidBytes ? 0 : data.size() - kOidBytes;  // trailing checksum
  if (end < 12 || std::memcmp(p, "DIRC", 4) != 0) return IndexProblem::unreadable;
  const std::uint32_t version = be32(p + 4), count = be32(p + 8);
  if (version < 2 || version > 4) return IndexProblem::unreadable;
  size_t pos = 12;
  std::string previous;
  // The count is the file's word: reserve no more entries than its bytes can hold (each takes
  // at least 62), so a damaged count is an unreadable index, not a huge allocation.
  index.entries.reserve(std::min<size_t>(count, (end - 12) / 62));
  for (std::uint32_t i = 0; i < count; ++i) {
    if (pos + 62 > end) return IndexProblem::unreadable;
    const unsigned char* e = p + pos;
    // ctime, mtime (seconds, nanoseconds), dev, ino, mode, uid, gid, size, oid, flags.
    IndexEntry entry;
    entry.ctime_s = be32(e);
    entry.ctime_ns = be32(e + 4);
    entry.mtime_s = be32(e + 8);
    entry.mtime_ns = be32(e + 12);
    entry.ino = be32(e + 20);
    entry.mode = be32(e + 24);
    entry.uid = be32(e + 28);
    entry.gid = be32(e + 32);
    entry.size = be32(e + 36);
    std::memcpy(entry.oid.data(), e + 40, kOidBytes);
    const std::uint16_t flags = be16(e + 60);
    entry.assume_unchanged = flags & 0x8000;
    entry.stage = (flags >> 12) & 3;
    size_t cursor = pos + 62;
    if (flags & 0x4000) {  // extended flags
      if (cursor + 2 > end) return IndexProblem::unreadable;
      const std::uint16_t extended = be16(p + cursor);
      entry.skip_worktree = extended & 0x4000;
      entry.intent_to_add = extended & 0x2000;
      if (extended & ~0x6000) return IndexProblem::unreadable;
      cursor += 2;
    }
    if (version == 4) {
      size_t strip = 0;  // varint (offset encoding) of bytes to drop from the previous name
      unsigned char c;
      do {
        if (cursor >= end) return IndexProblem::unreadable;
        c = p[cursor++];
        strip = (strip << 7) | (c & 0x7f);
        if (c & 0x80) ++strip;
      } while (c & 0x80);
      if (strip > previous.size()) return IndexProblem::unreadable;
      const char* name = data.data() + cursor;
      size_t len = ::strnlen(name, end - cursor);
      if (cursor + len >= end) return IndexProblem::unreadable;
      entry.path = previous.substr(0, previous.size() - strip) + std::string(name, len);
      pos = cursor + len + 1;
    } else {
      const char* name = data.data() + cursor;
      size_t len = ::strnlen(name, end - cursor);
      if (cursor + len >= end) return IndexProblem::unreadable;
      entry.path.assign(name, len);
      pos = pos + ((cursor - pos + len + 8) & ~size_t(7));  // NUL padding to a multiple of 8
    }
    previous = entry.path;
    index.entries.push_back(std::move(entry));
  }
  // Extensions: the cache-tree is read; one we must honour but do not read (split index,
  // sparse directories) makes the index unreadable here.
  while (pos + 8 <= end) {
    const unsigned char* ext = p + pos;
    const std::uint32_t size = be32(ext + 4);
    if (pos + 8 + size > end) return IndexProblem::unreadable;
    if (std::memcmp(ext, "TREE", 4) == 0) {
      // The root entry comes first: "" NUL entry_count SP subtrees LF [oid].
      const char* t = data.data() + pos + 8;
      const char* t_end = t + size;
      const char* nl = size ? static_cast<const char*>(std::memchr(t, '\n', size)) : nullptr;
      if (*t == '\0' && nl && nl[-1] != '\0' && t[1] != '-' && nl + 1 + kOidBytes <= t_end) {
        ObjectId root;
        std::memcpy(root.data(), nl + 1, kOidBytes);
        index.cache_tree_root = to_hex(root);
      }
      index.cache_tree = parse_cache_tree(std::string_view(t, size));
    } else if (std::memcmp(ext, "link", 4) == 0) {
      return IndexProblem::split;
    } else if (std::memcmp(ext, "sdir", 4) == 0) {
      return IndexProblem::sparse;
    } else if (!(ext[0] >= 'A' && ext[0] <= 'Z')) {
      return IndexProblem::unreadable;  // a required extension this reader does not know
    }
    pos += 8 + size;
  }
  return IndexProblem::none;
}

}  // namespace

std::string to_hex(const ObjectId& oid) {
  static const char digits[] = "0123456789abcdef";
  std::string out(oid.size() * 2, '0');
  for (size_t i = 0; i < oid.size(); ++i) {
    out[2 * i] = digits[oid[i] >> 4];
    out[2 * i + 1] = digits[oid[i] & 15];
  }
  return out;
}

bool read_whole_file(const std::filesystem::path& path, std::string& out, struct stat& st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (ok) {
    out.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (ok && done < out.size()) {
      ssize_t n = ::read(fd, out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  return ok;
}

IndexRead read_index_file(const std::filesystem::path& path) {
  IndexRead read;
  IndexFile index;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
    read.problem = IndexProblem::missing;
    return read;
  }
  if (!read_whole_file(path, index.bytes, index.st)) {
    read.problem = IndexProblem::unreadable;
    return read;
  }
  read.problem = parse_index(index);
  if (read.problem == IndexProblem::none) read.index = std::move(index);
  return read;
}

std::pair<std::vector<IndexEntry>::const_iterator, std::vector<IndexEntry>::const_iterator>
IndexFile::entries_at(const std::string& path) const {
  struct ByPath {
    bool operator()(const IndexEntry& e, const std::string& p) const { return e.path < p; }
    bool operator()(const std::string& p, const IndexEntry& e) const { return p < e.path; }
  };
  return std::equal_range(entries.begin(), entries.end(), path, ByPath{});
}

}  // namespace perfguard
