#include "git/index_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
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

// Parses index versions 2-4 of a SHA-1 repository. The paths of versions 2 and 3 are views of
// the bytes (each name is stored whole there, NUL-padded); those of version 4, each stored as
// the part that differs from the previous name, are decoded into `names`.
IndexProblem parse_index(IndexFile& index, std::string& names) {
  const std::string_view data = index.bytes;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t end = data.size() < kOidBytes ? 0 : data.size() - kOidBytes;  // trailing checksum
  if (end < 12 || std::memcmp(p, "DIRC", 4) != 0) return IndexProblem::unreadable;
  const std::uint32_t version = be32(p + 4), count = be32(p + 8);
  if (version < 2 || version > 4) return IndexProblem::unreadable;
  size_t pos = 12;
  std::string previous;                            // version 4's previous name
  std::vector<std::pair<size_t, size_t>> decoded;  // version 4: each name's place in `names`
  // The count is the file's word: reserve no more entries than its bytes can hold (each takes
  // at least 62), so a damaged count is an unreadable index, not a huge allocation.
  index.entries.reserve(std::min<size_t>(count, (end - 12) / 62));
  for (std::uint32_t i = 0; i < count; ++i) {
    if (pos + 62 > end) return IndexProblem::unreadable;
    const unsigned char* e = p + pos;
    // ctime, mtime (seconds, nanoseconds), dev, ino, mode, uid, gid, size, oid, flags.
    IndexEntry& entry = index.entries.emplace_back();
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
      previous.resize(previous.size() - strip);
      previous.append(name, len);
      decoded.emplace_back(names.size(), previous.size());
      names.append(previous.data(), previous.size() + 1);  // with its NUL
      pos = cursor + len + 1;
    } else {
      const char* name = data.data() + cursor;
      size_t len = ::strnlen(name, end - cursor);
      if (cursor + len >= end) return IndexProblem::unreadable;
      entry.path = std::string_view(name, len);
      pos = pos + ((cursor - pos + len + 8) & ~size_t(7));  // NUL padding to a multiple of 8
    }
  }
  // Only now that `names` holds every name and will not move.
  for (size_t i = 0; i < decoded.size(); ++i) {
    index.entries[i].path = std::string_view(names).substr(decoded[i].first, decoded[i].second);
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
      index.cache_tree = CacheTree::parse(std::string_view(t, size));
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

// Each entry of the extension is "<name>\0<entries> <subtrees>\n", then the tree id when
// <entries> is not negative, and its subtrees follow it (pre-order). Nothing at all when the
// extension is malformed.
CacheTree CacheTree::parse(std::string_view data) {
  CacheTree valid;
  struct Open {
    std::size_t prefix_size;  // of `prefix` while its subtrees are read
    long children_left;
  };
  std::vector<Open> open;
  std::string prefix;  // "" or "a/b/": the directory of the entry read
  size_t pos = 0;
  bool first = true;
  auto number = [](const char*& at, const char* end, long& out) {
    auto [next, ec] = std::from_chars(at, end, out);
    if (ec != std::errc() || next == at) return false;
    at = next;
    return true;
  };
  while (pos < data.size()) {
    const size_t nul = data.find('\0', pos);
    if (nul == std::string_view::npos) return {};
    const std::string_view name = data.substr(pos, nul - pos);
    const size_t nl = data.find('\n', nul + 1);
    if (nl == std::string_view::npos) return {};
    const char* at = data.data() + nul + 1;
    const char* counts_end = data.data() + nl;
    long entries = 0, subtrees = 0;
    if (!number(at, counts_end, entries) || at == counts_end || *at++ != ' ' ||
        !number(at, counts_end, subtrees) || at != counts_end || subtrees < 0 ||
        static_cast<size_t>(subtrees) > data.size()) {
      return {};
    }
    pos = nl + 1;
    if (first) {
      if (!name.empty()) return {};
      first = false;
    } else {
      while (!open.empty() && open.back().children_left == 0) open.pop_back();
      if (open.empty() || name.empty() || name.find('/') != std::string_view::npos) return {};
      --open.back().children_left;
      prefix.resize(open.back().prefix_size);
      (prefix += name) += '/';
    }
    if (entries >= 0) {
      if (pos + kOidBytes > data.size()) return {};
      Tree& tree = valid.trees_.emplace_back(Tree{valid.dirs_.size(), prefix.size()});
      std::memcpy(tree.oid.data(), data.data() + pos, kOidBytes);
      valid.dirs_ += prefix;
      pos += kOidBytes;
    }
    open.push_back({prefix.size(), subtrees});
  }
  if (first) return {};
  for (const auto& o : open) {
    if (o.children_left != 0) return {};
  }
  // Git writes the directories in the order find() searches: sorted already, unless another
  // writer chose another order.
  auto before = [&](const Tree& a, const Tree& b) {
    return tree_order(valid.dir(a), valid.dir(b));
  };
  if (!std::is_sorted(valid.trees_.begin(), valid.trees_.end(), before)) {
    std::sort(valid.trees_.begin(), valid.trees_.end(), before);
  }
  auto same_dir = [&](const Tree& a, const Tree& b) { return valid.dir(a) == valid.dir(b); };
  if (std::adjacent_find(valid.trees_.begin(), valid.trees_.end(), same_dir) !=
      valid.trees_.end()) {
    return {};  // a directory twice
  }
  return valid;
}

// Git's own order of a cache-tree: a directory before those below it, and the directories of
// one parent by the length of their names first, then their bytes (cache-tree.c,
// subtree_name_cmp).
bool CacheTree::tree_order(std::string_view a, std::string_view b) {
  while (!a.empty() && !b.empty()) {
    const size_t a_end = a.find('/'), b_end = b.find('/');
    const std::string_view x = a.substr(0, a_end), y = b.substr(0, b_end);
    if (x.size() != y.size()) return x.size() < y.size();
    if (int c = x.compare(y); c != 0) return c < 0;
    a.remove_prefix(a_end == std::string_view::npos ? a.size() : a_end + 1);
    b.remove_prefix(b_end == std::string_view::npos ? b.size() : b_end + 1);
  }
  return a.empty() && !b.empty();
}

const ObjectId* CacheTree::find(std::string_view dir) const {
  auto at = std::lower_bound(
      trees_.begin(), trees_.end(), dir,
      [&](const Tree& t, std::string_view d) { return tree_order(this->dir(t), d); });
  return at != trees_.end() && this->dir(*at) == dir ? &at->oid : nullptr;
}

struct IndexFile::Storage {
  std::unique_ptr<char[]> bytes;  // the file as read: not cleared first, every byte is read over
  std::size_t size = 0;
  std::string names;  // version 4: the names decoded, each followed by a NUL
};

namespace {

// Reads a regular file whole into the buffer `make(size)` gives; false on any error.
template <class Make>
bool read_regular_file(const std::filesystem::path& path, struct stat& st, Make&& make) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (ok) {
    const auto size = static_cast<size_t>(st.st_size);
    char* out = make(size);
    size_t done = 0;
    while (ok && done < size) {
      ssize_t n = ::read(fd, out + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

bool read_whole_file(const std::filesystem::path& path, std::string& out, struct stat& st) {
  return read_regular_file(path, st, [&](size_t size) {
    out.resize(size);
    return out.data();
  });
}

IndexRead read_index_file(const std::filesystem::path& path) {
  IndexRead read;
  IndexFile index;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
    read.problem = IndexProblem::missing;
    return read;
  }
  auto storage = std::make_shared<IndexFile::Storage>();
  if (!read_regular_file(path, index.st, [&](size_t size) {
        storage->bytes = std::make_unique_for_overwrite<char[]>(size);
        storage->size = size;
        return storage->bytes.get();
      })) {
    read.problem = IndexProblem::unreadable;
    return read;
  }
  index.bytes = std::string_view(storage->bytes.get(), storage->size);
  read.problem = parse_index(index, storage->names);
  if (read.problem == IndexProblem::none) {
    index.storage = std::move(storage);
    read.index = std::move(index);
  }
  return read;
}

std::pair<std::vector<IndexEntry>::const_iterator, std::vector<IndexEntry>::const_iterator>
IndexFile::entries_at(std::string_view path) const {
  struct ByPath {
    bool operator()(const IndexEntry& e, std::string_view p) const { return e.path < p; }
    bool operator()(std::string_view p, const IndexEntry& e) const { return p < e.path; }
  };
  return std::equal_range(entries.begin(), entries.end(), path, ByPath{});
}

}  // namespace perfguard
