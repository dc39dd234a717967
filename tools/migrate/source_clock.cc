#include "source_clock.h"

#include <algorithm>
#include <string>

#include "source_replies.h"

namespace ferrite::migrate {
namespace {

bool IsErrorLine(std::string_view line) {
  return line.rfind("ERROR", 0) == 0 || line.rfind("CLIENT_ERROR", 0) == 0 ||
         line.rfind("SERVER_ERROR", 0) == 0;
}

}  // namespace

std::optional<StatsInfo> ReadStatsReply(Conn& c) {
  StatsInfo info;
  for (;;) {
    std::string_view line = c.ReadLine();
    if (line == "END") return info;
    if (IsErrorLine(line)) return std::nullopt;
    // Read leniently: a count that does not parse leaves the estimate at 0.
    if (auto n = ParseStatNumber(line, "curr_items"); n && *n >= 0) info.curr_items = *n;
    if (auto t = ParseStatNumber(line, "time")) info.time = *t;
  }
}

std::optional<int64_t> ReadTargetClock(Conn& target, TargetKind kind) {
  if (kind == TargetKind::kMemcached) {
    target.Send("stats\r\n");
    std::optional<StatsInfo> stats = ReadStatsReply(target);
    return stats ? stats->time : std::nullopt;
  }
  // TIME: *2, then the seconds and the microseconds as bulk strings.
  target.Send("TIME\r\n");
  if (target.ReadLine() != "*2") return std::nullopt;  // an error: NOPERM, unknown command
  std::optional<int64_t> seconds;
  for (int i = 0; i < 2; ++i) {
    target.ReadLine();  // $<len>
    std::optional<int64_t> v = ParseDecimal(target.ReadLine());
    if (i == 0) seconds = v;
  }
  return seconds;
}

int64_t ClockShift(int64_t source_time, int64_t target_time) {
  int64_t d = target_time - source_time;
  return d >= -kClockSlack && d <= kClockSlack ? 0 : d;
}

int64_t ResolveExpiry(int64_t before, int64_t after, int64_t ttl, int64_t listed) {
  int64_t lo = std::min(before, after) + ttl, hi = std::max(before, after) + ttl;
  return listed >= lo && listed <= hi ? listed : lo;
}

}  // namespace ferrite::migrate
