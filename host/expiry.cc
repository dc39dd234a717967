// Expiry (lazy on access, plus an active sampling cycle that also reaps due sub-keys such
// as hash fields) and eviction under max_memory (sampled approximate LRU / LFU / TTL /
// random, as Redis does).
#include <malloc.h>

#include <chrono>
#include <cmath>
#include <string>
#include <string_view>

#include "host/context.h"
#include "host/logging.h"

namespace ferrite::host {

namespace {

int64_t SteadyUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void PropagateDel(Host* h, int db, std::string_view key) {
  ferrite_slice argv[2] = {{"DEL", 3}, {key.data(), key.size()}};
  h->Propagate(db, 2, argv);
}

// How the deletion of an expired sub-key looks to replicas, the AOF and subscribers: the
// type names it (hashes: Redis 7.4's HDEL, "hexpired", class hash).
struct SubkeyOps {
  std::string_view del_cmd;
  const char* event;
  uint32_t cls;
};
SubkeyOps OpsFor(const ferrite_type* t) {
  const ferrite_type_desc& d = t->desc;
  return {d.subkey_delete_command ? d.subkey_delete_command : "",
          d.subkey_expired_event ? d.subkey_expired_event : "expired", d.subkey_event_class};
}

struct SubkeyEmit {
  Host* h;
  int db;
  std::string_view key;
  std::string_view del_cmd;
  size_t n = 0;
};

// emit() of expire_subkeys: each expired member is propagated on its own, as Redis 7.4
// propagates `HDEL key field` per field, so replay needs no knowledge of field TTLs.
void EmitSubkey(void* udata, ferrite_slice member) {
  auto* s = static_cast<SubkeyEmit*>(udata);
  ferrite_slice argv[3] = {{s->del_cmd.data(), s->del_cmd.size()},
                           {s->key.data(), s->key.size()},
                           member};
  s->h->Propagate(s->db, 3, argv);
  s->n++;
}

// Expires the due sub-keys of `e` (its shard is locked) and re-files it in the index;
// deletes the key when nothing is left. Returns the number of sub-keys removed.
size_t ExpireSubkeysOf(Host* h, int si, int db, Entry* e, int64_t now) {
  Table& t = h->keyspace().shard(si).dbs[db];
  if (t.ExpiredAt(e, now)) {
    h->ExpireEntry(si, db, e);  // the whole key is due anyway
    return 1;
  }
  const ferrite_type* type = e->kind == ValueKind::kModule ? e->mod_type() : nullptr;
  if (!type || !type->desc.expire_subkeys) {
    t.SetSubkeyExpire(e, -1);
    return 0;
  }
  const ferrite_type_desc& d = type->desc;
  std::string key(e->key());
  SubkeyOps ops = OpsFor(type);
  SubkeyEmit em{h, db, key, ops.del_cmd};
  int64_t next = d.expire_subkeys(e->mod.ptr, now, EmitSubkey, &em);
  if (em.n > 0) {
    e->version = h->keyspace().NextVersion(si);  // WATCH sees the change
    if (h->tracking().Active()) h->tracking().InvalidateKey(nullptr, key);
    h->Notify(db, ops.cls, ops.event, key);
    if (d.length && d.length(e->mod.ptr) == 0) {
      t.Erase(e);
      h->Notify(db, FERRITE_NOTIFY_GENERIC, "del", key);
      return em.n;
    }
    t.ModuleChanged(e);
  }
  // A module that answers a time not in the future would be asked again at once; file it
  // one ms later so the cycle always terminates.
  t.SetSubkeyExpire(e, next >= 0 && next <= now ? now + 1 : next);
  return em.n;
}

// Keys whose earliest sub-key expiry has passed, earliest first, a bounded number per
// call so one huge batch cannot hold the shard for long.
void ExpireDueSubkeys(Host* h, int si, int db, int64_t now) {
  Table& t = h->keyspace().shard(si).dbs[db];
  size_t removed = 0;
  for (int keys = 0; keys < 200 && removed < 2000; keys++) {
    Entry* e = t.FirstSubkeyDue(now);
    if (!e) break;
    removed += ExpireSubkeysOf(h, si, db, e, now);
  }
}

}  // namespace

void Host::ExpireEntry(int si, int db, Entry* e) {
  std::string key(e->key());
  if (!(e->mc_bits & FERRITE_MC_FETCHED)) stats_.expired_unfetched.fetch_add(1, std::memory_order_relaxed);
  keyspace_->shard(si).dbs[db].Erase(e);
  stats_.expired_keys.fetch_add(1, std::memory_order_relaxed);
  if (tracking_.Active()) tracking_.InvalidateKey(nullptr, key);
  Notify(db, FERRITE_NOTIFY_EXPIRED, "expired", key);
  PropagateDel(this, db, key);
}

void Host::ActiveExpireCycle(int64_t budget_us) {
  // A replica waits for its primary's DEL, as Redis' replicas do: its clock is not the
  // primary's, and deleting on its own would put a DEL into the stream it forwards.
  if (replication_.is_replica.load(std::memory_order_relaxed)) return;
  // Nor while clients are paused (CLIENT PAUSE, FAILOVER, SHUTDOWN): the data set stands
  // still, and a DEL would move the offset the replicas are catching up to.
  if (client_pause_.Paused(clock_.NowMs())) return;
  int64_t start = SteadyUs();
  int64_t now = clock_.NowMs();
  int n = keyspace_->num_shards();
  int first = expire_cursor_.fetch_add(1) % n;
  for (int step = 0; step < n; step++) {
    int si = (first + step) % n;
    Shard& s = keyspace_->shard(si);
    // A shard held by a long command (EXEC, a script) is skipped: the cron thread also
    // accepts connections and must never wait behind a client.
    std::unique_lock lk(s.mu, std::try_to_lock);
    if (!lk.owns_lock()) continue;
    for (int db = 0; db < keyspace_->num_dbs(); db++) {
      Table& t = s.dbs[db];
      if (t.subkey_size() > 0) ExpireDueSubkeys(this, si, db, now);
      for (int round = 0; round < 16 && t.volatile_size() > 0; round++) {
        int sampled = 0, expired = 0;
        int samples = static_cast<int>(std::min<size_t>(20, t.volatile_size()));
        for (int i = 0; i < samples; i++) {
          Entry* e = t.RandomVolatile(s.rng);
          if (!e) break;
          sampled++;
          if (t.ExpiredAt(e, now)) {
            ExpireEntry(si, db, e);
            stats_.crawler_reclaimed.fetch_add(1, std::memory_order_relaxed);
            expired++;
          }
        }
        if (sampled == 0 || expired * 4 < sampled) break;  // < 25% expired: move on
      }
    }
    if (SteadyUs() - start > budget_us) break;
  }
}

uint32_t Host::LruClock() const {
  return static_cast<uint32_t>((clock_.NowMs() - start_ms_) / 1000);
}

namespace {

constexpr uint32_t kLruMask = (1u << 24) - 1;
constexpr uint8_t kLfuInitVal = 5;  // Redis' LFU_INIT_VAL: a new key is not evicted first

bool IsLfu(EvictionPolicy p) {
  return p == EvictionPolicy::kAllKeysLfu || p == EvictionPolicy::kVolatileLfu;
}
uint16_t LfuMinutes(int64_t now_ms) { return static_cast<uint16_t>((now_ms / 60000) & 0xFFFF); }

}  // namespace

// Redis' LFUDecrAndReturn: the counter less one per lfu_decay_time minutes since the
// last decrement (the 16-bit minute clock wraps as in Redis).
uint8_t Host::LfuDecayed(const Entry* e) const {
  uint8_t counter = e->lru & 0xFF;
  int64_t decay = lfu_decay_time_->load(std::memory_order_relaxed);
  if (decay <= 0) return counter;
  uint16_t elapsed = static_cast<uint16_t>(LfuMinutes(clock_.NowMs()) - (e->lru >> 8));
  uint64_t periods = elapsed / decay;
  return periods > counter ? 0 : static_cast<uint8_t>(counter - periods);
}

void Host::InitAccess(Entry* e) {
  if (IsLfu(eviction_policy())) e->lru = (LfuMinutes(clock_.NowMs()) << 8) | kLfuInitVal;
  else e->lru = LruClock() & kLruMask;
}

void Host::RestoreAccess(Entry* e, int64_t lfu_freq, int64_t idle_s) {
  if (IsLfu(eviction_policy())) {
    if (lfu_freq >= 0) e->lru = (LfuMinutes(clock_.NowMs()) << 8) | static_cast<uint32_t>(lfu_freq);
  } else if (idle_s >= 0) {
    // The 24-bit clock wraps: an access before its zero is near its top.
    int64_t abs = static_cast<int64_t>(LruClock()) - idle_s;
    e->lru = static_cast<uint32_t>(abs & kLruMask);
  }
}

// Only the active policy's meaning of Entry::lru is maintained; after a runtime switch
// the old data reads as the other kind until keys are touched again, as in Redis.
void Host::TouchEntry(Entry* e) {
  EvictionPolicy p = eviction_policy();
  if (!IsLfu(p)) {
    e->lru = LruClock() & kLruMask;
    return;
  }
  // Redis' LFU: decay by elapsed minutes, then a logarithmic increment.
  uint8_t counter = LfuDecayed(e);
  if (counter < 255) {
    thread_local std::mt19937 rng{12345};
    double r = std::uniform_real_distribution<double>(0, 1)(rng);
    double base = counter > kLfuInitVal ? counter - kLfuInitVal : 0;
    double factor = static_cast<double>(lfu_log_factor_->load(std::memory_order_relaxed));
    double p = 1.0 / (base * factor + 1);
    if (r < p) counter++;
  }
  e->lru = (LfuMinutes(clock_.NowMs()) << 8) | counter;
}

int64_t Host::IdleMs(const Entry* e) const {
  if (IsLfu(eviction_policy())) {  // only minutes are known: since the last decrement
    return static_cast<int64_t>(static_cast<uint16_t>(LfuMinutes(clock_.NowMs()) - (e->lru >> 8))) *
           60000;
  }
  return static_cast<int64_t>((LruClock() - e->lru) & kLruMask) * 1000;
}

int64_t Host::used_memory() const {
  return baseline_memory_ + keyspace_->used_bytes.load(std::memory_order_relaxed);
}

int64_t Host::UpdatePeakMemory() {
  int64_t now = used_memory();
  int64_t peak = peak_memory_.load(std::memory_order_relaxed);
  while (now > peak && !peak_memory_.compare_exchange_weak(peak, now)) {
  }
  return std::max(now, peak);
}

bool Host::OverMemoryLimit() const {
  int64_t max = max_memory_->load(std::memory_order_relaxed);
  return max > 0 && used_memory() > max;
}

namespace {

// Eviction runs with no shard held, from the cron thread or before a command: a script
// holding every shard makes it give up (the command then gets BUSY or OOM) rather than
// park the thread until the script ends.
bool ScriptOrStopping(void* host) {
  auto* h = static_cast<Host*>(host);
  return h->script_started_ms.load(std::memory_order_relaxed) != 0 ||
         h->shutting_down.load(std::memory_order_relaxed);
}

}  // namespace

bool Host::EvictIfNeeded() {
  if (!OverMemoryLimit()) return true;
  // Nothing is evicted while clients are paused, and nothing is refused for it either
  // (Redis' isSafeToPerformEvictions: the command goes on as if under the limit).
  if (client_pause_.Paused(clock_.NowMs())) return true;
  EvictionPolicy policy = eviction_policy();
  if (policy == EvictionPolicy::kNoEviction) return false;
  LatencyScope lat(&introspection_->latency, "eviction-cycle");
  bool volatile_only = policy == EvictionPolicy::kVolatileLru ||
                       policy == EvictionPolicy::kVolatileLfu ||
                       policy == EvictionPolicy::kVolatileRandom ||
                       policy == EvictionPolicy::kVolatileTtl;
  int samples = static_cast<int>(std::max<int64_t>(1, config_->Int("storage.maxmemory_samples")));
  thread_local std::mt19937_64 rng{std::random_device{}()};
  int n = keyspace_->num_shards();
  // Done once used memory was seen under the limit. NOTE: not re-checked after the loop:
  // with several workers writing, another thread's insert can pass the limit again
  // right after this one freed room, and this command must not get -OOM for it (its
  // own write is checked again next time).
  for (int guard = 0; OverMemoryLimit(); guard++) {
    if (guard == 1'000'000) return false;
    // Sample candidates across random shards and dbs; keep the best one.
    struct Best {
      int si = -1, db = 0;
      std::string key;
      double score = -1;
    } best;
    // Each sample starts at a random shard and db and walks on to the next non-empty
    // table: a few keys spread over shards x dbs mostly-empty tables would otherwise be
    // missed by most random picks, leaving the choice to one or two samples.
    int n_dbs = keyspace_->num_dbs();
    for (int i = 0; i < samples; i++) {
      int si0 = static_cast<int>(rng() % n), db0 = static_cast<int>(rng() % n_dbs);
      bool found = false;
      for (int k = 0; k < n && !found; k++) {
        int si = (si0 + k) % n;
        Shard& s = keyspace_->shard(si);
        if (!LockSet::LockUnless(s, ScriptOrStopping, this)) return false;
        std::lock_guard lk(s.mu, std::adopt_lock);
        for (int j = 0; j < n_dbs && !found; j++) {
          int db = (db0 + j) % n_dbs;
          Table& t = s.dbs[db];
          Entry* e = volatile_only ? t.RandomVolatile(s.rng) : t.RandomEntry(s.rng);
          if (!e) continue;
          found = true;
          double score = 0;
          switch (policy) {
            case EvictionPolicy::kAllKeysLru:
            case EvictionPolicy::kVolatileLru:
              score = static_cast<double>(IdleMs(e)) + 1;
              break;
            case EvictionPolicy::kAllKeysLfu:
            case EvictionPolicy::kVolatileLfu: score = 256.0 - LfuDecayed(e); break;
            case EvictionPolicy::kVolatileTtl:
              score = 1e18 - static_cast<double>(t.ExpireOf(e));
              break;
            default: score = static_cast<double>(rng() % 1000) + 1; break;
          }
          if (score > best.score) best = {si, db, std::string(e->key()), score};
        }
      }
      if (!found) return false;  // not one candidate anywhere
    }
    Shard& s = keyspace_->shard(best.si);
    if (!LockSet::LockUnless(s, ScriptOrStopping, this)) return false;
    std::lock_guard lk(s.mu, std::adopt_lock);
    Table& t = s.dbs[best.db];
    Entry* e = t.Find(best.key, HashKey(best.key));
    if (!e) continue;
    NotifyEviction(best.db, t, e);
    if (!(e->mc_bits & FERRITE_MC_FETCHED)) stats_.evicted_unfetched.fetch_add(1, std::memory_order_relaxed);
    t.Erase(e);
    stats_.evicted_keys.fetch_add(1, std::memory_order_relaxed);
    if (tracking_.Active()) tracking_.InvalidateKey(nullptr, best.key);
    Notify(best.db, FERRITE_NOTIFY_EVICTED, "evicted", best.key);
    PropagateDel(this, best.db, best.key);
  }
  return true;
}

}  // namespace ferrite::host
