// A replica loads its primary's full sync payload as repl-diskless-load says (Redis
// 7.0's readSyncBulkPayload; where the payload waited meanwhile: sync_payload.h):
//   disabled      the payload went to dbfilename; with every shard locked (clients get
//                 -LOADING) the dataset is flushed and the file loaded;
//   on-empty-db   no key: loaded from memory as above; keys: as disabled;
//   swapdb        loaded into tables of its own while the current dataset stays in
//                 place, then swapped in under every shard lock; a payload that fails to
//                 load is discarded and the old dataset stays. When the payload
//                 continues the history the replica holds (its replid is the primary's,
//                 e.g. a resync after a backlog overrun) the old dataset is served
//                 meanwhile (INFO async_loading:1, Redis' async loading); otherwise
//                 clients get -LOADING, as from Redis.
#include <cstring>
#include <vector>

#include "host/context.h"
#include "host/logging.h"
#include "host/persistence/persistence.h"
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
  return o;
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

bool ReplicaLink::LoadPayload(const SyncPayload& payload, const std::string& replid) {
  Host& h = svc_.host();
  auto log = Logger("host.replication");
  const std::string_view rdb = payload.data();
  const char* from = payload.on_disk() ? "disk" : "socket";
  if (h.config().String("replication.repl_diskless_load") != "swapdb" || payload.on_disk()) {
    h.loading.Begin(h.clock().NowMs() / 1000, static_cast<int64_t>(rdb.size()));
    struct EndLoading {
      Host& h;
      ~EndLoading() { h.loading.End(); }
    } end_loading{h};
    LockSet locks;
    locks.AcquireAll(h.keyspace());
    Keyspace& ks = h.keyspace();
    log->info("MASTER <-> REPLICA sync: Flushing old data");
    for (int s = 0; s < ks.num_shards(); s++)
      for (auto& t : ks.shard(s).dbs) t.Clear();
    log->info("MASTER <-> REPLICA sync: Loading DB in memory");
    try {
      auto st = persist::LoadRdb(h, rdb, SyncLoadOptions(h));
      log->info("Done loading RDB, keys loaded: {}.", st.keys);
    } catch (const std::exception& e) {
      // Redis exits here; Ferrite logs, leaves the dataset empty and retries the link.
      log->warn("Failed trying to load the MASTER synchronization DB from {}: {}", from,
                e.what());
      for (int s = 0; s < ks.num_shards(); s++)
        for (auto& t : ks.shard(s).dbs) t.Clear();
      return false;
    }
    svc_.EnsureSinkAllLocked();
    RestartAofLocked(h);
    return true;
  }

  // swapdb. The new dataset grows in `temp` ([shard][db]), not bound to the keyspace's
  // byte counter until it is swapped in.
  Keyspace& ks = h.keyspace();
  const bool async = svc_.replid() == replid;
  const int64_t now_s = h.clock().NowMs() / 1000;
  if (async) h.loading.BeginAsync(now_s, static_cast<int64_t>(rdb.size()));
  else h.loading.Begin(now_s, static_cast<int64_t>(rdb.size()));
  struct EndLoading {
    Host& h;
    bool async;
    ~EndLoading() { async ? h.loading.EndAsync() : h.loading.End(); }
  } end_loading{h, async};
  std::vector<std::vector<Table>> temp(static_cast<size_t>(ks.num_shards()));
  for (auto& shard : temp) shard = std::vector<Table>(static_cast<size_t>(ks.num_dbs()));
  log->info("MASTER <-> REPLICA sync: Loading DB in memory");
  persist::RdbLoadStats st;
  try {
    persist::RdbLoadOptions o = SyncLoadOptions(h);
    o.into = &temp;
    st = persist::LoadRdb(h, rdb, o);
  } catch (const std::exception& e) {
    log->warn("Failed trying to load the MASTER synchronization DB from socket: {}", e.what());
    log->info("MASTER <-> REPLICA sync: Discarding temporary DB in background");
    return false;  // `temp` is freed here; the dataset was never touched
  }
  log->info("Done loading RDB, keys loaded: {}.", st.keys);
  {
    LockSet locks;
    locks.AcquireAll(h.keyspace());
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
