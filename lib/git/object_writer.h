#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "git/repository.h"

namespace perfguard {

// One entry of a tree object.
struct TreeEntry {
  std::string mode;  // "100644", "100755", "120000", "40000"
  std::string name;  // no slash
  std::string oid;   // 40 hex
};

// False when the repository's config names an object format other than SHA-1, the only one
// the in-process readers and writers know.
bool uses_sha1_objects(const Repository& repo);

// Writes loose objects (blobs, trees, commits) into a repository's object directory
// in-process, as git's own write path does: deflate, a temporary file beside the
// destination, then a rename that never replaces an object already there. A snapshot of a
// few files then costs no git process. SHA-1 repositories only; others are refused.
class ObjectWriter {
 public:
  static Result<ObjectWriter> open(const Repository& repo);

  Result<std::string> write_blob(std::string_view content) const;
  // The entries in any order; they are sorted as git sorts them.
  Result<std::string> write_tree(std::vector<TreeEntry> entries) const;
  Result<std::string> write_commit(const std::string& tree, const std::vector<std::string>& parents,
                                   const std::string& identity, std::int64_t time_s,
                                   const std::string& message) const;

  // The id the object would have, without writing it.
  static std::string object_id(std::string_view type, std::string_view content);

 private:
  explicit ObjectWriter(std::filesystem::path objects) : objects_(std::move(objects)) {}
  Result<std::string> write(std::string_view type, std::string_view content) const;
  std::filesystem::path objects_;
};

}  // namespace perfguard
