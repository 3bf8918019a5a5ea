#include "health/ref_counts.h"

#include <string>
#include <system_error>

#include "health/libgit2_handle.h"

namespace fs = std::filesystem;

namespace perfguard::health {

namespace {

std::uint64_t count_loose_files(const fs::path& refs_dir) {
  std::error_code ec;
  std::uint64_t n = 0;
  for (fs::recursive_directory_iterator it(refs_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() != ".lock") ++n;
  }
  return n;
}

}  // namespace

Result<RefCounts> count_refs(git_repository* repo, const fs::path& common_dir,
                             const fs::path& git_dir) {
  RefCounts counts;
  git_reference_iterator* raw = nullptr;
  if (git_reference_iterator_new(&raw, repo) != 0) {
    return make_error(ExitCode::step_failed, "the refs cannot be listed: " + libgit2_message());
  }
  ReferenceIteratorHandle refs(raw);
  const char* name = nullptr;
  int rc = 0;
  while ((rc = git_reference_next_name(&name, refs.get())) == 0) ++counts.refs;
  if (rc != GIT_ITEROVER) {
    return make_error(ExitCode::step_failed, "the refs cannot be listed: " + libgit2_message());
  }
  counts.loose = count_loose_files(common_dir / "refs");
  std::error_code ec;
  if (!fs::equivalent(common_dir, git_dir, ec)) counts.loose += count_loose_files(git_dir / "refs");
  return counts;
}

}  // namespace perfguard::health
