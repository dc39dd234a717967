#include "host/slowlog.h"

#include <algorithm>

namespace ferrite::host {

void SlowLog::Push(int argc, const ferrite_slice* argv, const std::vector<int>& redact,
                   int64_t duration_us, int64_t now_s, const std::string& addr,
                   const std::string& name) {
  SlowLogEntry e;
  e.time_s = now_s;
  e.duration_us = duration_us;
  e.addr = addr;
  e.name = name;
  int shown = std::min(argc, kMaxArgc);
  e.argv.reserve(shown);
  for (int j = 0; j < shown; j++) {
    if (shown != argc && j == shown - 1) {
      e.argv.push_back("... (" + std::to_string(argc - shown + 1) + " more arguments)");
    } else if (std::find(redact.begin(), redact.end(), j) != redact.end()) {
      e.argv.emplace_back("(redacted)");
    } else if (argv[j].len > kMaxString) {
      std::string s(argv[j].ptr, kMaxString);
      s += "... (" + std::to_string(argv[j].len - kMaxString) + " more bytes)";
      e.argv.push_back(std::move(s));
    } else {
      e.argv.emplace_back(argv[j].ptr, argv[j].len);
    }
  }
  std::lock_guard lk(mu_);
  e.id = next_id_++;
  entries_.push_front(std::move(e));
  auto max_len = static_cast<size_t>(std::max<int64_t>(0, max_len_->load(std::memory_order_relaxed)));
  while (entries_.size() > max_len) entries_.pop_back();
}

std::vector<SlowLogEntry> SlowLog::Get(int64_t count) const {
  std::lock_guard lk(mu_);
  size_t n = count < 0 ? entries_.size() : std::min<size_t>(entries_.size(), static_cast<size_t>(count));
  return {entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n)};
}

size_t SlowLog::Len() const {
  std::lock_guard lk(mu_);
  return entries_.size();
}

void SlowLog::Reset() {
  std::lock_guard lk(mu_);
  entries_.clear();
}

}  // namespace ferrite::host
