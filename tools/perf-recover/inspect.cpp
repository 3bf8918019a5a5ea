#include "inspect.h"

#include <system_error>

namespace perfguard::recover_tool {

Result<std::filesystem::path> inspected_work_tree(const ToolSession& session,
                                                  const std::string& command) {
  const Repository& repo = session.repository;
  if (repo.bare()) {
    return make_error(ExitCode::usage, repo.git_dir().string() +
                                           " is a bare repository: " + command +
                                           " needs a work tree (run it in a clone with one)");
  }
  return *repo.work_tree();
}

Result<std::optional<Store>> existing_store(const ToolSession& session) {
  const std::filesystem::path path = session.store_path();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<Store>();
  auto store = Store::open({path, session.config.busy_timeout, false});
  if (!store) return store.error();
  return std::optional<Store>(std::move(*store));
}

}  // namespace perfguard::recover_tool
