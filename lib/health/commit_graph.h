#pragma once
// A repository's commit-graph (git's Documentation/gitformat-commit-graph.txt), read for the
// parents of its commits: counting the commits of a long history from it costs milliseconds,
// where parsing every commit object costs about a second per 80,000 commits.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

namespace perfguard::health {

class CommitGraph {
 public:
  // objects/info/commit-graph when it can be used, or else the split chain in
  // objects/info/commit-graphs, as git loads them: of a chain, the layers up to the first
  // one that cannot be used. Nothing when neither gives a usable layer.
  static std::optional<CommitGraph> open(const std::filesystem::path& objects_dir);

  CommitGraph(CommitGraph&&) noexcept;
  CommitGraph& operator=(CommitGraph&&) noexcept;
  ~CommitGraph();

  // The commits it holds, positions 0 … size() - 1 across its layers.
  std::uint32_t size() const;
  std::size_t layers() const { return layers_.size(); }

  // The position of the commit with this 20-byte id, when the graph holds it.
  std::optional<std::uint32_t> find(const unsigned char* oid) const;

  // Appends the positions of the parents of the commit at `position`. False when the file
  // says something impossible (a position out of range, a broken edge list): a damaged
  // graph, not to be followed further.
  bool parents(std::uint32_t position, std::vector<std::uint32_t>& out) const;

  struct Layer;

 private:
  CommitGraph() = default;
  const Layer* layer_of(std::uint32_t position) const;
  std::vector<std::unique_ptr<Layer>> layers_;  // the base first
};

}  // namespace perfguard::health
