#pragma once

namespace perfguard {

// Fault injection for the crash-safety tests: when PERFGUARD_TEST_FAULT names `point`, the
// process kills itself there with SIGKILL, as a power cut or `kill -9` would; given as
// "POINT:INT", it sends itself SIGINT, as Ctrl-C would; as "POINT:STOP", SIGSTOP, so that a
// test can change the repository at that instant and let it go on with SIGCONT. Costs one
// getenv() per process.
void crash_point(const char* point);

}  // namespace perfguard
