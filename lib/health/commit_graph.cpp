#include "health/commit_graph.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace perfguard::health {

namespace {

constexpr std::uint64_t kHashBytes = 20;
constexpr std::uint64_t kDataBytes = kHashBytes + 16;  // tree, two parents, generation+time
constexpr std::uint32_t kNoParent = 0x70000000u;
constexpr std::uint32_t kEdgeFlag = 0x80000000u;

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

std::uint64_t be64(const unsigned char* p) {
  return (std::uint64_t(be32(p)) << 32) | be32(p + 4);
}

}  // namespace

// One file of the graph, mapped read-only; `base` is how many commits the layers below hold.
struct CommitGraph::Layer {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  std::uint32_t base = 0, count = 0;
  const unsigned char *fanout = nullptr, *oids = nullptr, *commits = nullptr, *edges = nullptr;
  std::uint64_t edge_count = 0;

  Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;
  ~Layer() {
    if (data) ::munmap(const_cast<unsigned char*>(data), size);
  }

  bool map(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* p =
          ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        data = static_cast<const unsigned char*>(p);
        size = static_cast<std::size_t>(st.st_size);
      }
    }
    ::close(fd);
    return data != nullptr;
  }

  // The header and the chunk table; every chunk the walk reads must lie inside the file and
  // have the size its commit count implies.
  bool parse(std::uint32_t expected_bases, std::uint32_t commits_below) {
    if (size < 8 + 12 || std::memcmp(data, "CGPH", 4) != 0) return false;
    if (data[4] != 1 || data[5] != 1) return false;  // version 1, SHA-1
    const unsigned chunks = data[6];
    if (data[7] != expected_bases) return false;
    if (8 + (std::uint64_t(chunks) + 1) * 12 > size) return false;
    std::uint64_t fanout_size = 0, oids_size = 0, commits_size = 0;
    for (unsigned i = 0; i < chunks; ++i) {
      const unsigned char* entry = data + 8 + i * 12;
      const std::uint64_t start = be64(entry + 4), end = be64(entry + 16);
      if (start > end || end > size) return false;
      const unsigned char* at = data + start;
      if (std::memcmp(entry, "OIDF", 4) == 0) {
        fanout = at;
        fanout_size = end - start;
      } else if (std::memcmp(entry, "OIDL", 4) == 0) {
        oids = at;
        oids_size = end - start;
      } else if (std::memcmp(entry, "CDAT", 4) == 0) {
        commits = at;
        commits_size = end - start;
      } else if (std::memcmp(entry, "EDGE", 4) == 0) {
        edges = at;
        edge_count = (end - start) / 4;
      }
    }
    if (!fanout || !oids || !commits || fanout_size != 256 * 4) return false;
    std::uint32_t last = 0;
    for (int i = 0; i < 256; ++i) {
      const std::uint32_t n = be32(fanout + 4 * i);
      if (n < last) return false;
      last = n;
    }
    count = last;
    base = commits_below;
    if (oids_size != std::uint64_t(count) * kHashBytes) return false;
    if (commits_size != std::uint64_t(count) * kDataBytes) return false;
    return std::uint64_t(base) + count <= kNoParent;  // positions stay below the markers
  }

  std::optional<std::uint32_t> find(const unsigned char* oid) const {
    std::uint32_t lo = oid[0] == 0 ? 0 : be32(fanout + (oid[0] - 1) * 4);
    std::uint32_t hi = be32(fanout + oid[0] * 4);
    while (lo < hi) {
      const std::uint32_t mid = lo + (hi - lo) / 2;
      const int c = std::memcmp(oids + std::uint64_t(mid) * kHashBytes, oid, kHashBytes);
      if (c == 0) return base + mid;
      if (c < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return std::nullopt;
  }
};

std::optional<CommitGraph> CommitGraph::open(const fs::path& objects_dir) {
  CommitGraph graph;
  const fs::path info = objects_dir / "info";
  auto single = std::make_unique<Layer>();
  if (single->map(info / "commit-graph") && single->parse(0, 0)) {
    graph.layers_.push_back(std::move(single));
    return graph;
  }
  std::ifstream chain(info / "commit-graphs" / "commit-graph-chain");
  std::string hash;
  std::uint32_t below = 0;
  while (chain >> hash) {
    auto layer = std::make_unique<Layer>();
    const auto bases = static_cast<std::uint32_t>(graph.layers_.size());
    if (hash.size() != 2 * kHashBytes || bases > 255 ||
        !layer->map(info / "commit-graphs" / ("graph-" + hash + ".graph")) ||
        !layer->parse(bases, below)) {
      break;
    }
    below += layer->count;
    graph.layers_.push_back(std::move(layer));
  }
  if (graph.layers_.empty()) return std::nullopt;
  return graph;
}

CommitGraph::CommitGraph(CommitGraph&&) noexcept = default;
CommitGraph& CommitGraph::operator=(CommitGraph&&) noexcept = default;
CommitGraph::~CommitGraph() = default;

std::uint32_t CommitGraph::size() const {
  return layers_.empty() ? 0 : layers_.back()->base + layers_.back()->count;
}

std::optional<std::uint32_t> CommitGraph::find(const unsigned char* oid) const {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    if (auto position = (*it)->find(oid)) return position;
  }
  return std::nullopt;
}

const CommitGraph::Layer* CommitGraph::layer_of(std::uint32_t position) const {
  for (const auto& layer : layers_) {
    if (position < layer->base + layer->count) return layer.get();
  }
  return nullptr;
}

bool CommitGraph::parents(std::uint32_t position, std::vector<std::uint32_t>& out) const {
  const Layer* layer = layer_of(position);
  if (!layer) return false;
  // A layer's parents are in it or in the layers below it.
  const std::uint32_t limit = layer->base + layer->count;
  const unsigned char* entry =
      layer->commits + std::uint64_t(position - layer->base) * kDataBytes + kHashBytes;
  const std::uint32_t first = be32(entry), second = be32(entry + 4);
  if (first == kNoParent) return second == kNoParent;
  if (first >= limit) return false;
  out.push_back(first);
  if (second == kNoParent) return true;
  if (!(second & kEdgeFlag)) {
    if (second >= limit) return false;
    out.push_back(second);
    return true;
  }
  // An octopus merge: the second and later parents are in the extra edge list, the last one
  // flagged.
  for (std::uint64_t i = second & ~kEdgeFlag; i < layer->edge_count; ++i) {
    const std::uint32_t edge = be32(layer->edges + i * 4);
    const std::uint32_t parent = edge & ~kEdgeFlag;
    if (parent >= limit) return false;
    out.push_back(parent);
    if (edge & kEdgeFlag) return true;
  }
  return false;
}

}  // namespace perfguard::health
