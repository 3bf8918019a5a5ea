#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "git/index_file.h"
#include "git/object_writer.h"
#include "git/repository.h"

namespace perfguard {

// One thing on disk as it was, byte for byte and mode for mode: what git would leave out of
// a commit (ignored files, assume-unchanged edits, bytes a filter or an eol/ident attribute
// would change, nested repositories, permission bits beyond 644/755) is held too.
struct CapturedPath {
  enum class Kind : char {
    file = 'f',
    symlink = 'l',
    directory = 'd',
    absent = 'a',    // nothing was there
    git_file = 'g',  // a file in the git dir (MERGE_HEAD, MERGE_MSG, …), path relative to it
    index = 'i',     // the index file itself
    no_index = 'n',  // there was no index file
    // The index's entry at a work-tree path: its git mode and object, or (mode 0) none.
    index_entry = 'e',
  };
  Kind kind = Kind::absent;
  std::uint32_t mode = 0;  // permission bits (07777) of files and directories; an entry's mode
  std::string oid;         // the blob of the bytes (the link target for a symlink)
  std::string path;        // relative to the top of the work tree (or the git dir)
};

// The blobs a capture already knows exist: those of the index entries, looked up by path in
// the index itself (sorted by path), so that a capture of a few paths costs no table of
// every entry.
class KnownBlobs {
 public:
  KnownBlobs() = default;
  explicit KnownBlobs(const IndexFile& index) : index_(&index) {}
  // The blob id of the entry at `path` (merged, not intent-to-add, not a gitlink), or "".
  std::string find(const std::string& path) const;

 private:
  const IndexFile* index_ = nullptr;
};

// Captures whatever is on disk at each path (a file, a symlink, a whole directory tree with
// nested repositories, or nothing), and every existing non-directory on the way to it, so
// that a step that writes or removes these paths loses nothing. Blobs are written only when
// the bytes are not already a known blob. Something that cannot be captured exactly (a
// FIFO, socket or device, an unreadable file) is refused (ExitCode::refused).
Result<std::vector<CapturedPath>> capture_work_tree(const Repository& repo,
                                                    const ObjectWriter& objects,
                                                    std::vector<std::string> paths,
                                                    const KnownBlobs& known);

// The state files in the git dir that a reset removes (MERGE_HEAD, MERGE_MSG, …).
Result<std::vector<CapturedPath>> capture_git_files(const Repository& repo,
                                                    const ObjectWriter& objects);

// Writes everything captured back exactly: bytes, modes, symlinks, directories, the state
// files and the index file, and removes what was absent. Whatever stands at those paths now
// is replaced. Blobs are read with one `git cat-file --batch`. Index entries are not
// written here (restore_index_entries does).
Status restore_captured(const Repository& repo, const std::vector<CapturedPath>& captured);

// Puts the captured index entries back into the index (`git update-index --index-info`):
// each path's entry as it was, or none; every other entry is left as it is.
Status restore_index_entries(const Repository& repo, const std::vector<CapturedPath>& captured);

// The manifest: NUL-terminated records "<kind> <octal mode> <oid or -> <path>".
std::string encode_manifest(const std::vector<CapturedPath>& captured);
Result<std::vector<CapturedPath>> decode_manifest(const std::string& text);

}  // namespace perfguard
