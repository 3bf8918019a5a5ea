#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "trace/span.h"

namespace perfguard {

// The append-only JSONL journal that takes the records when the store cannot: one JSON
// object per line (the same fields as `--format jsonl`), written with O_APPEND so parallel
// writers never interleave a line. `perf-baseline import --format journal` takes it back.
//
// Place: beside the store (`<store>.journal.jsonl`); if that cannot be written,
// `$XDG_STATE_HOME/perfguard/journal.jsonl` (else `~/.local/state/…`).
std::filesystem::path journal_path_for(const std::filesystem::path& store_path);

// Appends the records; returns the file written. Tries beside the store, then the state
// directory.
Result<std::filesystem::path> append_to_journal(const std::filesystem::path& store_path,
                                                const std::vector<StepRecord>& records);

}  // namespace perfguard
