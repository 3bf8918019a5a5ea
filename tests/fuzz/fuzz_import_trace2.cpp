// The trace2 importer on arbitrary bytes: git's trace2 event files, one per git process, in
// a directory (`perf-baseline import --format trace2 DIR`). The input is cut at NUL bytes
// (which event files never hold) into up to eight files, so that parent and child
// processes and their links are exercised too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "exchange/exchange.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace perfguard;
  namespace fs = std::filesystem;
  const fs::path dir = fuzz::scratch_dir().path() / "trace2";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directory(dir, ec);
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < 8; ++i) {
    const std::size_t cut = i == 7 ? std::string_view::npos : rest.find('\0');
    fuzz::write_file(dir / ("sid-" + std::to_string(i)), rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  auto importer = make_importer(ImportFormat::trace2);
  ImportOptions options;
  // Well after the files were written: every file counts as settled, none is deferred for
  // being recent.
  options.now_us = 4102444800000000;  // 2100-01-01
  fuzz::DiscardSink sink;
  Status status = importer->read(dir, options, sink);
  (void)status;
  return 0;
}
