// How an item's expiry travels exactly to the second. memcached keeps an item's expiry
// as a time on its own clock: `stats` reports that clock as `time` (its start time plus
// a counter a once-a-second timer advances, so it lags the wall clock by up to about
// 2 s), `mg <key> t` the whole seconds from that clock to the expiry, and
// `lru_crawler metadump` the expiry itself as `exp=`. The expiry is therefore exactly
// `time` + `t` when both are read at the same tick of the counter: the importer reads
// `time` before and after each batch of `mg`s and fetches again when it moved, then
// stores the expiry as an absolute Unix time. `t` alone, added to the target's clock,
// would carry memcached's lag into every copy.
#pragma once

#include <cstdint>
#include <optional>

#include "conn.h"
#include "options.h"

namespace ferrite::migrate {

// Two clocks closer than this are the same clock read twice: memcached's `time` lags
// the wall clock by up to about 2 s by construction (a start time in whole seconds and
// a once-a-second tick), so smaller differences say nothing about the hosts' clocks.
inline constexpr int64_t kClockSlack = 5;

struct StatsInfo {
  uint64_t curr_items = 0;
  std::optional<int64_t> time;  // the server's clock, Unix seconds
};

// Reads the reply to a `stats` the caller sent, to its END; nullopt when the server
// answered an error line instead (memcached sends none, an ACL may).
std::optional<StatsInfo> ReadStatsReply(Conn& c);

// The target's clock in Unix seconds: `stats` on a memcached port, `TIME` on a RESP
// one; nullopt when the target refuses or has no such reply (the caller then uses this
// host's clock).
std::optional<int64_t> ReadTargetClock(Conn& target, TargetKind kind);

// Seconds to add to a source expiry so that it means the same moment on the target's
// clock: 0 when the clocks agree within kClockSlack (the expiry is then carried as is),
// else their difference (each item then keeps its remaining TTL, to within a second).
int64_t ClockShift(int64_t source_time, int64_t target_time);

// An item's expiry on the source's clock from its `mg` TTL (ttl >= 0) and the source's
// `time` read before and after the fetch. With no tick between the reads this is exact;
// with one, the expiry lies in [before + ttl, after + ttl] and the listing's `exp=`
// (listed, exact when the item has not changed since; < 0 when unknown) is taken when
// it falls there, else the lower end.
int64_t ResolveExpiry(int64_t before, int64_t after, int64_t ttl, int64_t listed);

}  // namespace ferrite::migrate
