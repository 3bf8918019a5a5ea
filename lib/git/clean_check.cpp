#include "git/clean_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "core/sha1.h"

namespace perfguard {

namespace {

// The file is still the kind of thing the entry says: a regular file with the same
// executable bit, or a symlink.
bool same_kind(const IndexEntry& e, const struct stat& st) {
  const std::uint32_t type = e.mode & 0170000;
  if (type == 0100000) {
    return S_ISREG(st.st_mode) && ((e.mode & 0111) != 0) == ((st.st_mode & 0100) != 0);
  }
  return type == 0120000 && S_ISLNK(st.st_mode);
}

bool stat_matches(const IndexEntry& e, const struct stat& st) {
  return e.mtime_s == std::uint32_t(st.st_mtim.tv_sec) &&
         e.mtime_ns == std::uint32_t(st.st_mtim.tv_nsec) &&
         e.ctime_s == std::uint32_t(st.st_ctim.tv_sec) &&
         e.ctime_ns == std::uint32_t(st.st_ctim.tv_nsec) && e.ino == std::uint32_t(st.st_ino) &&
         e.uid == std::uint32_t(st.st_uid) && e.gid == std::uint32_t(st.st_gid) &&
         e.size == std::uint32_t(st.st_size);
}

// What git does for an entry whose stat data cannot be trusted: hash the content.
bool content_matches(const IndexEntry& e, const std::string& path, const struct stat& st) {
  std::string content;
  if (S_ISLNK(st.st_mode)) {
    content.resize(static_cast<size_t>(st.st_size) + 1);
    ssize_t n = ::readlink(path.c_str(), content.data(), content.size());
    if (n < 0 || static_cast<size_t>(n) >= content.size()) return false;
    content.resize(static_cast<size_t>(n));
  } else {
    struct stat again {};
    if (!read_whole_file(path, content, again)) return false;
  }
  return git_blob_id(content) == e.oid;
}

// `root_fd` is the work tree's directory: each lstat walks the entry's own path only, not
// the work tree's path again (in git's own repository at /tmp/…/4 levels, the scan of
// 4,847 files took 3.2 ms instead of 3.7, best tenth of 300 scans).
bool entry_unchanged(const IndexEntry& e, int root_fd, const std::string& path,
                     const struct stat& index_st) {
  if (e.stage != 0 || e.assume_unchanged || e.skip_worktree || e.intent_to_add) return false;
  struct stat st {};
  const char* name = root_fd == AT_FDCWD ? path.c_str() : e.path.data();  // NUL-terminated
  if (::fstatat(root_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !same_kind(e, st)) {
    return false;
  }
  // Racily clean (written in the same clock tick as the index) or smudged (size 0, which
  // git writes for such entries): the stat data proves nothing, the content does.
  const bool racy = std::pair(st.st_mtim.tv_sec, st.st_mtim.tv_nsec) >=
                    std::pair(index_st.st_mtim.tv_sec, index_st.st_mtim.tv_nsec);
  const bool smudged = e.size == 0 && st.st_size != 0;
  return racy || smudged ? content_matches(e, path, st) : stat_matches(e, st);
}

}  // namespace

namespace {

void scan_entries(const Repository& repo, TrackedScan& scan,
                  const std::function<void(const IndexFile&)>& alongside,
                  const std::vector<std::string>& left_out) {
  if (!repo.work_tree() || !scan.index.index) return;
  const IndexFile& index = *scan.index.index;
  const std::vector<IndexEntry>& entries = index.entries;
  const std::string root = repo.work_tree()->string() + "/";
  // Where it cannot be opened, each lstat takes the whole path (and fails as it must).
  const int opened = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  const int root_fd = opened >= 0 ? opened : AT_FDCWD;
  std::vector<char> proven(entries.size(), 0);
  auto left_out_at = [&](std::string_view path) {
    return !left_out.empty() && std::binary_search(left_out.begin(), left_out.end(), path);
  };
  // lstat() is most of the cost: both threads take runs of entries until none is left.
  constexpr size_t kRun = 128;
  std::atomic<size_t> next{0};
  auto check = [&] {
    std::string path = root;
    for (size_t begin; (begin = next.fetch_add(kRun)) < entries.size();) {
      const size_t end = std::min(entries.size(), begin + kRun);
      for (size_t i = begin; i < end; ++i) {
        // A rollback moves a gitlink, never the submodule's files.
        if (entries[i].gitlink() || left_out_at(entries[i].path)) {
          proven[i] = 1;
          continue;
        }
        path.resize(root.size());
        path += entries[i].path;
        proven[i] = entry_unchanged(entries[i], root_fd, path, index.st);
      }
    }
  };
  std::thread helper;
  if (entries.size() > 4 * kRun) helper = std::thread(check);
  try {
    if (alongside) alongside(index);
  } catch (...) {
    if (helper.joinable()) helper.join();
    throw;
  }
  check();
  if (helper.joinable()) helper.join();
  if (opened >= 0) ::close(opened);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!proven[i] && (scan.unproven.empty() || scan.unproven.back() != entries[i].path)) {
      scan.unproven.emplace_back(entries[i].path);
    }
  }
  scan.unchanged = scan.unproven.empty();
  scan.index_tree = index.cache_tree_root;
}

}  // namespace

TrackedScan scan_tracked_files(const Repository& repo,
                               const std::function<void(const IndexFile&)>& alongside) {
  TrackedScan scan;
  if (!repo.work_tree()) return scan;
  scan.index = read_index_file(repo.index_file());
  scan_entries(repo, scan, alongside, {});
  return scan;
}

void scan_index_entries(const Repository& repo, TrackedScan& scan,
                        const std::vector<std::string>& left_out) {
  scan_entries(repo, scan, {}, left_out);
}

}  // namespace perfguard
