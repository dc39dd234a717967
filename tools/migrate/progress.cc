#include "progress.h"

#include <unistd.h>

#include <cstdio>
#include <spdlog/spdlog.h>
#include <string>

namespace ferrite::migrate {
namespace {

std::string Clock(double seconds) {
  if (seconds < 0 || seconds > 99 * 3600) return "--:--:--";
  auto s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

}  // namespace

Progress::Progress(ProgressMode mode, std::chrono::milliseconds interval)
    : bar_(mode == ProgressMode::kBar || (mode == ProgressMode::kAuto && isatty(STDERR_FILENO))),
      enabled_(mode != ProgressMode::kNone),
      interval_(bar_ ? std::chrono::milliseconds(200) : interval) {}

void Progress::Start(uint64_t total) {
  total_ = total;
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::Update(const Counters& c, bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < interval_) return;
  last_ = now;
  Draw(c, std::chrono::duration<double>(now - start_).count());
}

void Progress::Finish(const Counters& c) {
  Update(c, true);
  if (enabled_ && bar_) std::fputc('\n', stderr);
}

void Progress::Draw(const Counters& c, double elapsed) {
  uint64_t done = c.Settled();
  double rate = elapsed > 0 ? done / elapsed : 0;
  double mbs = elapsed > 0 ? c.bytes / elapsed / 1e6 : 0;
  double eta = rate > 0 && total_ > done ? (total_ - done) / rate : (total_ <= done ? 0 : -1);
  double frac = total_ > 0 ? std::min(1.0, double(done) / total_) : 0;
  if (bar_) {
    constexpr int kWidth = 30;
    int fill = static_cast<int>(frac * kWidth);
    std::string bar(fill, '#');
    bar.append(kWidth - fill, '.');
    std::fprintf(stderr, "\r[%s] %5.1f%% %llu/%llu  %.0f items/s  %.2f MB/s  ETA %s ", bar.c_str(),
                 frac * 100, static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_), rate, mbs, Clock(eta).c_str());
    std::fflush(stderr);
  } else {
    spdlog::info("progress: {}/{} items ({:.1f}%), copied {}, {:.0f} items/s, {:.2f} MB/s, ETA {}",
                 done, total_, frac * 100, c.copied, rate, mbs, Clock(eta));
  }
}

}  // namespace ferrite::migrate
