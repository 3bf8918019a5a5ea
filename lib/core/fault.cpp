#include "core/fault.h"

#include <csignal>
#include <cstdlib>
#include <cstring>

namespace perfguard {

void crash_point(const char* point) {
  static const char* fault = std::getenv("PERFGUARD_TEST_FAULT");
  if (fault == nullptr) return;
  const std::size_t n = std::strlen(point);
  if (std::strncmp(fault, point, n) != 0) return;
  if (fault[n] == '\0') std::raise(SIGKILL);
  if (std::strcmp(fault + n, ":INT") == 0) std::raise(SIGINT);
  if (std::strcmp(fault + n, ":STOP") == 0) std::raise(SIGSTOP);
}

}  // namespace perfguard
