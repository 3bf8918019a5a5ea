// The import and export drivers: formats by name, and the one transaction an import is.
#include "exchange/exchange.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "core/fault.h"
#include "exchange/input.h"
#include "output/output_file.h"
#include "output/progress.h"
#include "process/runner.h"
#include "store/journal.h"
#include "store/store.h"

namespace perfguard {

namespace fs = std::filesystem;

// One function per format file.
std::unique_ptr<Importer> make_jsonl_importer();
std::unique_ptr<Importer> make_journal_importer();
std::unique_ptr<Importer> make_csv_importer();
std::unique_ptr<Importer> make_hyperfine_importer();
std::unique_ptr<Importer> make_trace2_importer();
std::unique_ptr<Exporter> make_jsonl_exporter();
std::unique_ptr<Exporter> make_csv_exporter();
std::unique_ptr<Exporter> make_prometheus_exporter();
std::unique_ptr<Exporter> make_otlp_exporter();

std::optional<ImportFormat> parse_import_format(std::string_view name) {
  for (auto f : {ImportFormat::jsonl, ImportFormat::csv, ImportFormat::hyperfine,
                 ImportFormat::journal, ImportFormat::trace2}) {
    if (name == to_string(f)) return f;
  }
  return std::nullopt;
}

const char* to_string(ImportFormat format) {
  switch (format) {
    case ImportFormat::jsonl:
      return "jsonl";
    case ImportFormat::csv:
      return "csv";
    case ImportFormat::hyperfine:
      return "hyperfine";
    case ImportFormat::journal:
      return "journal";
    case ImportFormat::trace2:
      return "trace2";
  }
  return "jsonl";
}

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  for (auto f :
       {ExportFormat::jsonl, ExportFormat::csv, ExportFormat::prometheus, ExportFormat::otlp}) {
    if (name == to_string(f)) return f;
  }
  return std::nullopt;
}

const char* to_string(ExportFormat format) {
  switch (format) {
    case ExportFormat::jsonl:
      return "jsonl";
    case ExportFormat::csv:
      return "csv";
    case ExportFormat::prometheus:
      return "prometheus";
    case ExportFormat::otlp:
      return "otlp";
  }
  return "jsonl";
}

std::unique_ptr<Importer> make_importer(ImportFormat format) {
  switch (format) {
    case ImportFormat::jsonl:
      return make_jsonl_importer();
    case ImportFormat::journal:
      return make_journal_importer();
    case ImportFormat::csv:
      return make_csv_importer();
    case ImportFormat::hyperfine:
      return make_hyperfine_importer();
    case ImportFormat::trace2:
      return make_trace2_importer();
  }
  return make_jsonl_importer();
}

std::unique_ptr<Exporter> make_exporter(ExportFormat format) {
  switch (format) {
    case ExportFormat::jsonl:
      return make_jsonl_exporter();
    case ExportFormat::csv:
      return make_csv_exporter();
    case ExportFormat::prometheus:
      return make_prometheus_exporter();
    case ExportFormat::otlp:
      return make_otlp_exporter();
  }
  return make_jsonl_exporter();
}

std::string to_string(const ImportProblem& p) {
  std::string s = p.file;
  if (p.line > 0) s += ":" + std::to_string(p.line);
  return s + ": " + p.message;
}

std::uint64_t stable_trace_id(std::string_view identity) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then a splitmix64 finaliser
  for (unsigned char c : identity) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  h >>= 1;  // 63 bits, like new_trace_id()
  return h ? h : 1;
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_utc_timestamp(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != ' ') ||
      !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' ||
      !digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  // <chrono>'s calendar checks the day against its month and year: no 31 April, no
  // 29 February 2027.
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    std::int64_t scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++n;
    }
    if (n == 0 || n > 9) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_s = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;  // a time without a zone is ambiguous
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t days = std::chrono::sys_days{date}.time_since_epoch().count();
  std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * 1000000 + micros;
}

// ---------------------------------------------------------------------------------------
// import_records

namespace {

// The store an import writes to and its one transaction, begun when the first record or
// snapshot row is to be written. A store that is not there yet is created only then, so an
// import refused before (an input it cannot read, a bad first line, no journal) leaves no
// store where there was none; one that is there is opened at once, so that a store that
// cannot be used is said before any input is read, as for every other command.
class ImportTarget {
 public:
  explicit ImportTarget(Store& store) : store_(&store), path_(store.path()) {}
  explicit ImportTarget(StoreOptions options)
      : options_(std::move(options)), path_(options_.path) {}

  const fs::path& path() const { return path_; }

  // Opens the store now if there is something at its path (or it cannot be told).
  Status open_existing() {
    struct stat st;
    if (store_ || (::stat(path_.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR))) {
      return {};
    }
    return open();
  }

  Result<StepImport*> transaction() {
    if (import_) return &*import_;
    if (Status s = open(); !s) return s.error();
    auto begun = store_->begin_import();
    if (!begun) return begun.error();
    import_ = std::move(*begun);
    return &*import_;
  }

  Status commit() { return import_ ? import_->commit() : Status{}; }

 private:
  Status open() {
    if (store_) return {};
    auto opened = Store::open(options_);
    if (!opened) return opened.error();
    owned_ = std::move(*opened);
    store_ = &*owned_;
    return {};
  }

  Store* store_ = nullptr;
  StoreOptions options_;
  fs::path path_;
  std::optional<Store> owned_;
  std::optional<StepImport> import_;  // after owned_: rolled back (if need be) before it closes
};

// Appends to the store, counts, and keeps the problems.
class StoreSink : public ImportSink {
 public:
  StoreSink(ImportTarget& target, ImportSummary& summary, const ImportRequest& request)
      : target_(target), summary_(summary), request_(request) {}

  Status record(StepRecord& r) override {
    ++summary_.read;
    // Without --skip-bad one bad line means nothing is imported: only look for more of them.
    if (summary_.bad > 0 && !request_.skip_bad) return {};
    auto import = target_.transaction();
    if (!import) return import.error();
    auto added = (*import)->add(r);
    if (!added) return added.error();
    ++(*added ? summary_.imported : summary_.duplicates);
    return {};
  }

  bool problem(ImportProblem p) override {
    ++summary_.bad;
    if (keep_bad_lines_) {
      bad_lines_ += p.text;
      bad_lines_ += '\n';
    }
    if (summary_.problems.size() < request_.max_problems) summary_.problems.push_back(std::move(p));
    return true;  // read on, to report every bad line at once
  }

  Status snapshot(const SnapshotRow& row) override {
    if (summary_.bad > 0 && !request_.skip_bad) return {};
    auto import = target_.transaction();
    if (!import) return import.error();
    auto added = (*import)->add_snapshot(row);
    if (!added) return added.error();
    if (*added) ++summary_.snapshots;
    return {};
  }

  void other_store(std::string_view line) override {
    ++summary_.other_stores;
    other_lines_ += line;
    other_lines_ += '\n';
  }

  void keep_bad_lines() { keep_bad_lines_ = true; }
  std::string take_bad_lines() { return std::move(bad_lines_); }
  std::string take_other_lines() { return std::move(other_lines_); }

 private:
  ImportTarget& target_;
  ImportSummary& summary_;
  const ImportRequest& request_;
  bool keep_bad_lines_ = false;
  std::string bad_lines_;
  std::string other_lines_;
};

std::int64_t size_of_file(const fs::path& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

// Appends `text` to a private file (0600), creating it.
Status append_private(const fs::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(ExitCode::store,
                      "cannot write " + path.string() + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  int err = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err) {
    return make_error(ExitCode::store, "cannot write " + path.string() + ": " + std::strerror(err));
  }
  return {};
}

// A journal file this import reads: one it moved aside, or one an earlier import left.
struct TakenJournal {
  fs::path file;
  fs::path journal;    // the journal it was, as the user knows it
  bool moved = false;  // moved aside by this import (put back if the import fails)
  std::int64_t size = 0;
};

// Takes the store's journals, the one beside it and the shared fallback journal, holding
// the lock of each one's directory (in `locks`, until the import ends): first the files
// earlier imports left aside there, whose lock holder is gone, then the journal itself,
// moved aside so that appenders start a new one.
Status take_journals(const fs::path& store_path, std::vector<JournalDirectoryLock>& locks,
                     std::vector<TakenJournal>& taken, ImportSummary& summary) {
  std::vector<fs::path> journals{journal_path_for(store_path)};
  if (fs::path fallback = fallback_journal_path(); !fallback.empty()) {
    journals.push_back(fallback);
  }
  std::vector<fs::path> locked_dirs;
  for (std::size_t j = 0; j < journals.size(); ++j) {
    const fs::path& journal = journals[j];
    const fs::path dir = journal.has_parent_path() ? journal.parent_path() : fs::path(".");
    std::error_code ec;
    bool locked = false;
    for (const fs::path& d : locked_dirs) locked = locked || fs::equivalent(d, dir, ec);
    if (!locked) {
      auto lock = JournalDirectoryLock::acquire(dir);
      if (!lock) return lock.error();
      if (!lock->held()) continue;  // no such directory: no journal there
      locks.push_back(std::move(*lock));
      locked_dirs.push_back(dir);
    }
    const std::string prefix = journal_in_flight_prefix(journal);
    std::vector<fs::path> left;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) == 0 && entry.is_regular_file(ec)) left.push_back(entry.path());
    }
    std::sort(left.begin(), left.end());
    for (const fs::path& p : left) {
      taken.push_back({p, journal, false, size_of_file(p)});
      summary.notes.push_back("taking " + p.string() + ", left by an earlier import");
    }
    auto aside = move_journal_aside(journal);
    if (!aside && j == 0) return aside.error();
    if (!aside) {
      summary.notes.push_back(aside.error().message + "; it stays for a later import");
    } else if (!aside->empty()) {
      taken.push_back({*aside, journal, true, size_of_file(*aside)});
    }
  }
  return {};
}

// Puts the journals moved aside back when the import failed, unless appenders have started
// a new one meanwhile (then each stays aside, and the next import takes it).
void restore_journals(const std::vector<TakenJournal>& taken, ImportSummary& summary) {
  for (const TakenJournal& t : taken) {
    if (!t.moved) continue;
    if (::renameat2(AT_FDCWD, t.file.c_str(), AT_FDCWD, t.journal.c_str(), RENAME_NOREPLACE) != 0) {
      summary.notes.push_back("the journal stays at " + t.file.string() +
                              "; the next `import --format journal` takes it");
    }
  }
}

// What a reader thread hands the storing thread: records, and the problems met before
// each (`before` is the index of the record a problem came before), so that the store sees
// them in the order of the input.
struct Batch {
  std::vector<StepRecord> records;
  std::vector<std::pair<std::size_t, ImportProblem>> problems;
  std::vector<SnapshotRow> snapshots;    // journal: stored before the batch's records
  std::vector<std::string> other_lines;  // journal: lines meant for other stores
};

// A bounded queue of batches between the reader thread and the storing thread, and the
// way back for the batches stored: the reader fills them again, so the records' buffers are
// reused rather than freed by one thread and allocated again by the other.
class BatchQueue {
 public:
  // False when the consumer has stopped: the reader should stop too.
  bool push(Batch batch) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return queue_.size() < kMaxBatches || stopped_; });
    if (stopped_) return false;
    queue_.push_back(std::move(batch));
    ready_.notify_one();
    return true;
  }
  // Nothing once the reader is done and every batch has been taken. `waiting`, when set, is
  // called every tenth of a second while there is no batch yet (to redraw a progress line).
  std::optional<Batch> pop(const std::function<void()>& waiting = {}) {
    std::unique_lock lock(mutex_);
    auto ready = [&] { return !queue_.empty() || done_; };
    if (waiting) {
      while (!ready_.wait_for(lock, std::chrono::milliseconds(100), ready)) {
        lock.unlock();
        waiting();
        lock.lock();
      }
    } else {
      ready_.wait(lock, ready);
    }
    if (queue_.empty()) return std::nullopt;
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    space_.notify_one();
    return b;
  }
  void finish() {
    std::lock_guard lock(mutex_);
    done_ = true;
    ready_.notify_all();
  }
  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    space_.notify_all();
  }
  void recycle(Batch batch) {
    std::lock_guard lock(mutex_);
    if (spare_.size() < kMaxBatches + 2) spare_.push_back(std::move(batch));
  }
  // A stored batch to fill again (its records kept, to be overwritten), else an empty one.
  Batch spare() {
    std::lock_guard lock(mutex_);
    if (spare_.empty()) return {};
    Batch b = std::move(spare_.back());
    spare_.pop_back();
    return b;
  }

 private:
  static constexpr std::size_t kMaxBatches = 8;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<Batch> queue_;
  std::vector<Batch> spare_;
  bool done_ = false;
  bool stopped_ = false;
};

// The sink the reader thread writes to: fills batches and queues them.
class QueueSink : public ImportSink {
 public:
  explicit QueueSink(BatchQueue& queue) : queue_(queue) { next(); }

  // Swaps the record into the batch: the importer gets back a stored record's buffers to
  // fill again (it sets every field), so nothing is copied and little is allocated.
  Status record(StepRecord& r) override {
    if (used_ < batch_.records.size()) {
      std::swap(batch_.records[used_], r);
    } else {
      batch_.records.push_back(std::move(r));
    }
    if (++used_ >= kBatchSize) return flush();
    return {};
  }
  bool problem(ImportProblem p) override {
    batch_.problems.emplace_back(used_, std::move(p));
    return true;
  }
  Status snapshot(const SnapshotRow& row) override {
    batch_.snapshots.push_back(row);
    return {};
  }
  void other_store(std::string_view line) override { batch_.other_lines.emplace_back(line); }
  Status flush() {
    if (used_ == 0 && batch_.problems.empty() && batch_.snapshots.empty() &&
        batch_.other_lines.empty()) {
      return {};
    }
    batch_.records.resize(used_);
    if (!queue_.push(std::move(batch_))) return make_error(ExitCode::store, "stopped");
    next();
    return {};
  }

 private:
  static constexpr std::size_t kBatchSize = 256;
  void next() {
    batch_ = queue_.spare();
    batch_.problems.clear();
    batch_.snapshots.clear();
    batch_.other_lines.clear();
    used_ = 0;
  }
  BatchQueue& queue_;
  Batch batch_;
  std::size_t used_ = 0;
};

// What an import shows on a terminal: the files read while a trace2 directory is read (its
// records come once all are), then the records stored.
class ImportProgress {
 public:
  ImportProgress(Progress* progress, ImportFormat format)
      : progress_(progress && progress->on() ? progress : nullptr), format_(format) {}

  bool on() const { return progress_ != nullptr; }

  void reading(const Importer& importer) {
    if (!progress_ || stored_ > 0) return;
    auto [read, files] = importer.files_read();
    if (files == 0) return;
    if (!reading_) {
      progress_->begin(std::string("reading ") + to_string(format_), "event files", files);
      reading_ = true;
    }
    progress_->update(read, files);
  }

  void stored(std::size_t records) {
    if (!progress_ || records == 0) return;
    if (stored_ == 0) {
      progress_->begin(std::string("importing ") + to_string(format_), "records");
    }
    stored_ += records;
    progress_->update(stored_);
  }

 private:
  Progress* progress_;
  ImportFormat format_;
  bool reading_ = false;
  std::uint64_t stored_ = 0;
};

// Reads the inputs on a thread of its own while this one stores what it read: parsing and
// storing overlap, which nearly doubles the speed of a large import on two cores.
Status read_in_background(Importer& importer, const std::vector<fs::path>& inputs,
                          const std::vector<ImportOptions>& options, ImportSink& sink,
                          ImportProgress& progress) {
  BatchQueue queue;
  Status read_status;
  std::thread reader([&] {
    QueueSink queued(queue);
    try {
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (Status s = importer.read(inputs[i], options[i], queued); !s) {
          read_status = s;
          break;
        }
      }
      if (read_status) read_status = queued.flush();
    } catch (const std::exception& e) {
      read_status = make_error(ExitCode::store, std::string("cannot read the input: ") + e.what());
    }
    queue.finish();
  });
  Status store_status;
  std::function<void()> waiting;
  if (progress.on()) waiting = [&] { progress.reading(importer); };
  while (auto batch = queue.pop(waiting)) {
    // Ctrl-C, SIGTERM or SIGHUP: no more batches; the caller rolls back the transaction.
    if (store_status && received_interrupt() != 0) {
      store_status = exchange::interrupted_error();
      queue.stop();
    }
    if (!store_status) continue;  // drain, so the reader is never left waiting
    for (const std::string& line : batch->other_lines) sink.other_store(line);
    for (const SnapshotRow& row : batch->snapshots) {
      if (store_status) store_status = sink.snapshot(row);
    }
    auto problem = batch->problems.begin();
    for (std::size_t i = 0; i < batch->records.size() && store_status; ++i) {
      for (; problem != batch->problems.end() && problem->first == i; ++problem) {
        sink.problem(std::move(problem->second));
      }
      store_status = sink.record(batch->records[i]);
    }
    for (; store_status && problem != batch->problems.end(); ++problem) {
      sink.problem(std::move(problem->second));
    }
    if (!store_status) queue.stop();
    progress.stored(batch->records.size());
    queue.recycle(std::move(*batch));
    if (store_status) crash_point("import-batch-stored");
  }
  reader.join();
  if (!store_status) return store_status;
  return read_status;
}

Status import_into(ImportTarget& target, const ImportRequest& request, ImportSummary& summary) {
  summary = ImportSummary{};
  if (Status s = target.open_existing(); !s) return s;
  std::unique_ptr<Importer> importer = make_importer(request.format);
  const bool take_journal = request.format == ImportFormat::journal && request.input.empty();
  const fs::path journal = journal_path_for(target.path());
  ImportOptions options = request.options;
  if (request.format == ImportFormat::journal)
    options.journal_store = journal_store_key(target.path());

  std::vector<fs::path> inputs;
  std::vector<JournalDirectoryLock> locks;  // held until the import ends
  std::vector<TakenJournal> taken;
  if (take_journal) {
    if (Status s = take_journals(target.path(), locks, taken, summary); !s) {
      restore_journals(taken, summary);
      return s;
    }
    if (taken.empty()) {
      summary.notes.push_back("no journal at " + journal.string() + ": nothing to import");
      return {};
    }
    for (const TakenJournal& t : taken) inputs.push_back(t.file);
    crash_point("import-journal-taken");
  } else if (request.input.empty()) {
    return make_error(
        ExitCode::usage,
        std::string("no input: name a ") +
            (request.format == ImportFormat::trace2 ? "trace2 directory" : "FILE, or - for stdin"));
  } else {
    inputs.push_back(request.input);
  }

  auto failed = [&](Status s) {
    restore_journals(taken, summary);
    return s;
  };
  // A journal moved aside is named as the user knows it.
  auto name_journal = [&] {
    for (ImportProblem& p : summary.problems) {
      for (const TakenJournal& t : taken) {
        if (t.moved && p.file == t.file.string() && !fs::exists(t.file))
          p.file = t.journal.string();
      }
    }
  };
  // Before the store's transaction: a second import of a trace2 directory waits here for
  // the first to end, not for the store past its busy timeout.
  for (const fs::path& input : inputs) {
    if (Status s = importer->claim(input); !s) return failed(s);
  }
  StoreSink sink(target, summary, request);
  if (take_journal) sink.keep_bad_lines();
  std::vector<ImportOptions> input_options(inputs.size(), options);
  const fs::path fallback = fallback_journal_path();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    std::error_code ec;
    input_options[i].journal_shared =
        request.format == ImportFormat::journal && !fallback.empty() &&
        (take_journal ? taken[i].journal == fallback : fs::equivalent(inputs[i], fallback, ec));
  }
  ImportProgress progress(request.progress, request.format);
  Status read = read_in_background(*importer, inputs, input_options, sink, progress);
  summary.left_alone = importer->left_alone();
  if (!read) return failed(read);
  if (summary.bad > 0 && !request.skip_bad) {
    Status refused = failed(make_error(
        ExitCode::usage, "nothing imported: " + std::to_string(summary.bad) + " bad line" +
                             (summary.bad == 1 ? "" : "s") +
                             "; fix or remove them, or pass --skip-bad to import the rest"));
    name_journal();
    return refused;
  }
  // The last moment to stop: once committed, the import is done, and only tidies up.
  if (received_interrupt() != 0) return failed(exchange::interrupted_error());
  if (Status s = target.commit(); !s) return failed(s);
  summary.files_deferred = importer->deferred();

  if (take_journal) {
    std::string bad = sink.take_bad_lines();
    if (!bad.empty()) {
      fs::path bad_file = journal;
      bad_file += ".bad";
      if (Status s = append_private(bad_file, bad); !s) return s;
      summary.notes.push_back("kept the skipped lines in " + bad_file.string());
    }
    // The other stores' lines go back into the fallback journal (through its lock, so that
    // appenders meanwhile keep theirs) before the files they came from are removed: a kill
    // in between leaves a line twice, which imports once.
    bool keep_files = false;
    if (std::string others = sink.take_other_lines(); !others.empty()) {
      const fs::path back = fallback.empty() ? journal : fallback;
      if (Status s = append_journal_lines(back, others); !s) {
        keep_files = true;
        summary.notes.push_back(s.error().message +
                                "; the journals stay aside for the next import");
      } else {
        summary.notes.push_back("left " + std::to_string(summary.other_stores) +
                                (summary.other_stores == 1 ? " record" : " records") +
                                " meant for other stores in " + back.string());
      }
    }
    // A writer of an older version, which takes no lock, may have appended to a journal
    // since it was read: such a file stays aside for the next import (which skips what is
    // stored already) rather than losing the lines.
    std::vector<fs::path> removed, kept;
    for (const TakenJournal& t : taken) {
      bool gone = false;
      if (keep_files) {
      } else if (size_of_file(t.file) != t.size) {
        summary.notes.push_back(t.file.string() +
                                " grew while it was imported; it stays for the next import");
      } else if (::unlink(t.file.c_str()) != 0 && errno != ENOENT) {
        summary.notes.push_back("cannot remove " + t.file.string() + ": " + std::strerror(errno));
      } else {
        gone = true;
      }
      (gone ? removed : kept).push_back(t.journal);
    }
    for (const fs::path& j : {journal, fallback}) {
      if (j.empty() || std::find(removed.begin(), removed.end(), j) == removed.end() ||
          std::find(kept.begin(), kept.end(), j) != kept.end()) {
        continue;
      }
      summary.notes.push_back(
          j == journal ? "removed the journal " + j.string() + " (its records are in the store now)"
                       : "took this store's records from the journal " + j.string());
    }
    name_journal();
  }

  // In the importer's order: for trace2, a tree's children before their parent.
  for (const fs::path& done : importer->consumed()) {
    if (::unlink(done.c_str()) == 0 || errno == ENOENT) {
      ++summary.files_removed;
      crash_point("import-trace2-file-removed");
    } else {
      summary.notes.push_back("cannot remove " + done.string() + ": " + std::strerror(errno) +
                              " (importing it again adds nothing)");
    }
  }
  return {};
}

}  // namespace

Status import_records(Store& store, const ImportRequest& request, ImportSummary& summary) {
  ImportTarget target(store);
  return import_into(target, request, summary);
}

Status import_records(const StoreOptions& store, const ImportRequest& request,
                      ImportSummary& summary) {
  ImportTarget target(store);
  return import_into(target, request, summary);
}

// ---------------------------------------------------------------------------------------
// export_records

Result<std::size_t> export_records(Store& store, const ExportRequest& request) {
  std::unique_ptr<Exporter> exporter = make_exporter(request.format);
  OutputFile out;
  if (Status s = out.open(request.output); !s) return s.error();
  StepQuery query;
  query.step = request.step;
  query.since_us = request.since_us;
  query.where_ran = request.filter;
  std::string buffer;
  std::size_t count = 0;
  exporter->begin(request);
  Status read = store.for_each_step(query, [&](StepRecord& r) -> Status {
    exporter->add(r, buffer);
    ++count;
    if (buffer.size() >= (1u << 16)) return out.write(buffer);
    return {};
  });
  if (!read) return read.error();
  exporter->finish(buffer);
  if (Status s = out.write(buffer); !s) return s.error();
  if (Status s = out.close(); !s) return s.error();
  return count;
}

}  // namespace perfguard
