// A replica loads its primary's full sync payload as repl-diskless-load says (Redis
// 7.0's readSyncBulkPayload). The function libraries come with it and replace the
// replica's, as the keys do:
//   disabled      the payload went to dbfilename (sync_payload.h); then, with every
//                 shard locked (clients get -LOADING), the dataset is flushed and the
//                 file loaded;
//   on-empty-db   keys: as disabled. No key: parsed from the socket as it arrives, as
//                 swapdb below (clients get -LOADING from the start of the transfer);
//   swapdb        parsed from the socket as it arrives into tables of its own while the
//                 current dataset stays in place, then swapped in under every shard
//                 lock; a transfer that fails (cut, corrupt, timed out) discards the
//                 temporary db and the old dataset stays. When the payload continues the
//                 history the replica holds (its replid is the primary's, e.g. a resync
//                 after a backlog overrun) the old dataset is served meanwhile (INFO
//                 async_loading:1, Redis' async loading); otherwise clients get -LOADING,
//                 as from Redis.
#include <algorithm>
#include <cstring>
#include <vector>

#include "host/context.h"
#include "host/logging.h"
#include "host/persistence/persistence.h"
#include "host/persistence/rdb_functions.h"
#include "host/persistence/rdb_reader.h"
#include "host/replication/replica_link.h"
#include "host/replication/replication.h"
#include "host/replication/sync_payload.h"

namespace ferrite::host::repl {

bool KeyspaceHasKeys(Host& h) {
  LockSet locks;
  locks.AcquireAll(h.keyspace());
  Keyspace& ks = h.keyspace();
  for (int s = 0; s < ks.num_shards(); s++)
    for (auto& t : ks.shard(s).dbs)
      if (t.size() > 0) return true;
  return false;
}

namespace {

persist::RdbLoadOptions SyncLoadOptions(Host& h) {
  persist::RdbLoadOptions o;
  o.now_ms = 0;  // a replica keeps keys its primary will expire (it sends the DEL)
  o.adopt_cas_epoch = true;  // our versions never equal the primary's CAS tokens
  o.key_load_delay_us = h.config().Int("persistence.key_load_delay");
  // INFO persistence's loading_loaded_bytes / loading_loaded_perc, as the startup load.
  o.progress = [&h](uint64_t bytes, uint64_t keys) {
    h.loading.loaded_bytes = static_cast<int64_t>(bytes);
    h.loading.keys = static_cast<int64_t>(keys);
  };
  return o;
}

// Redis' emptyData before a load: every key and every function library. The caller
// holds every shard lock.
void FlushAllLocked(Host& h) {
  Keyspace& ks = h.keyspace();
  for (int s = 0; s < ks.num_shards(); s++)
    for (auto& t : ks.shard(s).dbs) t.Clear();
  std::string err = persist::RestoreLibraries(h, {}, persist::LibraryPolicy::kFlush);
  if (!err.empty()) Logger("host.replication")->warn("Flushing the functions: {}", err);
}

// A replica with the AOF on starts a new one from this dataset (Redis restarts it).
// The caller holds every shard lock.
void RestartAofLocked(Host& h) {
  auto* p = persist::PersistenceService::Of(&h);
  if (!p || !h.config().Bool("persistence.aof_enabled")) return;
  bool scheduled = false;
  std::string err = p->BgrewriteLocked(&scheduled);
  if (!err.empty()) Logger("host.replication")->warn("Background AOF rewrite after sync: {}", err);
}

}  // namespace

// The payload read from the primary's socket as the loader asks for it (Redis' rio over
// the connection, whose read limit is the bulk length of a "$<len>" payload). Bytes
// already read go to the loader from in_; what follows the payload stays in in_ (the
// stream's start). Consumed bytes are cut from in_ as the window moves, so at most a
// window's worth (a read, or the one value being parsed) is held.
class ReplicaLink::LinkSource final : public persist::RdbSource {
 public:
  // `limit`: the payload's length; -1 for the EOF-mark form (the RDB ends itself).
  LinkSource(ReplicaLink& link, int64_t limit, int64_t timeout_ms)
      : link_(link), limit_(limit), timeout_ms_(timeout_ms) {}

  std::string_view Have(size_t n) override {
    for (;;) {
      size_t avail = link_.in_.size() - off_;
      if (limit_ >= 0) avail = std::min<size_t>(avail, static_cast<size_t>(limit_ - consumed_));
      if (avail >= n) return {link_.in_.data() + off_, avail};
      if (limit_ >= 0 && consumed_ + static_cast<int64_t>(avail) >= limit_)
        throw persist::RdbError("RDB: the payload ended (" + std::to_string(limit_) +
                                " bytes) before the file did");
      size_t before = link_.in_.size();
      FillResult fr = link_.Fill(timeout_ms_);
      if (fr == FillResult::kQuiet)
        throw persist::RdbError("timeout reading the payload from MASTER");
      if (fr != FillResult::kData) throw persist::RdbError("connection lost");
      received_ += static_cast<int64_t>(link_.in_.size() - before);
      link_.transfer_read_ = received_;
    }
  }

  void Consume(size_t n) override {
    off_ += n;
    consumed_ += static_cast<int64_t>(n);
    if (off_ >= (1u << 20) || off_ == link_.in_.size()) Compact();
  }

  // What follows the payload starts in_.
  void Compact() {
    link_.in_.erase(0, off_);
    off_ = 0;
  }
  int64_t consumed() const { return consumed_; }

 private:
  ReplicaLink& link_;
  const int64_t limit_;
  const int64_t timeout_ms_;
  size_t off_ = 0;          // consumed bytes still at the head of in_
  int64_t consumed_ = 0;    // payload bytes consumed
  // Payload bytes received (those in in_ when the load began included).
  int64_t received_ = static_cast<int64_t>(link_.in_.size());
};

bool ReplicaLink::LoadFromDisk(const SyncPayload& payload) {
  Host& h = svc_.host();
  auto log = Logger("host.replication");
  const std::string_view rdb = payload.data();
  h.loading.Begin(h.clock().NowMs() / 1000, static_cast<int64_t>(rdb.size()));
  struct EndLoading {
    Host& h;
    ~EndLoading() { h.loading.End(); }
  } end_loading{h};
  LockSet locks;
  locks.AcquireAll(h.keyspace());
  Keyspace& ks = h.keyspace();
  log->info("MASTER <-> REPLICA sync: Flushing old data");
  FlushAllLocked(h);
  log->info("MASTER <-> REPLICA sync: Loading DB in memory");
  try {
    auto st = persist::LoadRdb(h, rdb, SyncLoadOptions(h));
    log->info("Done loading RDB, keys loaded: {}.", st.keys);
  } catch (const std::exception& e) {
    // Redis exits here; Ferrite logs, leaves the dataset empty and retries the link.
    log->warn("Failed trying to load the MASTER synchronization DB from disk: {}", e.what());
    FlushAllLocked(h);
    return false;
  }
  svc_.EnsureSinkAllLocked();
  RestartAofLocked(h);
  return true;
}

bool ReplicaLink::LoadFromSocket(int64_t len, const std::string& mark, const std::string& replid,
                                 bool swapdb) {
  Host& h = svc_.host();
  auto log = Logger("host.replication");
  Keyspace& ks = h.keyspace();
  // Async loading (the old dataset served meanwhile) only for swapdb continuing our own
  // history, as Redis 7.0.
  const bool async = swapdb && svc_.replid() == replid;
  const int64_t now_s = h.clock().NowMs() / 1000;
  const int64_t total = len < 0 ? 0 : len;
  if (async) h.loading.BeginAsync(now_s, total);
  else h.loading.Begin(now_s, total);
  struct EndLoading {
    Host& h;
    bool async;
    ~EndLoading() { async ? h.loading.EndAsync() : h.loading.End(); }
  } end_loading{h, async};
  // The new dataset grows in `temp` ([shard][db]), not bound to the keyspace's byte
  // counter until it is swapped in.
  std::vector<std::vector<Table>> temp(static_cast<size_t>(ks.num_shards()));
  for (auto& shard : temp) shard = std::vector<Table>(static_cast<size_t>(ks.num_dbs()));
  log->info("MASTER <-> REPLICA sync: Loading DB in memory");
  LinkSource src(*this, len, h.config().Int("replication.repl_timeout") * 1000);
  persist::RdbLoadStats st;
  try {
    persist::RdbLoadOptions o = SyncLoadOptions(h);
    o.into = &temp;
    st = persist::LoadRdb(h, src, o);
    if (!mark.empty()) {  // Redis checks the mark right behind the RDB
      std::string_view got = src.Have(mark.size());
      if (got.substr(0, mark.size()) != mark)
        throw persist::RdbError("Replication stream EOF marker is broken");
      src.Consume(mark.size());
    } else {
      // Bytes the RDB did not use (a primary padding its payload) are not the stream.
      while (src.consumed() < len) src.Consume(src.Have(1).size());
    }
    src.Compact();
  } catch (const std::exception& e) {
    log->warn("Failed trying to load the MASTER synchronization DB from socket: {}", e.what());
    log->info("MASTER <-> REPLICA sync: Discarding temporary DB in background");
    return false;  // `temp` is freed here; the dataset was never touched
  }
  log->info("Done loading RDB, keys loaded: {}.", st.keys);
  {
    LockSet locks;
    locks.AcquireAll(h.keyspace());
    // The payload's libraries replace ours all at once (Redis swaps its functions
    // context with the one it loaded); one that does not load fails the sync before
    // anything changed.
    std::string err = persist::RestoreLibraries(h, st.libraries, persist::LibraryPolicy::kFlush);
    if (!err.empty()) {
      log->warn("Failed trying to load the MASTER synchronization DB from socket: function "
                "libraries: {}", err);
      log->info("MASTER <-> REPLICA sync: Discarding temporary DB in background");
      return false;
    }
    log->info("MASTER <-> REPLICA sync: Swapping active DB with loaded DB");
    if (st.cas_epoch >= 0) ks.AdoptCasEpoch(static_cast<uint64_t>(st.cas_epoch));
    for (int s = 0; s < ks.num_shards(); s++) {
      auto& dbs = ks.shard(s).dbs;
      for (size_t d = 0; d < dbs.size(); d++) {
        dbs[d].Swap(temp[s][d]);
        // The counter follows the tables: it counted the old contents, now in temp.
        ks.used_bytes.fetch_add(dbs[d].bytes() - temp[s][d].bytes(), std::memory_order_relaxed);
        dbs[d].ForEach([&](Entry* e) { e->version = ks.NextVersion(s); });
      }
    }
    svc_.EnsureSinkAllLocked();
    RestartAofLocked(h);
  }
  log->info("MASTER <-> REPLICA sync: Discarding old DB in background");
  temp.clear();  // the old dataset, freed outside the locks
  return true;
}

}  // namespace ferrite::host::repl
