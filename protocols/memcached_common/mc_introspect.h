// memcached's introspection answers over Ferrite's keyspace, shared by the text and
// binary plugins: the item census behind `stats items|slabs|sizes`, the key dumps
// (`stats cachedump`, `lru_crawler metadump|mgdump`) and `stats conns`. Items come from
// MC.DUMP batches (modules/strings/mc_introspect.h); the mapping of slab classes onto
// Ferrite's size classes is in docs/observability.md.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mc_common.h"

namespace ferrite::proto::mc {

using StatRows = std::vector<std::pair<std::string, std::string>>;

inline constexpr uint32_t kMaxClass = 63;       // memcached's MAX_NUMBER_OF_SLAB_CLASSES - 1
inline constexpr size_t kDumpBatch = 1024;      // keys per MC.DUMP call (one lock hold)
inline constexpr uint64_t kPageBytes = 1 << 20;  // memcached's slab page

struct DumpItem {
  std::string_view key;
  uint32_t cls = 0;
  uint64_t class_size = 0;
  uint64_t mem = 0;        // MEMORY USAGE's figure: memcached's item total size
  uint64_t value_len = 0;
  int64_t exp_ms = -1;     // absolute, -1 = none
  int64_t idle_ms = 0;
  uint64_t cas = 0;
  uint32_t flags = 0;
  bool fetched = false;
};

// One MC.DUMP batch from `cursor`: decodes the items into *items (their keys point into
// the backend's reply, valid until its next Exec) and returns the next cursor, 0 when
// the walk is done, -1 when the command failed.
int64_t DumpBatch(McBackend& b, uint64_t cursor, std::vector<DumpItem>* items);

// Per-class totals and the 32-byte size histogram of a whole walk.
struct ItemCensus {
  struct Class {
    uint64_t number = 0, mem_requested = 0, class_size = 0;
    int64_t max_idle_ms = 0;
  };
  std::array<Class, kMaxClass + 1> cls{};
  std::map<uint64_t, uint64_t> sizes;
  void Add(const DumpItem& it);
};

// Walks every item of the connection's db at once (the binary protocol's STAT).
ItemCensus TakeCensus(McBackend& b);

StatRows ItemsRows(const ItemCensus& c, McBackend& b);  // `stats items` (+ MC.EVICTIONS)
StatRows SlabsRows(const ItemCensus& c);                // `stats slabs`
StatRows SizesRows(const ItemCensus& c);                // `stats sizes`
StatRows ConnsRows(McBackend& b);                       // `stats conns` (CLIENT LIST)

// Which classes a dump covers: "all" / "hash", or "1,3,10" (1..63). false: BADCLASS.
bool ParseClassList(std::string_view spec, std::array<bool, kMaxClass + 1>* want);

// One dump line per item, in memcached's formats.
void AppendCacheDumpLine(const DumpItem& it, std::string* out);  // ITEM k [n b; t s]
void AppendMetaDumpLine(const DumpItem& it, int64_t now_s, std::string* out);

// `watch` arguments as a MC.WATCH mask (1 fetchers, 2 mutations, 4 evictions); kinds
// memcached knows but Ferrite never logs are accepted and add nothing. -1: unknown word.
int WatchMask(const std::vector<std::string_view>& words);

}  // namespace ferrite::proto::mc
