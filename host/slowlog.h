// SLOWLOG: the commands that ran longer than slowlog-log-slower-than microseconds, newest
// first, at most slowlog-max-len of them (Redis' slowlog.c semantics: ids count up from
// 0 across RESET; arguments past the 32nd and bytes past the 128th of an argument are
// summarised). A memcached request is one entry in its own words (see RequestScope in
// introspection.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::host {

struct SlowLogEntry {
  int64_t id;
  int64_t time_s;       // unix seconds when it was logged
  int64_t duration_us;
  std::vector<std::string> argv;  // already trimmed and redacted
  std::string addr, name;
};

class SlowLog {
 public:
  SlowLog(const std::atomic<int64_t>* slower_than, const std::atomic<int64_t>* max_len)
      : slower_than_(slower_than), max_len_(max_len) {}

  // The hot-path test: one relaxed load and a compare.
  bool Wants(int64_t duration_us) const {
    int64_t t = slower_than_->load(std::memory_order_relaxed);
    return t >= 0 && duration_us >= t;
  }
  // Adds an entry (the caller checked Wants) and trims to slowlog-max-len. `redact`
  // lists argument indexes shown as "(redacted)".
  void Push(int argc, const ferrite_slice* argv, const std::vector<int>& redact,
            int64_t duration_us, int64_t now_s, const std::string& addr,
            const std::string& name);
  // Up to `count` entries, newest first (count < 0: all).
  std::vector<SlowLogEntry> Get(int64_t count) const;
  size_t Len() const;
  void Reset();

  static constexpr int kMaxArgc = 32;      // Redis' SLOWLOG_ENTRY_MAX_ARGC
  static constexpr size_t kMaxString = 128;  // SLOWLOG_ENTRY_MAX_STRING

 private:
  const std::atomic<int64_t>* slower_than_;
  const std::atomic<int64_t>* max_len_;
  mutable std::mutex mu_;
  std::deque<SlowLogEntry> entries_;  // front = newest
  int64_t next_id_ = 0;
};

}  // namespace ferrite::host
