#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/store.h"
#include "trace/record.h"

namespace perfguard {

// The append-only JSONL journal that takes the records when the store cannot: one JSON
// object per line (the same fields as `--format jsonl`), and `perf-baseline import --format
// journal` takes it back. A rollback's line also carries its snapshot's row ("snapshot");
// a line in the shared fallback journal also names the store it was meant for ("store").
//
// Place: beside the store (`<store>.journal.jsonl`); if that cannot be written,
// `$XDG_STATE_HOME/perfguard/journal.jsonl` (else `~/.local/state/…`), shared by every store.
//
// Every writer and every import holds the file's lock (flock) while it appends or moves the
// file aside, so an append lands whole in the journal at its name or is retried there. A
// write that fails half-way is cut back to where it began; a journal that ends in half a
// line (its writer was killed) gets a fresh line before the next record, never glued to it.
std::filesystem::path journal_path_for(const std::filesystem::path& store_path);

// The fallback journal; empty when neither XDG_STATE_HOME nor HOME is set.
std::filesystem::path fallback_journal_path();

// How the fallback journal names a store: absolute, symbolic links resolved as far as the
// path exists, so that every spelling of one store names it the same.
std::string journal_store_key(const std::filesystem::path& store_path);

// Appends the records (and the snapshot's row, on the first record's line); returns the file
// written. Tries beside the store, then the fallback journal.
Result<std::filesystem::path> append_to_journal(const std::filesystem::path& store_path,
                                                const std::vector<StepRecord>& records,
                                                const std::optional<SnapshotRow>& snapshot = {});

// Appends whole lines (each ending in '\n') to the journal file `path`, as above.
Status append_journal_lines(const std::filesystem::path& path, const std::string& lines);

// The prefix of the names journals get while an import takes them: `<journal>.importing-`.
std::string journal_in_flight_prefix(const std::filesystem::path& journal);

// Moves the journal at `journal` aside, under its lock, to a name no file has yet
// (`<journal>.importing-<pid>-<time>-<random>`, never renamed onto anything): appenders from
// then on start a new journal. Returns the new name, or empty when there is no journal.
Result<std::filesystem::path> move_journal_aside(const std::filesystem::path& journal);

// Held by an import while it takes journals from one directory: imports of the journals in a
// directory run one at a time, so a file moved aside there is either the holder's or one a
// killed or failed import left (and is taken).
class JournalDirectoryLock {
 public:
  // Waits for the lock on `dir`; `held()` is false when the directory does not exist.
  static Result<JournalDirectoryLock> acquire(const std::filesystem::path& dir);
  JournalDirectoryLock(JournalDirectoryLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  JournalDirectoryLock& operator=(JournalDirectoryLock&&) = delete;
  JournalDirectoryLock(const JournalDirectoryLock&) = delete;
  ~JournalDirectoryLock();
  bool held() const { return fd_ >= 0; }

 private:
  explicit JournalDirectoryLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace perfguard
