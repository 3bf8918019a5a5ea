#include "health/largest_objects.h"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <utility>

#include "health/libgit2_handle.h"

namespace perfguard::health {

namespace {

// The smallest tree entry: a one-digit mode, a space, a one-byte name, its NUL and a 20-byte
// id. A tree of S bytes has at most S / 24 entries, so the trees too small to beat the ones
// already found are never read.
constexpr std::uint64_t kMinTreeEntryBytes = 24;
constexpr std::uint64_t kProgressEvery = 8192;
constexpr std::uint64_t kTreeProgressEvery = 256;

std::string hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

struct Sized {
  std::uint64_t key;  // bytes for a blob, entries for a tree
  std::uint64_t size;
  git_oid oid;
};

// Larger first; equal ones in id order.
bool ranks_before(const Sized& a, const Sized& b) {
  if (a.key != b.key) return a.key > b.key;
  return git_oid_cmp(&a.oid, &b.oid) < 0;
}

// The `limit` best seen so far, best first; each id once.
class Ranking {
 public:
  explicit Ranking(std::size_t limit) : limit_(limit) {}

  void offer(const Sized& s) {
    if (limit_ == 0) return;
    if (best_.size() == limit_ && !ranks_before(s, best_.back())) return;
    for (const Sized& b : best_) {
      if (git_oid_equal(&b.oid, &s.oid)) return;
    }
    best_.insert(std::upper_bound(best_.begin(), best_.end(), s, ranks_before), s);
    if (best_.size() > limit_) best_.pop_back();
  }
  bool full() const { return best_.size() == limit_; }
  const Sized& last() const { return best_.back(); }
  const std::vector<Sized>& best() const { return best_; }

 private:
  std::size_t limit_;
  std::vector<Sized> best_;
};

Error odb_error(const std::string& what) {
  return make_error(ExitCode::step_failed,
                    what + ": " + libgit2_message() + ": run `git fsck` to see what is damaged");
}

// Names the ranked objects found in HEAD's tree by their paths there.
struct PathSearch {
  struct Wanted {
    git_oid oid;
    LargeObject* object;
  };
  std::vector<Wanted> wanted;
  std::size_t found = 0;

  void name(const git_oid& oid, const std::string& path) {
    for (Wanted& w : wanted) {
      if (w.object->path.empty() && git_oid_equal(&w.oid, &oid)) {
        w.object->path = path;
        ++found;
      }
    }
  }
  bool done() const { return found == wanted.size(); }
};

int on_tree_entry(const char* root, const git_tree_entry* entry, void* payload) {
  auto* search = static_cast<PathSearch*>(payload);
  search->name(*git_tree_entry_id(entry), std::string("HEAD:") + root + git_tree_entry_name(entry));
  return search->done() ? -1 : 0;  // -1 stops the walk
}

void find_paths(git_repository* repo, LargestObjects& result) {
  PathSearch search;
  for (auto* list : {&result.blobs, &result.trees}) {
    for (LargeObject& o : *list) {
      git_oid oid;
      if (git_oid_fromstr(&oid, o.oid.c_str()) == 0) search.wanted.push_back({oid, &o});
    }
  }
  git_object* raw = nullptr;
  if (search.wanted.empty() || git_revparse_single(&raw, repo, "HEAD^{tree}") != 0) return;
  TreeHandle tree(reinterpret_cast<git_tree*>(raw));
  search.name(*git_tree_id(tree.get()), "HEAD:");
  // Paths are a courtesy: a tree that cannot be read leaves them empty.
  if (!search.done()) (void)git_tree_walk(tree.get(), GIT_TREEWALK_PRE, on_tree_entry, &search);
}

}  // namespace

Result<LargestObjects> find_largest_objects(
    git_repository* repo, std::size_t count,
    const std::function<void(std::uint64_t done, std::uint64_t total)>& progress) {
  git_odb* raw_odb = nullptr;
  if (git_repository_odb(&raw_odb, repo) != 0) {
    return odb_error("the object database cannot be opened");
  }
  OdbHandle odb(raw_odb);

  std::vector<git_oid> ids;
  const auto collect = [](const git_oid* id, void* payload) {
    static_cast<std::vector<git_oid>*>(payload)->push_back(*id);
    return 0;
  };
  if (git_odb_foreach(odb.get(), collect, &ids) != 0) {
    return odb_error("the object database cannot be listed");
  }

  // Two passes, each heard by `progress` from 0 to its end: every object's header, then the
  // trees large enough to rank, read whole.
  const auto report = [&](std::uint64_t done, std::uint64_t total) {
    if (progress) progress(done, total);
  };
  const std::uint64_t objects = ids.size();
  report(0, objects);
  Ranking blobs(count);
  std::vector<Sized> trees;
  for (std::uint64_t i = 0; i < objects; ++i) {
    std::size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (git_odb_read_header(&size, &type, odb.get(), &ids[i]) != 0) {
      return odb_error("object " + hex(ids[i]) + " cannot be read");
    }
    if (type == GIT_OBJECT_BLOB) blobs.offer({size, size, ids[i]});
    if (type == GIT_OBJECT_TREE) trees.push_back({size, size, ids[i]});
    if ((i + 1) % kProgressEvery == 0) report(i + 1, objects);
  }
  if (objects % kProgressEvery != 0) report(objects, objects);

  // Trees by size, largest first: read them until none left could have more entries. Each
  // read resolves a delta chain (about 0.3 ms for the large trees of git's own history), so
  // this pass is the slow one.
  std::sort(trees.begin(), trees.end(), ranks_before);
  Ranking most_entries(count);
  report(0, trees.size());
  std::uint64_t read = 0;
  for (const Sized& t : trees) {
    if (most_entries.full() && t.size / kMinTreeEntryBytes < most_entries.last().key) break;
    git_tree* raw_tree = nullptr;
    if (git_tree_lookup(&raw_tree, repo, &t.oid) != 0) {
      return odb_error("tree " + hex(t.oid) + " cannot be read");
    }
    TreeHandle tree(raw_tree);
    most_entries.offer({git_tree_entrycount(tree.get()), t.size, t.oid});
    if (++read % kTreeProgressEvery == 0) report(read, trees.size());
  }
  if (!trees.empty()) report(trees.size(), trees.size());

  LargestObjects result;
  for (const Sized& b : blobs.best()) result.blobs.push_back({hex(b.oid), b.size, 0, ""});
  for (const Sized& t : most_entries.best()) {
    result.trees.push_back({hex(t.oid), t.size, t.key, ""});
  }
  find_paths(repo, result);
  return result;
}

}  // namespace perfguard::health
