#include "health/commit_count.h"

#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "health/commit_graph.h"
#include "health/libgit2_handle.h"

namespace fs = std::filesystem;

namespace perfguard::health {

namespace {

struct OidHash {
  std::size_t operator()(const git_oid& oid) const {
    std::size_t h;
    std::memcpy(&h, oid.id, sizeof h);  // an object id is already uniformly distributed
    return h;
  }
};
struct OidEqual {
  bool operator()(const git_oid& a, const git_oid& b) const { return git_oid_equal(&a, &b) != 0; }
};
using OidSet = std::unordered_set<git_oid, OidHash, OidEqual>;

std::string hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

// The boundary commits of a shallow repository, one id a line in <common dir>/shallow.
std::optional<OidSet> read_shallow(const fs::path& common_dir) {
  std::ifstream in(common_dir / "shallow");
  if (!in) return std::nullopt;
  OidSet boundary;
  std::string line;
  while (std::getline(in, line)) {
    git_oid oid;
    if (line.size() >= GIT_OID_HEXSZ && git_oid_fromstrn(&oid, line.data(), GIT_OID_HEXSZ) == 0) {
      boundary.insert(oid);
    }
  }
  return boundary;
}

// The parents a commit object names: the `parent` lines that follow its `tree` line.
bool commit_parents(std::string_view content, std::vector<git_oid>& out) {
  if (!content.starts_with("tree ")) return false;
  std::size_t pos = content.find('\n');
  if (pos == std::string_view::npos) return false;
  ++pos;
  while (content.substr(pos).starts_with("parent ")) {
    const std::size_t start = pos + 7;
    if (content.size() < start + GIT_OID_HEXSZ + 1 || content[start + GIT_OID_HEXSZ] != '\n') {
      return false;
    }
    git_oid parent;
    if (git_oid_fromstrn(&parent, content.data() + start, GIT_OID_HEXSZ) != 0) return false;
    out.push_back(parent);
    pos = start + GIT_OID_HEXSZ + 1;
  }
  return true;
}

Error unreadable_commit(const git_oid& oid, const std::string& why) {
  return make_error(ExitCode::step_failed, "commit " + hex(oid) +
                                               " in HEAD's history cannot be read (" + why +
                                               "): run `git fsck` to see what is damaged");
}

// The walk: commits the graph holds are followed by position (a bit each marks them seen),
// the others by id, parsed from the object database while the budget lasts.
class Walk {
 public:
  Walk(git_odb* odb, const CommitGraph* graph, const OidSet* shallow, std::uint64_t budget)
      : odb_(odb), graph_(graph), shallow_(shallow), budget_(budget) {
    if (graph_) seen_positions_.assign(graph_->size(), false);
  }

  // Counts what is reachable from `head`. Nothing when the graph turned out to be damaged:
  // the caller counts again without it.
  std::optional<Result<CommitCount>> run(const git_oid& head) {
    CommitCount count;
    count.graph = graph_ != nullptr;
    reach(head);
    std::vector<std::uint32_t> positions;
    std::vector<git_oid> parents;
    for (;;) {
      while (!position_stack_.empty()) {
        const std::uint32_t position = position_stack_.back();
        position_stack_.pop_back();
        ++count.commits;
        positions.clear();
        if (!graph_->parents(position, positions)) return std::nullopt;
        for (std::uint32_t p : positions) reach_position(p);
      }
      if (oid_stack_.empty()) break;
      if (budget_ && count.parsed >= budget_) {
        count.complete = false;
        count.commits += oid_stack_.size();  // known to be reachable, not yet counted
        break;
      }
      const git_oid oid = oid_stack_.back();
      oid_stack_.pop_back();
      ++count.commits;
      ++count.parsed;
      parents.clear();
      if (auto st = read_parents(oid, parents); !st) return Result<CommitCount>(st.error());
      if (shallow_ && shallow_->count(oid)) continue;  // the history stops here
      for (const git_oid& p : parents) reach(p);
    }
    return Result<CommitCount>(count);
  }

 private:
  void reach(const git_oid& oid) {
    if (graph_) {
      if (auto position = graph_->find(oid.id)) {
        reach_position(*position);
        return;
      }
    }
    if (seen_oids_.insert(oid).second) oid_stack_.push_back(oid);
  }

  void reach_position(std::uint32_t position) {
    if (seen_positions_[position]) return;
    seen_positions_[position] = true;
    position_stack_.push_back(position);
  }

  Status read_parents(const git_oid& oid, std::vector<git_oid>& parents) {
    git_odb_object* raw = nullptr;
    if (git_odb_read(&raw, odb_, &oid) != 0) return unreadable_commit(oid, libgit2_message());
    OdbObjectHandle object(raw);
    if (git_odb_object_type(raw) != GIT_OBJECT_COMMIT) {
      return unreadable_commit(
          oid, std::string("it is a ") + git_object_type2string(git_odb_object_type(raw)));
    }
    const std::string_view content(static_cast<const char*>(git_odb_object_data(raw)),
                                   git_odb_object_size(raw));
    if (!commit_parents(content, parents)) return unreadable_commit(oid, "malformed header");
    return {};
  }

  git_odb* odb_;
  const CommitGraph* graph_;
  const OidSet* shallow_;
  std::uint64_t budget_;
  std::vector<bool> seen_positions_;
  OidSet seen_oids_;
  std::vector<std::uint32_t> position_stack_;
  std::vector<git_oid> oid_stack_;
};

}  // namespace

Result<CommitCount> count_commits(git_repository* repo, const CommitWalk& walk) {
  const int unborn = git_repository_head_unborn(repo);
  if (unborn == 1) return CommitCount{};
  git_object* head_object = nullptr;
  if (unborn < 0 || git_revparse_single(&head_object, repo, "HEAD^{commit}") != 0) {
    return make_error(ExitCode::step_failed,
                      "HEAD cannot be resolved to a commit: " + libgit2_message());
  }
  const git_oid head = *git_object_id(head_object);
  git_object_free(head_object);

  git_odb* raw_odb = nullptr;
  if (git_repository_odb(&raw_odb, repo) != 0) {
    return make_error(ExitCode::step_failed,
                      "the object database cannot be opened: " + libgit2_message());
  }
  OdbHandle odb(raw_odb);

  const std::optional<OidSet> shallow = read_shallow(walk.common_dir);
  std::optional<CommitGraph> graph;
  if (walk.use_graph && !shallow) graph = CommitGraph::open(walk.objects_dir);
  const OidSet* boundary = shallow ? &*shallow : nullptr;
  if (graph) {
    Walk with_graph(odb.get(), &*graph, boundary, walk.parse_budget);
    if (auto counted = with_graph.run(head)) return std::move(*counted);
  }
  Walk without_graph(odb.get(), nullptr, boundary, walk.parse_budget);
  return std::move(*without_graph.run(head));
}

}  // namespace perfguard::health
