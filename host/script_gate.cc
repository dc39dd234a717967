#include "host/script_gate.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "host/host.h"
#include "host/net.h"

namespace ferrite::host {

namespace {

// Waits re-check their stop condition at least this often, so a shutdown that raced
// with the notification is still seen.
constexpr auto kRecheck = std::chrono::milliseconds(50);

}  // namespace

void ScriptGate::Begin() {
  std::lock_guard lk(mu_);
  running_ = true;
}

void ScriptGate::End() {
  std::vector<std::function<void()>> deferred;
  {
    std::lock_guard lk(mu_);
    running_ = false;
    deferred.swap(deferred_);
  }
  cv_.notify_all();
  for (auto& fn : deferred) fn();
}

void ScriptGate::WaitWhileYoung(int64_t deadline_ms, bool (*stop)(void*), void* arg) {
  std::unique_lock lk(mu_);
  while (running_ && !stop(arg)) {
    int64_t left = deadline_ms - Clock::RealUs() / 1000;
    if (left <= 0) return;
    cv_.wait_for(lk, std::min<std::chrono::milliseconds>(std::chrono::milliseconds(left),
                                                         kRecheck));
  }
}

bool ScriptGate::RunInScriptYield(const std::function<void()>& fn, bool (*stop)(void*),
                                  void* arg) {
  Handoff h{&fn};
  std::unique_lock lk(mu_);
  if (!running_) return false;
  handoffs_.push_back(&h);
  // A taken handoff is always finished: the script's thread runs it before its yield
  // returns, so before the script can end.
  while (!h.done && (h.taken || (running_ && !stop(arg))))
    cv_.wait_for(lk, kRecheck);
  if (!h.taken) std::erase(handoffs_, &h);
  return h.done;
}

void ScriptGate::RunHandoffs() {
  std::vector<Handoff*> batch;
  {
    std::lock_guard lk(mu_);
    if (handoffs_.empty()) return;
    batch.swap(handoffs_);
    for (auto* h : batch) h->taken = true;
  }
  for (auto* h : batch) {
    try {
      (*h->fn)();
    } catch (...) {
      // The handler's own barrier (RunHandler) replies errors; nothing may escape here
      // and leave the waiter blocked.
    }
  }
  {
    std::lock_guard lk(mu_);
    for (auto* h : batch) h->done = true;
  }
  cv_.notify_all();
}

bool ScriptGate::DeferUntilEnd(std::function<void()> fn) {
  std::lock_guard lk(mu_);
  if (!running_) return false;
  deferred_.push_back(std::move(fn));
  return true;
}

void ScriptGate::Wake() { cv_.notify_all(); }

// ------------------------------- the host's side ----------------------------------------

bool Host::StopRequested(void* host) {
  return static_cast<Host*>(host)->shutting_down.load(std::memory_order_relaxed);
}

bool Host::ScriptBusy(std::string_view* text) {
  bool in_yield = ServingWhileBusy();
  int64_t since = script_started_ms.load(std::memory_order_relaxed);
  if (!in_yield && since == 0) return false;
  // A fresh reading, not the per-read cached one: a worker that waited for the script
  // must see the threshold pass even within one batch of pipelined commands.
  if (!in_yield &&
      clock_.FreshMs() - since < busy_threshold_->load(std::memory_order_relaxed))
    return false;
  *text = script_busy_kind.load(std::memory_order_relaxed) == 2
              ? "BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                "SHUTDOWN NOSAVE."
              : "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                "SHUTDOWN NOSAVE.";
  return true;
}

void Host::WaitForYoungScript(bool until_end) {
  int64_t since = script_started_ms.load(std::memory_order_relaxed);
  if (since == 0) return;
  int64_t deadline = until_end ? std::numeric_limits<int64_t>::max()
                               : since + busy_threshold_->load(std::memory_order_relaxed);
  script_gate_.WaitWhileYoung(deadline, &Host::StopRequested, this);
}

}  // namespace ferrite::host
