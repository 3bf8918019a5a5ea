#include "git/tree_diff.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string_view>

namespace fs = std::filesystem;

namespace perfguard {

namespace {

// Deeper than any real tree; a guard against damaged objects.
constexpr int kMaxTreeDepth = 4096;

// A mode as git compares it (canon_mode): a regular file is 644 or 755 by its owner's
// execute bit; symlinks, gitlinks and directories keep their type alone.
std::uint32_t canonical_mode(std::uint32_t mode) {
  switch (mode & 0170000) {
    case 0100000:
      return 0100000 | ((mode & 0100) ? 0755 : 0644);
    case 0040000:
      return 0040000;
    case 0120000:
      return 0120000;
    case 0160000:
      return 0160000;
  }
  return mode;
}

std::optional<std::uint32_t> parse_mode(const std::string& text) {
  if (text.empty() || text.size() > 7) return std::nullopt;
  std::uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = mode * 8 + static_cast<std::uint32_t>(c - '0');
  }
  return mode;
}

bool is_dir_mode(std::uint32_t mode) {
  return (mode & 0170000) == 0040000;
}

// Whatever could make git resolve a revision other than by following the parents that
// commits name: replaced objects or grafts. Checked once; then the answer is git's.
bool history_rewritten(const Repository& repo) {
  if (std::getenv("GIT_REPLACE_REF_BASE") || std::getenv("GIT_GRAFT_FILE")) return true;
  std::error_code ec;
  if (fs::exists(repo.common_dir() / "info" / "grafts", ec)) return true;
  const fs::path replace = repo.common_dir() / "refs" / "replace";
  if (fs::is_directory(replace, ec)) {
    const bool empty = fs::is_empty(replace, ec);
    if (ec || !empty) return true;  // a replace ref, or a directory we cannot read
  }
  std::ifstream packed(repo.common_dir() / "packed-refs");
  std::string line;
  while (std::getline(packed, line)) {
    if (line.find(" refs/replace/") != std::string::npos) return true;
  }
  return false;
}

// The commits whose parents a shallow clone does not have.
std::set<std::string> shallow_commits(const Repository& repo) {
  std::set<std::string> commits;
  std::ifstream shallow(repo.common_dir() / "shallow");
  std::string line;
  while (std::getline(shallow, line)) commits.insert(line);
  return commits;
}

std::optional<CommitInfo> read_commit(const ObjectReader& objects, const std::string& oid) {
  auto object = objects.read(oid);
  if (!object || object->type != "commit") return std::nullopt;
  return parse_commit(object->content);
}

class IndexTreeDiff {
 public:
  IndexTreeDiff(const IndexFile& index, const ObjectReader& objects)
      : entries_(index.entries), cache_tree_(index.cache_tree), objects_(objects) {}

  // Compares the index entries [begin, end), all of them below `prefix`, with `tree`.
  bool directory(const std::string& prefix, const std::string& tree, size_t begin, size_t end,
                 int depth) {
    if (depth > kMaxTreeDepth) return false;
    const ObjectId* cached = cache_tree_.find(prefix);
    if (cached && to_hex(*cached) == tree) return true;  // the same tree
    auto listed = read_tree(tree);
    if (!listed) return false;
    std::map<std::string_view, const TreeEntry*> in_tree;
    for (const auto& e : *listed) in_tree.emplace(e.name, &e);
    std::set<std::string_view> seen;
    for (size_t i = begin; i < end;) {
      const std::string_view path = entries_[i].path;
      const std::string_view rest = path.substr(prefix.size());
      const size_t slash = rest.find('/');
      const std::string_view name = rest.substr(0, slash);
      size_t next = i + 1;
      if (slash != std::string_view::npos) {  // every entry below prefix/name/
        const std::string below = prefix + std::string(name) + "/";
        while (next < end && entries_[next].path.compare(0, below.size(), below) == 0) ++next;
      }
      auto found = in_tree.find(name);
      const TreeEntry* other = found == in_tree.end() ? nullptr : found->second;
      if (other) seen.insert(name);
      auto other_mode = other ? parse_mode(other->mode) : std::nullopt;
      if (other && !other_mode) return false;
      const bool other_dir = other && is_dir_mode(*other_mode);
      if (slash == std::string_view::npos) {  // a file (or symlink or gitlink) in the index
        const IndexEntry& e = entries_[i];
        if (!other || other_dir || other->oid != to_hex(e.oid) ||
            canonical_mode(*other_mode) != canonical_mode(e.mode)) {
          paths_.emplace_back(path);
        }
        if (other_dir && !all_files(prefix + std::string(name) + "/", other->oid, depth + 1)) {
          return false;
        }
      } else if (other_dir) {
        if (!directory(prefix + std::string(name) + "/", other->oid, i, next, depth + 1)) {
          return false;
        }
      } else {  // a directory in the index, a file or nothing in the tree
        for (size_t j = i; j < next; ++j) paths_.emplace_back(entries_[j].path);
        if (other) paths_.push_back(prefix + std::string(name));
      }
      i = next;
    }
    for (const auto& e : *listed) {
      if (seen.count(e.name)) continue;
      auto mode = parse_mode(e.mode);
      if (!mode) return false;
      if (!is_dir_mode(*mode)) {
        paths_.push_back(prefix + e.name);
      } else if (!all_files(prefix + e.name + "/", e.oid, depth + 1)) {
        return false;
      }
    }
    return true;
  }

  std::vector<std::string> take() { return std::move(paths_); }

 private:
  std::optional<std::vector<TreeEntry>> read_tree(const std::string& oid) const {
    auto object = objects_.read(oid);
    if (!object || object->type != "tree") return std::nullopt;
    return parse_tree(object->content);
  }

  // Every file below `prefix` in `tree`: the index has none of them.
  bool all_files(const std::string& prefix, const std::string& tree, int depth) {
    if (depth > kMaxTreeDepth) return false;
    auto listed = read_tree(tree);
    if (!listed) return false;
    for (const auto& e : *listed) {
      auto mode = parse_mode(e.mode);
      if (!mode) return false;
      if (!is_dir_mode(*mode)) {
        paths_.push_back(prefix + e.name);
      } else if (!all_files(prefix + e.name + "/", e.oid, depth + 1)) {
        return false;
      }
    }
    return true;
  }

  const std::vector<IndexEntry>& entries_;
  const CacheTree& cache_tree_;
  const ObjectReader& objects_;
  std::vector<std::string> paths_;
};

}  // namespace

std::optional<std::string> commit_tree(const ObjectReader& objects, const std::string& commit) {
  auto info = read_commit(objects, commit);
  if (!info) return std::nullopt;
  return info->tree;
}

std::optional<std::string> resolve_commit(const Repository& repo, const Head& head,
                                          const std::string& revision,
                                          const ObjectReader& objects) {
  // The start: HEAD, @ (not @{…}, a reflog) or a full id; then only ~N and ^N.
  std::string oid;
  size_t pos = 0;
  if (revision.rfind("HEAD", 0) == 0) {
    oid = head.oid;
    pos = 4;
  } else if (revision.rfind("@", 0) == 0 && revision.rfind("@{", 0) != 0) {
    oid = head.oid;
    pos = 1;
  } else if (revision.size() >= 40 && is_hex_oid(std::string_view(revision).substr(0, 40))) {
    oid = revision.substr(0, 40);
    pos = 40;
  } else {
    return std::nullopt;
  }
  struct Step {
    char op;
    unsigned long n;
  };
  std::vector<Step> steps;
  while (pos < revision.size()) {
    const char op = revision[pos++];
    if (op != '~' && op != '^') return std::nullopt;
    size_t digits = pos;
    while (digits < revision.size() && revision[digits] >= '0' && revision[digits] <= '9') {
      ++digits;
    }
    unsigned long n = 1;
    if (digits > pos) {
      if (digits - pos > 6) return std::nullopt;
      n = std::strtoul(revision.substr(pos, digits - pos).c_str(), nullptr, 10);
    }
    steps.push_back({op, n});
    pos = digits;
  }
  if (oid.empty() || history_rewritten(repo)) return std::nullopt;
  auto commit = read_commit(objects, oid);  // also proves a full id names a commit
  if (!commit) return std::nullopt;
  std::set<std::string> shallow;
  bool shallow_read = false;
  for (const Step& step : steps) {
    for (unsigned long k = 0; k < (step.op == '~' ? step.n : 1); ++k) {
      if (step.op == '^' && step.n == 0) break;  // ^0: the commit itself
      if (!shallow_read) {
        shallow = shallow_commits(repo);
        shallow_read = true;
      }
      if (shallow.count(oid)) return std::nullopt;  // its parents are not in this clone
      const size_t which = step.op == '^' ? step.n - 1 : 0;
      if (which >= commit->parents.size()) return std::nullopt;
      oid = commit->parents[which];
      commit = read_commit(objects, oid);
      if (!commit) return std::nullopt;
    }
  }
  return oid;
}

std::optional<std::vector<std::string>> diff_index_to_tree(const IndexFile& index,
                                                           const std::string& tree,
                                                           const ObjectReader& objects) {
  for (const auto& e : index.entries) {
    if (e.stage != 0 || e.intent_to_add) return std::nullopt;
  }
  IndexTreeDiff diff(index, objects);
  if (!diff.directory("", tree, 0, index.entries.size(), 0)) return std::nullopt;
  return diff.take();
}

}  // namespace perfguard
