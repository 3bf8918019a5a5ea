#include "git/object_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/sha1.h"
#include "git/index_file.h"

namespace fs = std::filesystem;

namespace perfguard {

namespace {

std::string header(std::string_view type, size_t size) {
  return std::string(type) + " " + std::to_string(size) + '\0';
}

Status write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(ExitCode::step_failed, std::strerror(n < 0 ? errno : EIO));
    done += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

bool uses_sha1_objects(const Repository& repo) {
  std::string config;
  struct stat st {};
  if (!read_whole_file(repo.common_dir() / "config", config, st)) return true;
  std::transform(config.begin(), config.end(), config.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto at = config.find("objectformat");
  return at == std::string::npos || config.find("sha256", at) == std::string::npos;
}

Result<ObjectWriter> ObjectWriter::open(const Repository& repo) {
  if (!uses_sha1_objects(repo)) {
    return make_error(
        ExitCode::refused,
        "this repository uses SHA-256 object ids, which snapshots do not support yet");
  }
  const char* env = std::getenv("GIT_OBJECT_DIRECTORY");
  return ObjectWriter(env && *env ? fs::path(env) : repo.common_dir() / "objects");
}

std::string ObjectWriter::object_id(std::string_view type, std::string_view content) {
  Sha1 sha;
  sha.update(header(type, content.size()));
  sha.update(content);
  return to_hex(sha.finish());
}

Result<std::string> ObjectWriter::write(std::string_view type, std::string_view content) const {
  const std::string oid = object_id(type, content);
  const fs::path dir = objects_ / oid.substr(0, 2);
  const fs::path path = dir / oid.substr(2);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return oid;  // already there: objects never change

  std::string raw = header(type, content.size());
  raw.append(content);
  uLongf size = compressBound(raw.size());
  std::string deflated(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(deflated.data()), &size,
                reinterpret_cast<const Bytef*>(raw.data()), raw.size(), Z_BEST_SPEED) != Z_OK) {
    return make_error(ExitCode::step_failed, "cannot compress object " + oid);
  }
  deflated.resize(size);

  auto failed = [&](const std::string& what, int err) {
    return make_error(ExitCode::step_failed,
                      "cannot write object " + oid + ": " + what + ": " + std::strerror(err));
  };
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) return failed(dir.string(), errno);
  std::string temp = (dir / "tmp_obj_XXXXXX").string();
  int fd = ::mkstemp(temp.data());
  if (fd < 0) return failed(dir.string(), errno);
  Status written = write_all(fd, deflated);
  const int write_errno = errno;
  if (::close(fd) != 0 && written)
    written = make_error(ExitCode::step_failed, std::strerror(errno));
  if (!written) {
    ::unlink(temp.c_str());
    return failed(temp, write_errno);
  }
  ::chmod(temp.c_str(), 0444);
  // link() never replaces: a concurrent writer of the same object wins harmlessly.
  if (::link(temp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    const int err = errno;
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      ::unlink(temp.c_str());
      return failed(path.string(), err);
    }
    return oid;
  }
  ::unlink(temp.c_str());
  return oid;
}

Result<std::string> ObjectWriter::write_blob(std::string_view content) const {
  return write("blob", content);
}

Result<std::string> ObjectWriter::write_tree(std::vector<TreeEntry> entries) const {
  // git sorts tree entries by name, a directory's name compared as if it ended in '/'.
  auto key = [](const TreeEntry& e) { return e.mode == "40000" ? e.name + "/" : e.name; };
  std::sort(entries.begin(), entries.end(),
            [&](const TreeEntry& a, const TreeEntry& b) { return key(a) < key(b); });
  std::string content;
  for (const auto& e : entries) {
    content += e.mode + " " + e.name + '\0';
    for (size_t i = 0; i + 1 < e.oid.size(); i += 2) {
      content.push_back(static_cast<char>(std::stoi(e.oid.substr(i, 2), nullptr, 16)));
    }
  }
  return write("tree", content);
}

Result<std::string> ObjectWriter::write_commit(const std::string& tree,
                                               const std::vector<std::string>& parents,
                                               const std::string& identity, std::int64_t time_s,
                                               const std::string& message) const {
  std::string content = "tree " + tree + "\n";
  for (const auto& p : parents) content += "parent " + p + "\n";
  const std::string signature = identity + " " + std::to_string(time_s) + " +0000\n";
  content += "author " + signature + "committer " + signature + "\n" + message;
  return write("commit", content);
}

}  // namespace perfguard
