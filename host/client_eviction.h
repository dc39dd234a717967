// Client memory and client eviction (Redis 7.0's maxmemory-clients).
//
// ClientMemoryUsage is what one client holds, as CLIENT LIST's tot-mem, INFO's
// mem_clients_normal / mem_clients_slaves and the eviction all count it: the Client
// itself, its input and output buffers' allocations, the running command's arguments,
// the MULTI queue, WATCHed keys, pub/sub subscriptions and tracking prefixes.
//
// ClientEviction keeps the total of the normal and pub/sub clients (replicas and the
// primary's link are never counted nor evicted, as in Redis) and, once it reaches the
// limit, closes the largest evictable clients (not CLIENT NO-EVICT ON) until it is below
// again. Redis groups clients in power-of-two buckets and takes the top bucket first;
// here the candidates are sorted by size, which evicts in the same order.
//
// Each client is recounted on its own thread after its buffers change (the network
// layer calls Update after every read, command batch, push and write), so the limit
// holds in real time, not only from the cron. Nothing is tracked while the limit is 0.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

namespace ferrite::host {

class Host;
struct Client;

// Bytes `c` holds, from values published for other threads (any thread may call it).
// `alloc` is its buffers' allocations (Client::Buffers::alloc, or fresher figures from
// the connection's own thread).
uint64_t ClientMemoryUsage(const Client& c, uint64_t alloc);
uint64_t ClientMemoryUsage(const Client& c);
// The part of it that is not buffers: WATCHed keys, subscriptions, tracking prefixes.
// Reads the client's own lists: its own thread only (published in Buffers::state).
uint64_t ClientStateBytes(const Client& c);

class ClientEviction {
 public:
  explicit ClientEviction(Host& h);

  // Redis' getClientEvictionLimit: maxmemory-clients in bytes, or its percentage of
  // maxmemory (none while maxmemory is 0), at least 128 KB; 0 when off.
  uint64_t Limit() const;

  // On c's own thread after its buffers changed (`alloc` as for ClientMemoryUsage):
  // recounts it and evicts while the total is at or over the limit. True when c itself
  // is evicted: the caller closes it now.
  bool Update(Client* c, uint64_t alloc);
  // c is going away: its bytes leave the total.
  void Forget(Client* c);
  // Recounts every client and evicts as needed: CONFIG SET maxmemory-clients or
  // maxmemory, and the cron (memory that changed without an event on its connection).
  void Recount();

  uint64_t evicted() const { return evicted_.load(std::memory_order_relaxed); }
  void ResetStats() { evicted_.store(0, std::memory_order_relaxed); }

 private:
  // Marks the victims (largest first) until the total is below `limit`; mu_ held.
  // Returns whether `self` is one of them; the others are closed on their threads.
  bool EvictLocked(uint64_t limit, Client* self);
  int64_t CountedBytes(const Client& c, uint64_t alloc) const;

  Host& h_;
  const std::atomic<int64_t>* setting_;     // maxmemory-clients (-N: N percent)
  const std::atomic<int64_t>* max_memory_;  // maxmemory
  std::mutex mu_;
  // Bytes of the normal and pub/sub clients as last counted (Client::eviction_counted),
  // written under mu_, read without it on the fast path.
  std::atomic<int64_t> total_{0};
  std::atomic<uint64_t> evicted_{0};  // INFO evicted_clients
  int64_t last_over_log_ms_ = 0;      // mu_: "Over client maxmemory" at most once a second
};

}  // namespace ferrite::host
