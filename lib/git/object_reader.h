#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "git/object_writer.h"
#include "git/repository.h"

namespace perfguard {

// A git object as stored: its type ("commit", "tree", "blob", "tag") and content.
struct GitObject {
  std::string type;
  std::string content;
};

// Reads objects from a repository's object directory in-process: loose objects and packs
// (version 2 index, both delta kinds), so that the few commits and trees a rollback needs
// cost no git process. It answers only what it can read exactly; anything else (an object
// in an alternate or not present, a SHA-256 repository, a damaged pack) is "not found",
// and the caller asks git instead.
class ObjectReader {
 public:
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;
  ObjectReader(ObjectReader&&) noexcept;
  ObjectReader& operator=(ObjectReader&&) noexcept;
  ~ObjectReader();

  // Nothing when the repository's objects are not ones this reader knows (SHA-256).
  static std::optional<ObjectReader> open(const Repository& repo);

  std::optional<GitObject> read(const std::string& hex_oid) const;

  struct Pack;

 private:
  explicit ObjectReader(std::filesystem::path objects);
  std::optional<GitObject> read_loose(const std::string& hex_oid) const;
  std::filesystem::path objects_;
  std::vector<std::unique_ptr<Pack>> packs_;
};

// A commit's tree and parents, from its content.
struct CommitInfo {
  std::string tree;
  std::vector<std::string> parents;
};
std::optional<CommitInfo> parse_commit(std::string_view content);

// A tree's entries as stored; nothing when the content is not a well-formed tree.
std::optional<std::vector<TreeEntry>> parse_tree(std::string_view content);

}  // namespace perfguard
