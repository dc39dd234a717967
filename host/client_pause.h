// Client pauses (Redis' pauseClients): CLIENT PAUSE, and the write pauses FAILOVER and
// SHUTDOWN hold while they wait for the replicas. Each purpose has its own type (WRITE
// or ALL) and end time; the pause in force is the most restrictive type among those not
// yet ended, until the furthest end among them.
//
// While a pause is in force, dispatch parks the commands it holds (Redis'
// BLOCKED_POSTPONE): under ALL every command of every client but replicas; under WRITE
// writes and "may-replicate" commands (EVAL/FCALL of a script that may write, PUBLISH,
// PFCOUNT), and an EXEC with one queued. Expiry and eviction stand still too: a key
// past its time reads as missing but is not deleted until the pause ends. When the pause
// becomes less restrictive (it ended, was lifted, or went ALL -> WRITE) every parked
// client runs its command again, in arrival order, and may be parked again.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace ferrite::host {

class Host;
struct Client;

enum class PauseType : int { kOff = 0, kWrite = 1, kAll = 2 };
enum class PausePurpose : int { kClientCommand = 0, kShutdown = 1, kFailover = 2 };

class ClientPause {
 public:
  explicit ClientPause(Host* h) : h_(h) {}

  // The pause in force, as last computed: one relaxed load (the per-command check).
  PauseType Type() const { return static_cast<PauseType>(type_.load(std::memory_order_relaxed)); }
  // The pause in force at now_ms: one that has ended is lifted first (its parked clients
  // run again). Redis' checkClientPauseTimeoutAndReturnIfPaused.
  PauseType Current(int64_t now_ms);
  bool Paused(int64_t now_ms) { return Current(now_ms) != PauseType::kOff; }

  // Pauses `purpose` until end_ms (absolute, ms) with `type`. A purpose already paused
  // keeps the later end and the more restrictive type, as Redis' pauseClients.
  void Pause(PausePurpose purpose, int64_t end_ms, PauseType type);
  // Lifts `purpose`'s pause (nothing if it had none).
  void Unpause(PausePurpose purpose);

  // Parks `c`, already blocked by dispatch (BlockClient), until the pause becomes less
  // restrictive. A RESP client then runs its command again; a memcached connection is
  // woken and its protocol re-reads the request it left unconsumed.
  void Park(const std::shared_ptr<Client>& c);

  // The end of the pause in force (ms; 0 when none).
  int64_t EndMs() const { return end_ms_.load(std::memory_order_relaxed); }

 private:
  struct Event {
    bool active = false;
    PauseType type = PauseType::kOff;
    int64_t end_ms = 0;
  };
  static constexpr int kPurposes = 3;

  // Recomputes the pause in force (mu_ held); returns the clients to wake when it became
  // less restrictive.
  std::vector<std::weak_ptr<Client>> UpdateLocked(int64_t now_ms);
  void Wake(std::vector<std::weak_ptr<Client>> parked);

  Host* h_;
  std::mutex mu_;
  Event events_[kPurposes];
  std::vector<std::weak_ptr<Client>> parked_;  // arrival order (mu_)
  std::atomic<int> type_{0};
  std::atomic<int64_t> end_ms_{0};
};

}  // namespace ferrite::host
