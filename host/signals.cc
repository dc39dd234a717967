#include "host/signals.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "host/logging.h"

namespace ferrite::host {

namespace {

std::mutex g_mu;
std::function<void(int)> g_on_shutdown;  // guarded by g_mu
bool g_stopping = false;                 // guarded by g_mu
std::atomic<int> g_received{0};

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

const char* Name(int sig) { return sig == SIGINT ? "SIGINT" : "SIGTERM"; }

// _exit: other threads may still be inside anything; static destructors must not run
// under them. The loggers share one sink: flushing one writes out every line.
[[noreturn]] void ExitNow(int status) {
  Logger("host")->flush();
  ::_exit(status);
}

void Watch() {
  sigset_t set = ShutdownSignals();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    int n = g_received.fetch_add(1) + 1;
    auto log = Logger("host");
    std::function<void(int)> fn;
    bool stopping = false;
    {
      std::lock_guard lk(g_mu);
      fn = g_on_shutdown;
      stopping = g_stopping;
    }
    if (n > 1 || stopping) {
      log->warn("received {} during shutdown: exiting now", Name(sig));
      ExitNow(1);
    }
    if (!fn) {
      log->warn("received {} before the server was up: exiting", Name(sig));
      ExitNow(0);
    }
    log->warn("received {}, shutting down", Name(sig));
    fn(sig);
  }
}

}  // namespace

void Signals::Start() {
  sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(Watch).detach();
}

void Signals::OnShutdown(std::function<void(int)> fn) {
  std::lock_guard lk(g_mu);
  g_on_shutdown = std::move(fn);
}

void Signals::Stopping() {
  std::lock_guard lk(g_mu);
  g_on_shutdown = nullptr;
  g_stopping = true;
}

void Signals::ResetInChild() {
  sigset_t set = ShutdownSignals();
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace ferrite::host
