#pragma once
// Import and export of recorded steps: one file per format behind one interface each
// (import_*.cpp, export_*.cpp), like hyperfine's export/. `perf-baseline import` and
// `export` are one call each into import_records() and export_records().

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/store.h"
#include "trace/record.h"
#include "trace/run_filter.h"

namespace perfguard {

class Store;
class Progress;

// ---------------------------------------------------------------------------------------
// Import

enum class ImportFormat { jsonl, csv, hyperfine, journal, trace2 };

std::optional<ImportFormat> parse_import_format(std::string_view name);
const char* to_string(ImportFormat format);

// A line of the input that cannot be imported.
struct ImportProblem {
  std::string file;      // as the user named it; "stdin" for "-"
  std::size_t line = 0;  // 1-based; 0 when it is about the whole file
  std::string message;   // what is wrong, e.g. `"duration_us" must be an integer`
  std::string text;      // the line itself (the journal keeps skipped lines)
};

// `FILE:LINE: message` (`FILE: message` without a line).
std::string to_string(const ImportProblem& problem);

struct ImportOptions {
  // hyperfine: the step every run is recorded as (default: the benchmarked command).
  std::string step;
  // Filled into records whose format does not carry them (hyperfine, trace2, and csv/jsonl
  // rows without these fields): host, user, tool, …
  RunContext context;
  // The time of the import, Unix µs: trace2 leaves files modified within the last second
  // before it for next time; hyperfine output read from stdin ends its runs at it.
  std::int64_t now_us = 0;
  // journal: the store imported into (journal_store_key()). A line that names another store
  // (the shared fallback journal's) is not imported but handed to ImportSink::other_store().
  std::string journal_store;
  // journal: the file is the shared fallback journal, where a line that names no store (an
  // older version wrote it) cannot be told apart from other stores' and is left too.
  bool journal_shared = false;
};

// Where an importer hands what it read. `record` may change the record it is given (it is
// the importer's scratch); returning an error stops the import. `problem` is told about
// every bad line and says whether to go on reading.
class ImportSink {
 public:
  virtual ~ImportSink() = default;
  virtual Status record(StepRecord& record) = 0;
  virtual bool problem(ImportProblem problem) = 0;
  // journal: the row of the snapshot a record's step took, before that record.
  virtual Status snapshot(const SnapshotRow&) { return {}; }
  // journal: a line meant for another store, to be left in the journal as it is.
  virtual void other_store(std::string_view) {}
};

// One format's reader.
class Importer {
 public:
  virtual ~Importer() = default;
  // Called before the store's transaction begins: takes what this import is about to read
  // so that no other import reads it too. trace2 waits for the directory's lock and holds
  // it until the importer is destroyed, after import_records() removed the consumed files.
  virtual Status claim(const std::filesystem::path& /*input*/) { return {}; }
  // Reads `input` (a file, "-" for stdin; a directory for trace2). Returns an error only
  // when the input cannot be read at all or the sink stopped it; bad lines go to the sink.
  virtual Status read(const std::filesystem::path& input, const ImportOptions& options,
                      ImportSink& sink) = 0;
  // The files that were read to the end and may be removed once the records are committed
  // (trace2 files; empty for other formats, whose input is left alone).
  virtual std::vector<std::filesystem::path> consumed() const { return {}; }
  // Files left for a later import (trace2 files still being written).
  virtual std::size_t deferred() const { return 0; }
  // Entries of the input that are not of its format, each with why, left where they are
  // (a trace2 directory's README, say). Unlike a bad line they do not stop the import.
  virtual std::vector<ImportProblem> left_alone() const { return {}; }
  // How far read() is, while it runs on a thread of its own: (files read, files) for trace2;
  // (0, 0) for a format read as one stream, whose records are counted as they are stored.
  virtual std::pair<std::uint64_t, std::uint64_t> files_read() const { return {0, 0}; }
};

std::unique_ptr<Importer> make_importer(ImportFormat format);

struct ImportRequest {
  ImportFormat format = ImportFormat::jsonl;
  // A file, "-" for stdin, a trace2 directory; empty with `journal` for the journal beside
  // the store.
  std::filesystem::path input;
  std::filesystem::path store_path;  // where the default journal is
  bool skip_bad = false;
  ImportOptions options;
  std::size_t max_problems = 20;  // problems kept for the report (all are counted)
  // Told how the import goes (files read, records stored), when not null.
  Progress* progress = nullptr;
};

struct ImportSummary {
  std::size_t read = 0;                 // records read from the input
  std::size_t imported = 0;             // new in the store
  std::size_t duplicates = 0;           // already stored: left as they were
  std::size_t bad = 0;                  // bad lines (skipped with --skip-bad)
  std::vector<ImportProblem> problems;  // the first max_problems of them
  std::size_t files_removed = 0;        // trace2 files consumed and removed
  std::size_t files_deferred = 0;       // trace2 files left for next time
  std::size_t snapshots = 0;            // journal: snapshot rows new in the store
  std::size_t other_stores = 0;         // journal: records meant for other stores, left
  std::vector<std::string> notes;       // what was done to the input (journal), one line each
  // trace2: entries that are not event files, reported and left where they are
  std::vector<ImportProblem> left_alone;
};

// Reads the input and appends its records to the store in one transaction, filling in
// `summary` (also on failure: its problems list the bad lines). A bad line without
// `skip_bad` imports nothing and fails with ExitCode::usage. With `journal` and no input,
// the store's journals are taken: the one beside the store and the store's records in the
// shared fallback journal, with what earlier imports left moved aside. Imports of one
// directory's journals run one at a time; each journal is moved aside first (so appenders
// start a new one), imported, then removed, the other stores' lines put back in the
// fallback journal; skipped lines are kept in `<journal>.bad`.
//
// At SIGINT, SIGTERM or SIGHUP (received_interrupt(), process/runner.h) before the commit,
// it stops reading, rolls the transaction back and fails with ExitCode::interrupted: nothing
// is stored, a journal is put back (or left aside, where the next import takes it), trace2
// files stay. `summary.read` says how many records had been read.
Status import_records(Store& store, const ImportRequest& request, ImportSummary& summary);

// The same into the store `store` names: opened at once when it is there, and when it is
// not, created only when the first record is to be written, so that an import refused before
// that (an input that cannot be read, a bad line before any good one, no journal, an
// interrupt) leaves no store where there was none.
Status import_records(const StoreOptions& store, const ImportRequest& request,
                      ImportSummary& summary);

// A stable 63-bit id (never 0) for a record that does not carry one, from what identifies
// it in its input: importing the same input again gives the same ids, so adds nothing.
std::uint64_t stable_trace_id(std::string_view identity);

// `2026-11-23T15:30:12.123456Z` (fraction optional, 1 to 9 digits; `Z` or `+hh:mm`) to Unix
// µs.
std::optional<std::int64_t> parse_utc_timestamp(std::string_view text);

// ---------------------------------------------------------------------------------------
// Export

enum class ExportFormat { jsonl, csv, prometheus, otlp };

std::optional<ExportFormat> parse_export_format(std::string_view name);
const char* to_string(ExportFormat format);

// One format's writer: records arrive one at a time (oldest first); formats that summarise
// (prometheus) or group (otlp) write at finish().
struct ExportRequest;

class Exporter {
 public:
  virtual ~Exporter() = default;
  // Before the first record: what is exported (prometheus states its window).
  virtual void begin(const ExportRequest&) {}
  virtual void add(const StepRecord& record, std::string& out) = 0;
  virtual void finish(std::string& out) = 0;
};

std::unique_ptr<Exporter> make_exporter(ExportFormat format);

struct ExportRequest {
  ExportFormat format = ExportFormat::jsonl;
  std::optional<std::int64_t> since_us;
  std::string step;
  RunFilter filter;  // empty: every step
  // Empty or "-": stdout. Else written to a temporary file beside it and renamed into place,
  // so a reader (node_exporter's textfile collector) never sees half a file.
  std::filesystem::path output;
};

// Writes the store's records in the format. Returns how many records were exported.
Result<std::size_t> export_records(Store& store, const ExportRequest& request);

}  // namespace perfguard
