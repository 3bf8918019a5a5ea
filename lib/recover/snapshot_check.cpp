#include "recover/snapshot_check.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "health/libgit2_handle.h"
#include "safety/snapshot.h"

namespace perfguard {

namespace {

using health::libgit2_message;

std::string hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

// Reads one snapshot's objects, each distinct object once across all snapshots.
class SnapshotReader {
 public:
  SnapshotReader(git_repository* repo, git_odb* odb) : repo_(repo), odb_(odb) {}

  void check(const std::string& id, const git_oid& commit_id, SnapshotCheck& out) {
    id_ = &id;
    out_ = &out;
    git_odb_object* raw = nullptr;
    if (!read(commit_id, "commit", &raw)) return;
    health::OdbObjectHandle commit_object(raw);
    if (git_odb_object_type(raw) != GIT_OBJECT_COMMIT) {
      problem("bad_ref", hex(commit_id), "commit",
              std::string("points to a ") + git_object_type2string(git_odb_object_type(raw)) +
                  ", not a commit");
      return;
    }
    git_commit* c = nullptr;
    if (git_commit_lookup(&c, repo_, &commit_id) != 0) {
      problem("unreadable_object", hex(commit_id), "commit",
              "its commit cannot be parsed: " + libgit2_message());
      return;
    }
    health::CommitHandle commit(c);
    // The parents (HEAD when it was taken) must be there; their history is not the
    // snapshot's to check.
    for (unsigned i = 0; i < git_commit_parentcount(c); ++i) {
      const git_oid* parent = git_commit_parent_id(c, i);
      if (git_odb_exists(odb_, parent) == 0) {
        problem("missing_object", hex(*parent), "parent", "its parent commit is missing");
      }
    }
    walk_tree(*git_commit_tree_id(c), "");
  }

 private:
  // Reads the whole object (libgit2 checks its id against its content); false, with the
  // problem reported, when it cannot.
  bool read(const git_oid& oid, const std::string& path, git_odb_object** object) {
    const int rc = git_odb_read(object, odb_, &oid);
    if (rc == 0) {
      ++out_->objects;
      return true;
    }
    if (rc == GIT_ENOTFOUND) {
      problem("missing_object", hex(oid), path, "missing");
    } else {
      problem("unreadable_object", hex(oid), path, "unreadable: " + libgit2_message());
    }
    return false;
  }

  void walk_tree(const git_oid& tree_id, const std::string& prefix) {
    const std::string where = prefix.empty() ? std::string("tree") : prefix;
    if (!seen_.insert(key(tree_id)).second) return;
    git_odb_object* raw = nullptr;
    if (!read(tree_id, where, &raw)) return;
    git_odb_object_free(raw);
    git_tree* t = nullptr;
    if (git_tree_lookup(&t, repo_, &tree_id) != 0) {
      problem("unreadable_object", hex(tree_id), where,
              "the tree cannot be parsed: " + libgit2_message());
      return;
    }
    health::TreeHandle tree(t);
    const std::size_t n = git_tree_entrycount(t);
    for (std::size_t i = 0; i < n; ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(t, i);
      const git_oid* oid = git_tree_entry_id(e);
      const std::string path = (prefix.empty() ? "" : prefix + "/") + git_tree_entry_name(e);
      switch (git_tree_entry_type(e)) {
        case GIT_OBJECT_TREE:
          walk_tree(*oid, path);
          break;
        case GIT_OBJECT_BLOB: {
          if (!seen_.insert(key(*oid)).second) break;
          git_odb_object* blob = nullptr;
          if (read(*oid, path, &blob)) git_odb_object_free(blob);
          break;
        }
        default:
          break;  // a submodule's commit lives in the submodule
      }
    }
  }

  void problem(const char* kind, std::string object, const std::string& path,
               const std::string& what) {
    std::string message = "snapshot " + *id_ + ": ";
    if (path == "commit") {
      message += "commit " + object + " " + what;
    } else if (path == "parent") {
      message += "parent " + object + " " + what;
    } else {
      message += path + " (" + object + ") " + what;
    }
    if (std::string_view(kind) != "bad_ref") {
      message += ": restore the object from a clone or backup (git cat-file -p " + object + ")";
    }
    out_->problems.push_back({kind, *id_, std::move(object), path, std::move(message)});
  }

  static std::string key(const git_oid& oid) {
    return std::string(reinterpret_cast<const char*>(oid.id), GIT_OID_RAWSZ);
  }

  git_repository* repo_;
  git_odb* odb_;
  std::unordered_set<std::string> seen_;
  const std::string* id_ = nullptr;
  SnapshotCheck* out_ = nullptr;
};

}  // namespace

Result<SnapshotCheck> check_snapshots(const std::filesystem::path& repo_dir,
                                      const std::optional<std::vector<StoredSnapshot>>& stored) {
  auto repo = health::open_repository(repo_dir);
  if (!repo) return repo.error();
  git_odb* raw_odb = nullptr;
  if (git_repository_odb(&raw_odb, repo->get()) != 0) {
    return make_error(ExitCode::step_failed,
                      "the object database cannot be opened: " + libgit2_message());
  }
  health::OdbHandle odb(raw_odb);

  // The refs first, by id: a snapshot whose ref cannot be read is a problem of its own.
  const std::string prefix = kSnapshotRefPrefix;
  std::map<std::string, std::optional<git_oid>> refs;
  git_reference_iterator* raw_it = nullptr;
  if (git_reference_iterator_glob_new(&raw_it, repo->get(), (prefix + "*").c_str()) != 0) {
    return make_error(ExitCode::step_failed,
                      "the snapshot refs cannot be listed: " + libgit2_message());
  }
  health::ReferenceIteratorHandle it(raw_it);
  git_reference* raw_ref = nullptr;
  int rc = 0;
  while ((rc = git_reference_next(&raw_ref, raw_it)) == 0) {
    health::ReferenceHandle ref(raw_ref);
    const std::string id = std::string(git_reference_name(raw_ref)).substr(prefix.size());
    const git_oid* target = git_reference_target(raw_ref);
    refs[id] = target ? std::optional<git_oid>(*target) : std::nullopt;
  }
  if (rc != GIT_ITEROVER) {
    return make_error(ExitCode::step_failed,
                      "the snapshot refs cannot be listed: " + libgit2_message());
  }

  SnapshotCheck check;
  check.snapshots = refs.size();
  SnapshotReader reader(repo->get(), odb.get());
  std::map<std::string, const StoredSnapshot*> records;
  if (stored) {
    check.store = true;
    check.stored = stored->size();
    for (const StoredSnapshot& s : *stored) records[s.id] = &s;
  }
  for (const auto& [id, target] : refs) {
    if (!target) {
      check.problems.push_back(
          {"bad_ref", id, "", "",
           "snapshot " + id + ": " + prefix + id + " is a symbolic ref, not a snapshot commit"});
      continue;
    }
    reader.check(id, *target, check);
    if (!stored) continue;
    auto record = records.find(id);
    if (record == records.end()) {
      check.problems.push_back({"no_store_record", id, hex(*target), "",
                                "snapshot " + id +
                                    ": the store has no record of it (taken with --no-record, or "
                                    "kept in the journal: `perf-baseline import --format journal` "
                                    "takes it back)"});
    } else if (!record->second->commit.empty() && record->second->commit != hex(*target)) {
      check.problems.push_back({"commit_differs", id, hex(*target), "",
                                "snapshot " + id + ": the ref points to " + hex(*target) +
                                    " but the store recorded " + record->second->commit});
    }
  }
  for (const auto& [id, record] : records) {
    if (refs.count(id)) continue;
    check.problems.push_back({"no_ref", id, record->commit, "",
                              "snapshot " + id + ": the store records it but " + prefix + id +
                                  " does not exist (deleted by hand or by another tool)"});
  }
  std::stable_sort(
      check.problems.begin(), check.problems.end(),
      [](const SnapshotProblem& a, const SnapshotProblem& b) { return a.snapshot < b.snapshot; });
  return check;
}

}  // namespace perfguard
