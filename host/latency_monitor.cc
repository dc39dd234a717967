#include "host/latency_monitor.h"

#include <algorithm>

namespace ferrite::host {

std::vector<LatencyMonitor::Sample> LatencyMonitor::Series::InOrder() const {
  std::vector<Sample> out;
  for (int j = 0; j < kSamples; j++) {
    const Sample& s = samples[(idx + j) % kSamples];
    if (s.time_s != 0) out.push_back(s);
  }
  return out;
}

void LatencyMonitor::Add(const std::string& event, int64_t ms, int64_t now_s) {
  auto v = static_cast<uint32_t>(std::clamp<int64_t>(ms, 0, UINT32_MAX));
  std::lock_guard lk(mu_);
  Series& ts = events_[event];
  ts.max = std::max(ts.max, v);
  Sample& prev = ts.samples[(ts.idx + kSamples - 1) % kSamples];
  if (prev.time_s == now_s) {  // one sample per second: the worst of it
    prev.ms = std::max(prev.ms, v);
    return;
  }
  ts.samples[ts.idx] = {now_s, v};
  ts.idx = (ts.idx + 1) % kSamples;
}

std::map<std::string, LatencyMonitor::Series> LatencyMonitor::Snapshot() const {
  std::lock_guard lk(mu_);
  return events_;
}

bool LatencyMonitor::Find(const std::string& event, Series* out) const {
  std::lock_guard lk(mu_);
  auto it = events_.find(event);
  if (it == events_.end()) return false;
  *out = it->second;
  return true;
}

int LatencyMonitor::Reset(const std::string& event) {
  std::lock_guard lk(mu_);
  if (event.empty()) {
    int n = static_cast<int>(events_.size());
    events_.clear();
    return n;
  }
  // Redis compares event names without case here.
  int n = 0;
  for (auto it = events_.begin(); it != events_.end();) {
    bool same = it->first.size() == event.size() &&
                std::equal(it->first.begin(), it->first.end(), event.begin(), [](char a, char b) {
                  return std::tolower(static_cast<unsigned char>(a)) ==
                         std::tolower(static_cast<unsigned char>(b));
                });
    if (same) {
      it = events_.erase(it);
      n++;
    } else {
      ++it;
    }
  }
  return n;
}

}  // namespace ferrite::host

namespace ferrite::host {

namespace {

// One band of a sparkline (Redis' sparklineRenderRange with SPARKLINE_FILL): `rows`
// rows of "_o#" steps, '|' below the top of a column, then the labels written
// vertically under their column after one blank row.
void RenderRange(std::string& out, const std::vector<std::pair<double, std::string>>& seq,
                 double min, double max, int rows, size_t offset, size_t len) {
  static constexpr char kFill[] = "_o#";
  constexpr int kCharset = 3;
  double relmax = max - min;
  if (relmax == 0) relmax = 1;
  int steps = kCharset * rows;
  bool labels = false;
  for (auto& s : seq) labels |= !s.second.empty();
  std::string chars(len, ' ');
  for (int row = 0;; row++) {
    bool loop = false;
    std::fill(chars.begin(), chars.end(), ' ');
    for (size_t j = 0; j < len; j++) {
      const auto& [value, label] = seq[offset + j];
      int step = static_cast<int>(((value - min) * steps) / relmax);
      step = std::clamp(step, 0, steps - 1);
      if (row < rows) {
        int idx = step - ((rows - row - 1) * kCharset);
        loop = true;
        if (idx >= 0 && idx < kCharset) chars[j] = kFill[idx];
        else if (idx >= kCharset) chars[j] = '|';
      } else {
        if (labels && row - rows < 1) {  // the blank row above the labels
          loop = true;
          break;
        }
        int label_char = row - rows - 1;
        if (static_cast<int>(label.size()) > label_char) {
          loop = true;
          chars[j] = label[label_char];
        }
      }
    }
    if (!loop) break;
    out += chars;
    out += '\n';
  }
}

}  // namespace

std::string LatencyGraph(const std::string& event, const LatencyMonitor::Series& s,
                         int64_t now_s) {
  std::vector<std::pair<double, std::string>> seq;
  uint32_t lo = 0, hi = 0;
  for (const auto& smp : s.InOrder()) {
    if (seq.empty()) lo = hi = smp.ms;
    lo = std::min(lo, smp.ms);
    hi = std::max(hi, smp.ms);
    int64_t elapsed = now_s - smp.time_s;
    std::string label = elapsed < 60     ? std::to_string(elapsed) + "s"
                        : elapsed < 3600 ? std::to_string(elapsed / 60) + "m"
                        : elapsed < 86400 ? std::to_string(elapsed / 3600) + "h"
                                          : std::to_string(elapsed / 86400) + "d";
    seq.emplace_back(smp.ms, std::move(label));
  }
  std::string out = event + " - high " + std::to_string(hi) + " ms, low " + std::to_string(lo) +
                    " ms (all time high " + std::to_string(s.max) + " ms)\n";
  out += std::string(80, '-') + "\n";
  double mn = seq.empty() ? 0 : seq[0].first, mx = mn;
  for (auto& p : seq) {
    mn = std::min(mn, p.first);
    mx = std::max(mx, p.first);
  }
  for (size_t j = 0; j < seq.size(); j += 80) {
    if (j != 0) out += '\n';
    RenderRange(out, seq, mn, mx, 4, j, std::min<size_t>(80, seq.size() - j));
  }
  return out;
}

}  // namespace ferrite::host
