// The rest of the server while a script runs on one worker thread.
//
// Redis runs a script on its only thread: until busy-reply-threshold nobody else is
// served; after it, every client gets -BUSY except for the ALLOW_BUSY commands, which the
// script's event-loop yield serves. Ferrite's other workers reproduce that instead of
// piling up on the shard locks the script holds (which would freeze their every
// connection until the script ends):
//   - a command waits at the gate (WaitWhileYoung) until the script ends or passes the
//     threshold, then gets BUSY from the dispatcher unless it is ALLOW_BUSY;
//   - a command with keys that is ALLOW_BUSY (WATCH) is handed to the script's own
//     thread, which runs it between two Lua instructions at its next yield (RunHandoffs),
//     so it reads a consistent keyspace without taking the locks;
//   - blocked-client retries wait for the script's end (DeferUntilEnd), as Redis serves
//     no blocked client while a script runs.
// Every wait also ends at shutdown (Wake).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace ferrite::host {

class ScriptGate {
 public:
  // script_set_busy: a script starts (on the calling thread) / ends.
  void Begin();
  void End();
  bool running() const {
    std::lock_guard lk(mu_);
    return running_;
  }

  // Waits while a script runs on another thread, until it ends, `deadline_ms` (wall
  // clock, the script's start plus busy-reply-threshold) passes or `stop()` is true.
  void WaitWhileYoung(int64_t deadline_ms, bool (*stop)(void*), void* arg);

  // Runs `fn` on the script's thread at its next yield and waits for it. Returns false,
  // without running it, if no script runs or the script ends first: the caller then
  // runs it itself, taking locks as usual.
  bool RunInScriptYield(const std::function<void()>& fn, bool (*stop)(void*), void* arg);
  // Called by the script's thread from inside its yield.
  void RunHandoffs();

  // Queues `fn` until the running script ends; false (not queued) when none runs.
  bool DeferUntilEnd(std::function<void()> fn);

  // Wakes every waiter so it re-checks its stop condition (shutdown).
  void Wake();

 private:
  struct Handoff {
    const std::function<void()>* fn;
    bool taken = false;
    bool done = false;
  };
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool running_ = false;
  std::vector<Handoff*> handoffs_;
  std::vector<std::function<void()>> deferred_;
};

}  // namespace ferrite::host
