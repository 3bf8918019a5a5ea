#include "git/object_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "git/index_file.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

constexpr size_t kOidBytes = 20;
// No object a rollback reads (commits, trees) comes near this; a size beyond it is damage.
constexpr std::uint64_t kMaxObjectBytes = std::uint64_t(1) << 30;
// git packs with --depth 50 by default; far longer chains are damage or not worth following.
constexpr int kMaxDeltaDepth = 10000;

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

std::optional<ObjectId> from_hex(std::string_view hex) {
  if (hex.size() != 2 * kOidBytes) return std::nullopt;
  ObjectId oid{};
  for (size_t i = 0; i < kOidBytes; ++i) {
    int v = 0;
    for (char c : {hex[2 * i], hex[2 * i + 1]}) {
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        v |= c - 'a' + 10;
      } else {
        return std::nullopt;
      }
    }
    oid[i] = static_cast<std::uint8_t>(v);
  }
  return oid;
}

const char* type_name(int type) {
  switch (type) {
    case 1:
      return "commit";
    case 2:
      return "tree";
    case 3:
      return "blob";
    case 4:
      return "tag";
  }
  return nullptr;
}

// Inflates exactly `size` bytes from the zlib stream at [in, in + avail).
std::optional<std::string> inflate_exact(const unsigned char* in, size_t avail,
                                         std::uint64_t size) {
  if (size > kMaxObjectBytes) return std::nullopt;
  std::string out(static_cast<size_t>(size), '\0');
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return std::nullopt;
  z.next_in = const_cast<unsigned char*>(in);
  z.avail_in = static_cast<uInt>(std::min<size_t>(avail, 1u << 30));
  z.next_out = reinterpret_cast<unsigned char*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = Z_OK;
  while (rc == Z_OK) rc = inflate(&z, Z_FINISH);
  const bool complete = rc == Z_STREAM_END && z.total_out == size;
  inflateEnd(&z);
  if (!complete) return std::nullopt;
  return out;
}

// A varint of a delta's header: seven bits a byte, least significant first.
bool delta_size(const std::string& delta, size_t& pos, std::uint64_t& size) {
  size = 0;
  int shift = 0;
  unsigned char c;
  do {
    if (pos >= delta.size() || shift > 56) return false;
    c = static_cast<unsigned char>(delta[pos++]);
    size |= std::uint64_t(c & 0x7f) << shift;
    shift += 7;
  } while (c & 0x80);
  return true;
}

// git's patch-delta: copy ranges of the base and literal inserts.
std::optional<std::string> apply_delta(const std::string& base, const std::string& delta) {
  size_t pos = 0;
  std::uint64_t base_size = 0, result_size = 0;
  if (!delta_size(delta, pos, base_size) || base_size != base.size()) return std::nullopt;
  if (!delta_size(delta, pos, result_size) || result_size > kMaxObjectBytes) return std::nullopt;
  std::string out;
  out.reserve(static_cast<size_t>(result_size));
  while (pos < delta.size()) {
    const unsigned char op = static_cast<unsigned char>(delta[pos++]);
    if (op & 0x80) {
      std::uint64_t offset = 0, size = 0;
      for (int i = 0; i < 4; ++i) {
        if (!(op & (1 << i))) continue;
        if (pos >= delta.size()) return std::nullopt;
        offset |= std::uint64_t(static_cast<unsigned char>(delta[pos++])) << (8 * i);
      }
      for (int i = 0; i < 3; ++i) {
        if (!(op & (0x10 << i))) continue;
        if (pos >= delta.size()) return std::nullopt;
        size |= std::uint64_t(static_cast<unsigned char>(delta[pos++])) << (8 * i);
      }
      if (size == 0) size = 0x10000;
      if (offset + size > base.size() || out.size() + size > result_size) return std::nullopt;
      out.append(base, static_cast<size_t>(offset), static_cast<size_t>(size));
    } else if (op != 0) {
      if (pos + op > delta.size() || out.size() + op > result_size) return std::nullopt;
      out.append(delta, pos, op);
      pos += op;
    } else {
      return std::nullopt;  // reserved
    }
  }
  if (out.size() != result_size) return std::nullopt;
  return out;
}

struct Mapping {
  const unsigned char* data = nullptr;
  size_t size = 0;
};

Mapping map_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat st {};
  Mapping m;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED)
      m = {static_cast<const unsigned char*>(p), static_cast<size_t>(st.st_size)};
  }
  ::close(fd);
  return m;
}

}  // namespace

// One pack: its version 2 index and the pack file, both mapped read-only.
struct ObjectReader::Pack {
  fs::path pack_path;
  Mapping idx, pack;
  std::uint32_t count = 0;

  ~Pack() {
    if (idx.data) ::munmap(const_cast<unsigned char*>(idx.data), idx.size);
    if (pack.data) ::munmap(const_cast<unsigned char*>(pack.data), pack.size);
  }

  // Checks the index's header and size; the pack is mapped on first use.
  bool load_index(const fs::path& idx_path) {
    idx = map_file(idx_path);
    if (idx.size < 8 + 256 * 4 + 2 * kOidBytes) return false;
    if (std::memcmp(idx.data, "\377tOc", 4) != 0 || be32(idx.data + 4) != 2) return false;
    count = be32(idx.data + 8 + 255 * 4);
    const std::uint64_t minimum =
        8 + 256 * 4 + std::uint64_t(count) * (kOidBytes + 8) + 2 * kOidBytes;
    return idx.size >= minimum;
  }

  const unsigned char* fanout() const { return idx.data + 8; }
  const unsigned char* oids() const { return fanout() + 256 * 4; }

  // The object's offset in the pack, when the index has it.
  std::optional<std::uint64_t> find(const ObjectId& oid) const {
    std::uint32_t lo = oid[0] == 0 ? 0 : be32(fanout() + (oid[0] - 1) * 4);
    std::uint32_t hi = be32(fanout() + oid[0] * 4);
    if (hi > count || lo > hi) return std::nullopt;
    while (lo < hi) {
      const std::uint32_t mid = lo + (hi - lo) / 2;
      const int c = std::memcmp(oids() + std::uint64_t(mid) * kOidBytes, oid.data(), kOidBytes);
      if (c == 0) return offset_of(mid);
      if (c < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return std::nullopt;
  }

  std::optional<std::uint64_t> offset_of(std::uint32_t i) const {
    const unsigned char* offsets = oids() + std::uint64_t(count) * kOidBytes + count * 4ull;
    const std::uint32_t small = be32(offsets + std::uint64_t(i) * 4);
    if (!(small & 0x80000000u)) return small;
    const unsigned char* large = offsets + std::uint64_t(count) * 4;
    const std::uint64_t at = std::uint64_t(small & 0x7fffffffu) * 8;
    if (large + at + 8 > idx.data + idx.size - 2 * kOidBytes) return std::nullopt;
    return (std::uint64_t(be32(large + at)) << 32) | be32(large + at + 4);
  }

  bool map_pack() {
    if (pack.data) return true;
    pack = map_file(pack_path);
    return pack.size >= 12 + kOidBytes && std::memcmp(pack.data, "PACK", 4) == 0;
  }

  // The object at `offset`, with its deltas applied.
  std::optional<GitObject> read_at(const ObjectReader& reader, std::uint64_t offset,
                                   int depth) const {
    if (depth > kMaxDeltaDepth) return std::nullopt;
    const std::uint64_t end = pack.size - kOidBytes;  // the trailing checksum
    if (offset < 12 || offset >= end) return std::nullopt;
    size_t pos = static_cast<size_t>(offset);
    unsigned char c = pack.data[pos++];
    const int type = (c >> 4) & 7;
    std::uint64_t size = c & 15;
    int shift = 4;
    while (c & 0x80) {
      if (pos >= end || shift > 57) return std::nullopt;
      c = pack.data[pos++];
      size |= std::uint64_t(c & 0x7f) << shift;
      shift += 7;
    }
    if (const char* name = type_name(type)) {
      auto content = inflate_exact(pack.data + pos, static_cast<size_t>(end - pos), size);
      if (!content) return std::nullopt;
      return GitObject{name, std::move(*content)};
    }
    std::optional<GitObject> base;
    if (type == 6) {  // OFS_DELTA: the base is this far before the object
      if (pos >= end) return std::nullopt;
      c = pack.data[pos++];
      std::uint64_t back = c & 0x7f;
      while (c & 0x80) {
        if (pos >= end || back > (std::uint64_t(1) << 56)) return std::nullopt;
        c = pack.data[pos++];
        back = ((back + 1) << 7) | (c & 0x7f);
      }
      if (back == 0 || back > offset) return std::nullopt;
      base = read_at(reader, offset - back, depth + 1);
    } else if (type == 7) {  // REF_DELTA: the base is named
      if (pos + kOidBytes > end) return std::nullopt;
      ObjectId base_oid;
      std::memcpy(base_oid.data(), pack.data + pos, kOidBytes);
      pos += kOidBytes;
      base = reader.read(to_hex(base_oid));
    } else {
      return std::nullopt;
    }
    if (!base) return std::nullopt;
    auto delta = inflate_exact(pack.data + pos, static_cast<size_t>(end - pos), size);
    if (!delta) return std::nullopt;
    auto content = apply_delta(base->content, *delta);
    if (!content) return std::nullopt;
    return GitObject{std::move(base->type), std::move(*content)};
  }
};

ObjectReader::ObjectReader(fs::path objects) : objects_(std::move(objects)) {}
ObjectReader::ObjectReader(ObjectReader&&) noexcept = default;
ObjectReader& ObjectReader::operator=(ObjectReader&&) noexcept = default;
ObjectReader::~ObjectReader() = default;

std::optional<ObjectReader> ObjectReader::open(const Repository& repo) {
  if (!uses_sha1_objects(repo)) return std::nullopt;
  const char* env = std::getenv("GIT_OBJECT_DIRECTORY");
  ObjectReader reader(env && *env ? fs::path(env) : repo.common_dir() / "objects");
  const fs::path pack_dir = reader.objects_ / "pack";
  if (DIR* dir = ::opendir(pack_dir.c_str())) {
    while (const dirent* d = ::readdir(dir)) {
      const std::string name = d->d_name;
      if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".idx") != 0) continue;
      auto pack = std::make_unique<Pack>();
      pack->pack_path = pack_dir / (name.substr(0, name.size() - 4) + ".pack");
      if (pack->load_index(pack_dir / name)) reader.packs_.push_back(std::move(pack));
    }
    ::closedir(dir);
  }
  return reader;
}

std::optional<GitObject> ObjectReader::read_loose(const std::string& hex) const {
  std::string deflated;
  struct stat st {};
  if (!read_whole_file(objects_ / hex.substr(0, 2) / hex.substr(2), deflated, st)) {
    return std::nullopt;
  }
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return std::nullopt;
  // The header first ("<type> <size>\0"), then exactly that many bytes.
  char head[64];
  z.next_in = reinterpret_cast<unsigned char*>(deflated.data());
  z.avail_in = static_cast<uInt>(deflated.size());
  z.next_out = reinterpret_cast<unsigned char*>(head);
  z.avail_out = sizeof head;
  int rc = inflate(&z, Z_SYNC_FLUSH);
  const size_t got = sizeof head - z.avail_out;
  const char* nul = static_cast<const char*>(std::memchr(head, '\0', got));
  const char* space =
      nul ? static_cast<const char*>(std::memchr(head, ' ', static_cast<size_t>(nul - head)))
          : nullptr;
  if ((rc != Z_OK && rc != Z_STREAM_END) || !space) {
    inflateEnd(&z);
    return std::nullopt;
  }
  GitObject object;
  object.type.assign(head, static_cast<size_t>(space - head));
  char* end = nullptr;
  const unsigned long long size = std::strtoull(space + 1, &end, 10);
  if (end != nul || space + 1 == nul || size > kMaxObjectBytes ||
      (object.type != "commit" && object.type != "tree" && object.type != "blob" &&
       object.type != "tag")) {
    inflateEnd(&z);
    return std::nullopt;
  }
  object.content.resize(static_cast<size_t>(size));
  const size_t already = got - static_cast<size_t>(nul + 1 - head);
  if (already > size) {
    inflateEnd(&z);
    return std::nullopt;
  }
  std::memcpy(object.content.data(), nul + 1, already);
  z.next_out = reinterpret_cast<unsigned char*>(object.content.data() + already);
  z.avail_out = static_cast<uInt>(size - already);
  while (rc == Z_OK) rc = inflate(&z, Z_FINISH);
  const bool complete = rc == Z_STREAM_END && z.avail_out == 0;
  inflateEnd(&z);
  if (!complete) return std::nullopt;
  return object;
}

std::optional<GitObject> ObjectReader::read(const std::string& hex_oid) const {
  auto oid = from_hex(hex_oid);
  if (!oid) return std::nullopt;
  if (auto loose = read_loose(hex_oid)) return loose;
  for (const auto& pack : packs_) {
    auto offset = pack->find(*oid);
    if (!offset || !pack->map_pack()) continue;
    // Depth counts delta links across REF_DELTA hops too, through `read`.
    if (auto object = pack->read_at(*this, *offset, 0)) return object;
  }
  return std::nullopt;
}

std::optional<CommitInfo> parse_commit(std::string_view content) {
  CommitInfo info;
  size_t pos = 0;
  while (pos < content.size()) {
    const size_t nl = content.find('\n', pos);
    if (nl == std::string_view::npos || nl == pos) break;  // the blank line ends the header
    const std::string_view line = content.substr(pos, nl - pos);
    if (line.rfind("tree ", 0) == 0 && info.tree.empty()) {
      info.tree = std::string(line.substr(5));
      if (!is_hex_oid(info.tree) || info.tree.size() != 2 * kOidBytes) return std::nullopt;
    } else if (line.rfind("parent ", 0) == 0) {
      std::string parent(line.substr(7));
      if (!is_hex_oid(parent) || parent.size() != 2 * kOidBytes) return std::nullopt;
      info.parents.push_back(std::move(parent));
    }
    pos = nl + 1;
  }
  if (info.tree.empty()) return std::nullopt;
  return info;
}

std::optional<std::vector<TreeEntry>> parse_tree(std::string_view content) {
  std::vector<TreeEntry> entries;
  size_t pos = 0;
  while (pos < content.size()) {
    const size_t space = content.find(' ', pos);
    if (space == std::string_view::npos) return std::nullopt;
    const size_t nul = content.find('\0', space + 1);
    if (nul == std::string_view::npos || nul + 1 + kOidBytes > content.size()) return std::nullopt;
    TreeEntry e;
    e.mode = std::string(content.substr(pos, space - pos));
    e.name = std::string(content.substr(space + 1, nul - space - 1));
    if (e.mode.empty() || e.name.empty() ||
        e.mode.find_first_not_of("01234567") != std::string::npos) {
      return std::nullopt;
    }
    ObjectId oid;
    std::memcpy(oid.data(), content.data() + nul + 1, kOidBytes);
    e.oid = to_hex(oid);
    entries.push_back(std::move(e));
    pos = nul + 1 + kOidBytes;
  }
  return entries;
}

}  // namespace perfguard
