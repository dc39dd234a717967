// LATENCY: Redis' latency monitor (latency.c). Each named event (command, fast-command,
// expire-cycle, eviction-cycle, aof-*, ...) keeps its last 160 samples of (unix second,
// milliseconds), one per second (the worst of that second), and its all-time maximum.
// A sample is recorded only when latency-monitor-threshold is non-zero and the event
// lasted at least that many milliseconds: Wants() is the one relaxed load paid when off.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace ferrite::host {

class LatencyMonitor {
 public:
  static constexpr int kSamples = 160;  // LATENCY_TS_LEN
  struct Sample {
    int64_t time_s = 0;
    uint32_t ms = 0;
  };
  struct Series {
    int idx = 0;
    uint32_t max = 0;
    std::array<Sample, kSamples> samples{};
    const Sample& Last() const { return samples[(idx + kSamples - 1) % kSamples]; }
    // Oldest first, empty slots skipped.
    std::vector<Sample> InOrder() const;
  };

  explicit LatencyMonitor(const std::atomic<int64_t>* threshold_ms) : threshold_(threshold_ms) {}

  bool Wants(int64_t ms) const {
    int64_t t = threshold_->load(std::memory_order_relaxed);
    return t > 0 && ms >= t;
  }
  int64_t threshold_ms() const { return threshold_->load(std::memory_order_relaxed); }
  // latencyAddSampleIfNeeded.
  void AddIfNeeded(const char* event, int64_t ms, int64_t now_s) {
    if (Wants(ms)) Add(event, ms, now_s);
  }
  void Add(const std::string& event, int64_t ms, int64_t now_s);
  // Every event's series (a copy), in name order.
  std::map<std::string, Series> Snapshot() const;
  bool Find(const std::string& event, Series* out) const;
  // Drops one event (or all with an empty name); returns how many were dropped.
  int Reset(const std::string& event);

 private:
  const std::atomic<int64_t>* threshold_;
  mutable std::mutex mu_;
  std::map<std::string, Series> events_;
};

// Times a scope as one `event` sample (expire-cycle, eviction-cycle, aof-write, ...).
// With the monitor off it reads the threshold once and never the clock.
class LatencyScope {
 public:
  LatencyScope(LatencyMonitor* m, const char* event)
      : m_(m && m->threshold_ms() > 0 ? m : nullptr), event_(event) {
    if (m_) t0_ = std::chrono::steady_clock::now();
  }
  ~LatencyScope() {
    if (!m_) return;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - t0_).count();
    auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
    m_->AddIfNeeded(event_, ms, now_s);
  }
  LatencyScope(const LatencyScope&) = delete;
  LatencyScope& operator=(const LatencyScope&) = delete;

 private:
  LatencyMonitor* m_;
  const char* event_;
  std::chrono::steady_clock::time_point t0_{};
};

// LATENCY GRAPH's text for one series (Redis' sparkline, 80 columns, 4 rows).
std::string LatencyGraph(const std::string& event, const LatencyMonitor::Series& s, int64_t now_s);

}  // namespace ferrite::host
