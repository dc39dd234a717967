// memcached introspection on the keyspace: the size classes Ferrite reports in place of
// slab classes, MC.DUMP (a batch of items with what `stats items`, `cachedump` and
// `lru_crawler metadump` show), and the `watch` log (fetchers, mutations, evictions).
// The mapping onto Ferrite's memory model is described in docs/observability.md.
//
//   MC.DUMP cursor count    ALL_KEYS; string keys of the connection's db, a SCAN batch
//     -> [OK next_cursor  key cls class_size mem value_len exp_ms idle_ms cas flags fetched ...]
//        (10 fields per key; exp_ms -1 = none; next_cursor 0 = done)
//   MC.EVICTIONS            -> [OK cls evicted evicted_nonzero evicted_time evicted_unfetched ...]
//        classes with evictions since start (evicted_time: idle seconds of the last one)
//   MC.WATCH kinds          kinds: a bit mask (1 fetchers, 2 mutations, 4 evictions);
//        the calling connection receives log lines as pushes (one bulk each) until it
//        closes -> [OK]
#pragma once

#include <cstdint>
#include <string_view>

#include "ferrite/module.hpp"

namespace ferrite::mod::strings {

// Size classes: jemalloc's (8, 16, 32, 48, ... 128 by 16, then four per doubling),
// numbered from 1; the last one also holds every larger item.
inline constexpr uint32_t kMaxSizeClass = 63;
// The class of an item whose blocks take `bytes`, and that class' size.
uint32_t SizeClassOf(uint64_t bytes, uint64_t* class_size);

// The size class of an open string key, as `stats items`, `stats slabs` and metadump
// report it (0 when the host cannot say: no key_info).
uint32_t ClassOfKey(sdk::Key& k);

// Records the status word of the MC.* reply being built on this thread (HIT, STORED...),
// for the watch log. Called by the reply helpers of mc_commands.cc.
void NoteStatus(std::string_view word);

enum class WatchedOp { kFetch, kStore };
// The watch-log wrapper around an MC.* handler: with no watcher it costs one relaxed
// load. kFetch logs one item_get line, kStore an item_get (memcached looks the key up
// first) and an item_store line.
bool WatchActive();
void WatchBefore(sdk::Ctx ctx, WatchedOp op, int argc, const ferrite_slice* argv);
void WatchAfter(sdk::Ctx ctx, WatchedOp op, int argc, const ferrite_slice* argv);

template <sdk::Handler F, WatchedOp Op>
int Watched(sdk::Ctx ctx, int argc, const ferrite_slice* argv) {
  if (!WatchActive()) return F(ctx, argc, argv);
  WatchBefore(ctx, Op, argc, argv);
  int r = F(ctx, argc, argv);
  WatchAfter(ctx, Op, argc, argv);
  return r;
}

// MC.DUMP, MC.EVICTIONS, MC.WATCH and the eviction hook.
int RegisterMcIntrospection(ferrite_plugin* p);

}  // namespace ferrite::mod::strings
