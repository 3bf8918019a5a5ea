#include "store/postgres/libpq.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace perfguard::pq {

namespace {

Libpq loaded;
std::string load_error = "not loaded";  // empty once loaded

void load() {
  // Its own namespace of symbols: nothing else in the program sees libpq's. Bound lazily, as
  // a program linked with libpq is: binding all of libpq and the twenty libraries it brings
  // (OpenSSL, Kerberos, LDAP, GnuTLS…) up front cost 1.5 ms more of every command's
  // 4.5 ms load; the functions used are looked up, and checked, one by one below.
  void* handle = dlopen("libpq.so.5", RTLD_LAZY | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    load_error = "the PostgreSQL client library libpq.so.5 cannot be loaded (install libpq5): " +
                 std::string(why ? why : "not found");
    return;
  }
#define PERFGUARD_LIBPQ_RESOLVE(name)                                      \
  loaded.name = reinterpret_cast<decltype(&::name)>(dlsym(handle, #name)); \
  if (!loaded.name) {                                                      \
    load_error = "the PostgreSQL client library libpq.so.5 has no " #name  \
                 ": install libpq5 "                                       \
                 "15 or newer";                                            \
    return;                                                                \
  }
  PERFGUARD_LIBPQ_FUNCTIONS(PERFGUARD_LIBPQ_RESOLVE)
#undef PERFGUARD_LIBPQ_RESOLVE
  load_error.clear();
}

}  // namespace

Status load_libpq() {
  static std::once_flag once;
  std::call_once(once, load);
  if (!load_error.empty()) return Error{ExitCode::store, load_error};
  return {};
}

const Libpq& libpq() {
  return loaded;
}

}  // namespace perfguard::pq
