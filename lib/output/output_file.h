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
//
// Only a regular file, or a path where nothing is yet, is replaced that way. A symlink is
// followed: what it points to is written (the link stays a link). A FIFO or a character
// device (/dev/null, a terminal) is written in place, as the shell's `>` would, never
// replaced by a regular file; its write errors (ENOSPC from /dev/full) are errors. A
// directory, block device or socket is refused.
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
  std::string tmp_;  // empty when written in place
};

// OutputFile for one piece of text.
Status write_file_atomically(const std::filesystem::path& target, std::string text);

}  // namespace perfguard
