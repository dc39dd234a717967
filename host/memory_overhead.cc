#include "host/memory_overhead.h"

#include <algorithm>
#include <mutex>

#include "host/context.h"

namespace ferrite::host {

namespace {

double Ratio(int64_t num, int64_t den) {
  return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 0.0;
}

// What one entry's header takes beyond its key and value (Table::BaseBytes counts the
// same 16 bytes of allocator rounding).
constexpr int64_t kEntryHeader = sizeof(Entry) + 16;
constexpr int64_t kExpirySlot = 16;  // ExpiryIndex::Slot

}  // namespace

MemoryOverhead ReadMemoryOverhead(Host* h) {
  MemoryOverhead m;
  m.total = h->used_memory();
  m.peak = h->UpdatePeakMemory();
  m.startup = h->startup_memory();
  if (auto& fn = h->replication().backlog_bytes) m.backlog = fn();
  for (auto& c : h->AllClients()) {
    int64_t bytes = static_cast<int64_t>(ClientMemoryUsage(*c));
    if (c->repl_kind == Client::ReplKind::kReplica && !c->monitor) {
      m.clients_replicas += bytes;
      m.replicas++;
    } else {
      m.clients_normal += bytes;
      m.clients++;
    }
  }
  m.overhead_total = m.startup + m.backlog + m.clients_replicas + m.clients_normal;
  int64_t headers = 0;
  Keyspace& ks = h->keyspace();
  for (int db = 0; db < ks.num_dbs(); db++) {
    int64_t keys = 0, buckets = 0, expiry_slots = 0;
    for (int i = 0; i < ks.num_shards(); i++) {
      // A caller may hold some shards already (MEMORY STATS from a script or in EXEC).
      std::unique_lock lk(ks.shard(i).mu, std::defer_lock);
      if (!LockSet::ThreadHolds(&ks, i)) lk.lock();
      const Table& t = ks.shard(i).dbs[db];
      keys += static_cast<int64_t>(t.size());
      buckets += static_cast<int64_t>(t.bucket_count());
      expiry_slots += static_cast<int64_t>(t.expiry_slots());
    }
    if (keys == 0) continue;
    MemoryOverhead::Db d{db, keys * kEntryHeader + buckets * int64_t{sizeof(Entry*)},
                         expiry_slots * kExpirySlot};
    m.dbs.push_back(d);
    m.overhead_total += d.main + d.expires;
    m.keys += keys;
    headers += keys * kEntryHeader;
  }
  int64_t net = m.total > m.startup ? m.total - m.startup : 1;
  m.dataset = std::max<int64_t>(0, m.total - m.startup - headers);
  m.dataset_perc = Ratio(m.dataset * 100, net);
  m.bytes_per_key = m.keys ? net / m.keys : 0;
  m.peak_perc = Ratio(m.total * 100, m.peak);
  m.rss = ProcessRssBytes();
  m.alloc = ReadAllocatorStats();
  m.total_frag = Ratio(m.rss, m.total);
  m.total_frag_bytes = m.rss - m.total;
  m.alloc_frag = Ratio(m.alloc.active, m.alloc.allocated);
  m.alloc_frag_bytes = m.alloc.active - m.alloc.allocated;
  m.alloc_rss = Ratio(m.alloc.resident, m.alloc.active);
  m.alloc_rss_bytes = m.alloc.resident - m.alloc.active;
  m.rss_extra = Ratio(m.rss, m.alloc.resident);
  m.rss_extra_bytes = m.rss - m.alloc.resident;
  return m;
}

}  // namespace ferrite::host
