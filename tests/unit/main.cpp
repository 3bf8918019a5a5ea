#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdlib>

namespace {

// No unit test reads or writes the state directory of the user running the tests (where
// the fallback journal is); a test that needs one sets its own.
const bool state_directory_isolated = [] {
  ::setenv("XDG_STATE_HOME", PERFGUARD_TEST_TMP "/state", 1);
  return true;
}();

}  // namespace
