#pragma once
// Internal to lib/exchange: reading inputs and the checks every importer shares.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/json_reader.h"
#include "core/result.h"
#include "exchange/exchange.h"

namespace perfguard::exchange {

// What a reader returns when Ctrl-C (or SIGTERM, SIGHUP) stopped it: ExitCode::interrupted.
Error interrupted_error();

// "stdin" for "-", else the path as given.
std::string display_name(const std::filesystem::path& input);

// Reads a file (or stdin, "-") line by line through a large buffer: the lines are views
// into it, valid until the next call. A final line without a newline is still a line; a
// trailing \r is dropped. At SIGINT, SIGTERM or SIGHUP (received_interrupt()) it stops, also
// while it waits for a pipe's writer, with status() ExitCode::interrupted.
class LineReader {
 public:
  LineReader() = default;
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  Status open(const std::filesystem::path& input);
  // The next line; false at the end of the input or on a read error (see status()).
  bool next(std::string_view& line);
  std::size_t line_number() const { return line_; }
  const Status& status() const { return status_; }

 private:
  bool fill();
  int fd_ = -1;
  bool owned_ = false;
  std::string name_;
  std::string buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  bool stream_ = false;  // a pipe, FIFO or terminal: it may keep us waiting
  std::size_t line_ = 0;
  Status status_;
};

// The whole input (a file or stdin) in memory.
Result<std::string> read_input(const std::filesystem::path& input);

// The 1-based line of a byte offset in `text`.
std::size_t line_at(std::string_view text, std::size_t offset);

// Fills the context fields the record's input did not carry from the import's context.
// `present` has bit i set when kContextFields[i] (trace/record.h) was in the input.
void fill_context(RunContext& context, unsigned present, const RunContext& defaults);

// Parses 1 to 16 hex digits (not all zero) as a trace id.
std::optional<std::uint64_t> parse_trace_id(std::string_view hex);

// Parses a whole decimal integer.
std::optional<std::int64_t> parse_int(std::string_view text);

// The bounds every imported record is held to, whatever its format, so that no sum or
// mean of them can overflow and no stored number is nonsense: durations and thresholds
// 0 to 7 days; start times from 1970 to the end of 9999; CPU times 0 to 2^46 µs (about
// 2 years); peak memory 0 to 2^40 KiB (1 PiB); exit codes -255 to 255.
inline constexpr std::int64_t kMaxDurationUs = 7LL * 24 * 3600 * 1000000;
inline constexpr std::int64_t kMaxStartUs = 253402300799999999;  // 9999-12-31T23:59:59.999999Z
inline constexpr std::int64_t kMaxCpuUs = std::int64_t{1} << 46;
inline constexpr std::int64_t kMaxRssKb = std::int64_t{1} << 40;
inline constexpr int kMaxExitCode = 255;

// The first field of `record` (or of one of its spans) out of those bounds, as
// `"duration_us" must be between 0 and 604800000000 (7 days)`; nullopt when all are in.
std::optional<std::string> out_of_bounds(const StepRecord& record);

}  // namespace perfguard::exchange
