#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

#include "core/result.h"

namespace perfguard {

// A file written whole or not at all: the text goes to a temporary file beside the target
// (mode 0666 less the umask, since such files are meant to be read by others, such as
// node_exporter), renamed into place by close(). A dropped OutputFile removes its
// temporary file. The target "-" (or empty) is standard output.
class OutputFile {
 public:
  OutputFile() = default;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();

  Status open(const std::filesystem::path& target);
  // Writes the text and clears it (so a caller can reuse its buffer).
  Status write(std::string& text);
  Status close();

 private:
  Error failure(int err) const;
  std::FILE* file_ = nullptr;
  std::string name_;
  std::filesystem::path target_;
  std::string tmp_;
};

// OutputFile for one piece of text.
Status write_file_atomically(const std::filesystem::path& target, std::string text);

}  // namespace perfguard
