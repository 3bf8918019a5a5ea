// load_config with the input as the --config file: the path every tool takes (toml++ and
// then our own checks of keys, types and values).
#include <cstddef>
#include <cstdint>

#include "config/config.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace perfguard;
  ConfigSources sources;
  sources.explicit_file = fuzz::scratch_file(data, size, "config.toml");
  auto config = load_config(sources);
  (void)config;
  return 0;
}
