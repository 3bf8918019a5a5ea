#pragma once
// Shared by the fuzz targets: the readers that take a path get the fuzzer's bytes through
// a scratch file, and the importers hand what they read to a sink that keeps nothing.

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "exchange/exchange.h"

namespace perfguard::fuzz {

// A private directory under $TMPDIR (else /tmp), removed when the process ends.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/perfguard-fuzz.XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline const ScratchDir& scratch_dir() {
  static ScratchDir dir;
  return dir;
}

// Writes `bytes` to `path`, replacing what was there.
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    std::abort();
  }
  if (std::fclose(f) != 0) std::abort();
}

// Writes the input to one scratch file (always the same one) and returns its path.
inline std::filesystem::path scratch_file(const std::uint8_t* data, std::size_t size,
                                          const char* name = "input") {
  std::filesystem::path path = scratch_dir().path() / name;
  write_file(path, std::string_view(reinterpret_cast<const char*>(data), size));
  return path;
}

// Accepts every record and every problem: a bad line is an answer, not a finding.
class DiscardSink : public ImportSink {
 public:
  Status record(StepRecord&) override {
    ++records;
    return {};
  }
  bool problem(ImportProblem) override {
    ++problems;
    return true;
  }
  std::size_t records = 0;
  std::size_t problems = 0;
};

// Reads the input with `format`'s importer, from a file as `perf-baseline import --format
// FORMAT FILE` reads it, into a DiscardSink: the whole body of the plain importer targets.
inline void import_discarding(ImportFormat format, const std::uint8_t* data, std::size_t size) {
  auto importer = make_importer(format);
  ImportOptions options;
  options.now_us = 1764460800000000;  // 2025-11-30
  DiscardSink sink;
  Status status = importer->read(scratch_file(data, size), options, sink);
  (void)status;
}

}  // namespace perfguard::fuzz
