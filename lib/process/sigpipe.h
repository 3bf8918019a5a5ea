#pragma once
// SIGPIPE blocked in this thread while it lives, so that a write to a pipe or socket whose
// reader went away shows up as EPIPE instead of killing the tool: the runner's writes to a
// child's stdin and to our stderr, a webhook's request (libcurl is told not to touch
// signals). A SIGPIPE raised meanwhile is discarded; one already pending before stays.

#include <pthread.h>
#include <signal.h>
#include <time.h>

namespace perfguard {

class SigpipeBlock {
 public:
  explicit SigpipeBlock(bool active) : active_(active) {
    if (!active_) return;
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SigpipeBlock() {
    if (!active_) return;
    if (!was_pending_) {
      // Discard a SIGPIPE our own writes raised; one that was pending before stays.
      const struct timespec zero {};
      while (sigtimedwait(&set_, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  bool active_;
  bool was_pending_ = false;
  sigset_t set_{};
  sigset_t old_{};
};

}  // namespace perfguard
