// Per-command latency distribution for INFO latencystats (Redis 7 keeps an HDR
// histogram per command and reports p50/p99/p99.9). Log-linear buckets over TSC cycles
// (the unit commandstats already measures in): exact below 8, then 8 buckets per power
// of two, so a reported percentile is within 12.5% of the true one. Lock-free: workers
// add with relaxed atomics, INFO reads a snapshot that may miss in-flight calls.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace ferrite::host {

class LatencyHistogram {
 public:
  void Record(uint64_t cycles) {
    buckets_[Index(cycles)].fetch_add(1, std::memory_order_relaxed);
  }
  // The highest value (cycles) of the bucket holding the `pct` percentile (0 < pct <=
  // 100) of what was recorded, as HDR's value_at_percentile; 0 when nothing was.
  uint64_t ValueAtPercentile(double pct) const {
    uint64_t total = 0;
    for (auto& b : buckets_) total += b.load(std::memory_order_relaxed);
    if (total == 0) return 0;
    auto rank = static_cast<uint64_t>(pct / 100.0 * static_cast<double>(total) + 0.5);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; i++) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= rank) return HighestOf(i);
    }
    return HighestOf(kBuckets - 1);
  }
  uint64_t Count() const {
    uint64_t total = 0;
    for (auto& b : buckets_) total += b.load(std::memory_order_relaxed);
    return total;
  }
  // How many recorded values fall in buckets whose highest value is <= `cycles`.
  uint64_t CountAtMost(uint64_t cycles) const {
    uint64_t n = 0;
    for (int i = 0; i < kBuckets && HighestOf(i) <= cycles; i++)
      n += buckets_[i].load(std::memory_order_relaxed);
    return n;
  }
  void Reset() {
    for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
  }

 private:
  static constexpr int kSubBits = 3, kSub = 1 << kSubBits;
  static constexpr int kMaxExp = 48;  // 2^48 cycles: about a day at 3 GHz
  static constexpr int kBuckets = kSub + (kMaxExp - kSubBits + 1) * kSub;

  static int Index(uint64_t v) {
    if (v < kSub) return static_cast<int>(v);
    int e = 63 - __builtin_clzll(v);
    if (e > kMaxExp) return kBuckets - 1;
    int sub = static_cast<int>((v >> (e - kSubBits)) & (kSub - 1));
    return kSub + (e - kSubBits) * kSub + sub;
  }
  static uint64_t HighestOf(int i) {
    if (i < kSub) return static_cast<uint64_t>(i);
    int e = (i - kSub) / kSub + kSubBits, sub = (i - kSub) % kSub;
    uint64_t width = uint64_t{1} << (e - kSubBits);
    return (uint64_t{1} << e) + static_cast<uint64_t>(sub) * width + width - 1;
  }

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
};

}  // namespace ferrite::host
