#pragma once

namespace perfguard {

// Fault injection for the crash-safety tests: when PERFGUARD_TEST_FAULT names `point`, the
// process kills itself there with SIGKILL, as a power cut or `kill -9` would, or, given as
// "POINT:INT", sends itself SIGINT, as Ctrl-C would. Costs one getenv() per process.
void crash_point(const char* point);

}  // namespace perfguard
