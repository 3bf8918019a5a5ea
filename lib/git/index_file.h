#pragma once

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace perfguard {

using ObjectId = std::array<std::uint8_t, 20>;  // SHA-1: the only object format read here

std::string to_hex(const ObjectId& oid);

// One entry of git's index (Documentation/gitformat-index.txt), as stored. Its path is a view
// of the index's own storage (IndexFile::storage), where a NUL follows it: `path.data()` is a
// C string.
struct IndexEntry {
  std::string_view path;
  std::uint32_t ctime_s = 0, ctime_ns = 0, mtime_s = 0, mtime_ns = 0, ino = 0, mode = 0, uid = 0,
                gid = 0, size = 0;
  ObjectId oid{};
  int stage = 0;                  // 0, or 1-3 for an unresolved conflict
  bool assume_unchanged = false;  // `update-index --assume-unchanged` (CE_VALID)
  bool skip_worktree = false;
  bool intent_to_add = false;  // `git add -N`

  bool gitlink() const { return (mode & 0170000) == 0160000; }
  bool symlink() const { return (mode & 0170000) == 0120000; }
};

// Every valid entry of an index's cache-tree: a directory ("" for the top, else "a/b/") and the
// id of the tree its index entries make. Empty when the extension is missing or cannot be read.
class CacheTree {
 public:
  // Reads the extension's data (the caller then reads trees where it holds nothing).
  static CacheTree parse(std::string_view data);

  // The tree of the entries below `dir`, or null when the cache-tree does not know it.
  const ObjectId* find(std::string_view dir) const;
  bool empty() const { return trees_.empty(); }
  std::size_t size() const { return trees_.size(); }

 private:
  struct Tree {
    std::size_t at = 0, size = 0;  // its directory in dirs_
    ObjectId oid{};
  };
  std::string_view dir(const Tree& t) const {
    return std::string_view(dirs_.data() + t.at, t.size);
  }
  static bool tree_order(std::string_view a, std::string_view b);

  std::string dirs_;         // the directories, one after another
  std::vector<Tree> trees_;  // by directory, in tree_order
};

// The index file read in-process: its bytes (kept, so a snapshot can store them whole), its
// stat data (for racy-git decisions), its entries and the root of its cache-tree.
struct IndexFile {
  // What `bytes` and the entries' paths view: the file's bytes, and for version 4 the names
  // decoded. Shared by every copy, so the views hold in each.
  struct Storage;
  std::shared_ptr<const Storage> storage;
  std::string_view bytes;
  struct stat st {};
  std::vector<IndexEntry> entries;
  std::string cache_tree_root;  // 40 hex; empty when the cache-tree is missing or invalid
  CacheTree cache_tree;

  // The entries at `path` (more than one only for a conflict, stages in order): a range of
  // `entries`, empty when the path is not tracked.
  std::pair<std::vector<IndexEntry>::const_iterator, std::vector<IndexEntry>::const_iterator>
  entries_at(std::string_view path) const;
};

// What stops the index being read exactly.
enum class IndexProblem {
  none,
  missing,     // no index file: nothing is staged, nothing is tracked
  unreadable,  // I/O error, or a format this reader does not know (not SHA-1, not v2-4)
  split,       // core.splitIndex: entries live in a shared index file too
  sparse,      // a sparse index: directories stand for the files below them
};

struct IndexRead {
  std::optional<IndexFile> index;
  IndexProblem problem = IndexProblem::none;
};

IndexRead read_index_file(const std::filesystem::path& path);

// Reads a whole regular file; false on any error.
bool read_whole_file(const std::filesystem::path& path, std::string& out, struct stat& st);

}  // namespace perfguard
