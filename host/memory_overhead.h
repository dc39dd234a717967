// Where used memory goes, for MEMORY STATS, MEMORY DOCTOR and INFO memory: Redis'
// getMemoryOverheadData figures, taken from Ferrite's own accounting.
//
// used_memory (`total`) is what max_memory is checked against: the startup baseline
// plus every key's entry, key bytes and value as its type sizes it (Table::EntryBytes).
// The other structures are measured here beside it: the keyspace's bucket arrays and
// expiry indexes, client buffers and the replication backlog. So, unlike Redis, `total`
// is not `overhead_total + dataset`: it holds the per-key entry headers and the dataset,
// while the rest of overhead_total is outside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/allocator.h"

namespace ferrite::host {

struct Entry;
// MEMORY USAGE's figure for one key: the entry's block as the allocator sized it (header,
// key, inline string), a separate string block or the type's mem_usage, the bucket slot.
size_t KeyMemoryUsage(const Entry* e);

class Host;

struct MemoryOverhead {
  int64_t total = 0;    // used_memory
  int64_t startup = 0;  // used_memory before any key
  int64_t peak = 0;     // the highest used_memory seen
  int64_t backlog = 0;  // replication backlog buffer
  int64_t clients_replicas = 0, clients_normal = 0;  // as CLIENT LIST tot-mem, summed
  int64_t replicas = 0, clients = 0;                 // how many of each
  struct Db {
    int id;
    int64_t main;     // entry headers (with the allocator's rounding) + bucket slots
    int64_t expires;  // the expiry index's slots
  };
  std::vector<Db> dbs;  // databases holding keys
  int64_t overhead_total = 0;
  int64_t keys = 0;
  int64_t bytes_per_key = 0;  // (total - startup) / keys
  int64_t dataset = 0;        // keys' names and values: total - startup - entry headers
  double dataset_perc = 0;    // of total - startup
  double peak_perc = 0;       // total as a percentage of peak
  int64_t rss = 0;
  AllocatorStats alloc;
  double total_frag = 0;  // rss / total
  int64_t total_frag_bytes = 0;
  double alloc_frag = 0, alloc_rss = 0, rss_extra = 0;
  int64_t alloc_frag_bytes = 0, alloc_rss_bytes = 0, rss_extra_bytes = 0;
};

// Locks each keyspace shard in turn (briefly) and walks the client list.
MemoryOverhead ReadMemoryOverhead(Host* h);

}  // namespace ferrite::host
