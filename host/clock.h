// The host clock. Everything that asks "what time is it" (expiry, blocked-client
// deadlines, LRU, TIME) asks this object, so tests move time instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace ferrite::host {

class Clock {
 public:
  // Wall-clock milliseconds since the Unix epoch (expiry is absolute unix ms).
  int64_t NowMs() const { return NowUs() / 1000; }
  int64_t NowUs() const {
    int64_t frozen = frozen_us_.load(std::memory_order_relaxed);
    if (frozen != 0) return frozen;
    if (tls_batch_us_ != 0) return tls_batch_us_;
    return RealUs();
  }
  // Now, ignoring the per-read cache (still frozen in tests).
  int64_t FreshMs() const {
    int64_t frozen = frozen_us_.load(std::memory_order_relaxed);
    return (frozen != 0 ? frozen : RealUs()) / 1000;
  }
  static int64_t RealUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // While a Batch lives, this thread reads the time taken when it began: every command
  // of one network read sees one "now" (as Redis caches mstime per event-loop turn), and
  // the hot path makes one clock call per batch instead of several per command.
  class Batch {
   public:
    Batch() : outer_(tls_batch_us_) { tls_batch_us_ = RealUs(); }
    ~Batch() { tls_batch_us_ = outer_; }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    int64_t outer_;
  };
  // Test control: freeze the clock at its current reading, then move it.
  void Freeze() { frozen_us_.store(NowUs(), std::memory_order_relaxed); }
  void Advance(int64_t ms) { frozen_us_.fetch_add(ms * 1000, std::memory_order_relaxed); }
  bool frozen() const { return frozen_us_.load(std::memory_order_relaxed) != 0; }

 private:
  std::atomic<int64_t> frozen_us_{0};
  static inline thread_local int64_t tls_batch_us_ = 0;
};

}  // namespace ferrite::host
