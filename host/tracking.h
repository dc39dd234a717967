// Client-side caching (CLIENT TRACKING), Redis 6/7 semantics (Redis' tracking.c):
//
// - default mode: the keys a tracking client reads with a read-only command are
//   remembered in one table (key -> client ids, for every db, as Redis); when such a
//   key changes, each client in its entry is sent an invalidation and the entry is
//   dropped (it is sent again only after the client reads the key again);
// - BCAST: no table; a client subscribes to key prefixes and gets every key changed
//   under them, batched per command;
// - FLUSHDB / FLUSHALL / SWAPDB invalidate everything: a null instead of keys;
// - tracking-table-max-keys: over it, the cron drops random keys from the table and
//   sends their invalidations as if they had changed.
//
// Writes from every protocol invalidate: the hooks sit where the keyspace changes (a
// written or deleted key handle, expiry, eviction, RENAME/COPY/MOVE, flushes), not in
// commands. When nobody tracks, each hook is one relaxed atomic load (Active()).
//
// Delivery crosses threads as every out-of-band message does: the invalidating thread
// collects the target ids under the table's mutex, then posts to each target's own
// thread, which checks its tracking state there (still on? NOLOOP?) and writes the push
// itself — or posts again to the client it redirects to. A client's invalidation for
// its own write is thereby queued behind the reply of the command that made it, as
// Redis does (tracking_pending_keys), and a transaction's or script's after its EXEC /
// EVAL reply.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::host {

class Host;
struct Client;
struct Command;

class Tracking {
 public:
  explicit Tracking(Host* h) : h_(h) {}

  // False while no client tracks: the whole cost of tracking on every hook then.
  bool Active() const { return clients_.load(std::memory_order_relaxed) > 0; }

  struct Options {
    bool bcast = false, optin = false, optout = false, noloop = false;
    uint64_t redirect = 0;
    std::vector<std::string> prefixes;
  };
  // CLIENT TRACKING ON (options already checked) / OFF, on the client's thread.
  void Enable(Client* c, Options o);
  void Disable(Client* c);
  // Redis' checkPrefixCollisionsOrReply: the error text, or "" when none overlap.
  std::string PrefixCollision(const Client* c, const std::vector<std::string>& prefixes) const;

  // After a read-only command of a tracking client (not BCAST), under the command's
  // shard locks: remembers its keys unless OPTIN/OPTOUT and CLIENT CACHING say not to.
  void RememberKeys(Client* c, const Command* cmd, int argc, const ferrite_slice* argv);
  // A key changed; `writer` is the client whose command changed it (nullptr: expiry,
  // eviction, the cron), for NOLOOP.
  void InvalidateKey(const Client* writer, std::string_view key);
  // Every key may have changed (FLUSHDB, FLUSHALL, SWAPDB): a null to every tracking
  // client, and the table is emptied.
  void InvalidateAll();
  // Sends the BCAST keys collected since the last call (after each command and cron).
  void FlushBroadcast();
  bool BroadcastPending() const { return bcast_pending_.load(std::memory_order_relaxed); }
  // tracking-table-max-keys: drops random keys over the limit, invalidating them.
  void LimitTableSize(int64_t max_keys);

  // INFO: tracking_clients, tracking_total_keys / _items / _prefixes.
  uint64_t NumClients() const { return clients_.load(std::memory_order_relaxed); }
  uint64_t NumKeys() const;
  uint64_t NumItems() const;
  uint64_t NumPrefixes() const;

 private:
  enum class Kind { kKey, kBcast, kFlush };
  // Posts one invalidation message to client `id` (see the header comment).
  void Deliver(uint64_t id, Kind kind, std::shared_ptr<const std::vector<std::string>> keys,
               uint64_t writer_id);
  void InvalidateLocked(const Client* writer, std::string_view key, bool bcast,
                        std::vector<uint64_t>* targets);

  struct Prefix {
    std::map<std::string, uint64_t> keys;  // changed since the last flush -> writer id
    std::map<uint64_t, bool> clients;      // subscribed client id -> its NOLOOP
  };

  Host* h_;
  std::atomic<uint64_t> clients_{0};  // clients with tracking on
  std::atomic<bool> bcast_pending_{false};
  mutable std::mutex mu_;
  std::unordered_set<uint64_t> tracking_ids_;
  std::unordered_map<std::string, std::vector<uint64_t>> table_;
  uint64_t items_ = 0;  // ids across the table
  std::map<std::string, Prefix> prefixes_;
  uint64_t limit_rounds_ = 0;  // consecutive cron runs still over the limit
};

}  // namespace ferrite::host
