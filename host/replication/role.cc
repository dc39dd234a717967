// Role changes: REPLICAOF host port / NO ONE (and [replication] role = replica at
// start), and the history (replid, replid2, offsets) a replica takes from its primary.
#include "host/host.h"
#include "host/logging.h"
#include "host/replication/repl_stream.h"
#include "host/replication/replica_link.h"
#include "host/replication/replication.h"

namespace ferrite::host::repl {

std::string ReplicationService::ReplicaOf(const std::string& host, int port, bool no_one,
                                          Client* caller) {
  std::string who = "user request from '" +
                    (caller ? "id=" + std::to_string(caller->id) + " addr=" + caller->addr
                            : std::string("config")) + "'";
  return SetRole(host, port, no_one, who, caller != nullptr);
}

std::string ReplicationService::SetRole(const std::string& host, int port, bool no_one,
                                        const std::string& who, bool own_history) {
  auto log = Logger("host.replication");
  std::unique_ptr<ReplicaLink> old;
  {
    std::lock_guard lk(link_mu_);
    if (no_one) {
      if (!link_) return "OK";
      old = std::move(link_);
    } else {
      if (link_ && link_->host() == host && link_->port() == port) {
        log->info("REPLICAOF would result into synchronization with the master we are already "
                  "connected with. No operation performed.");
        return "OK Already connected to specified master";
      }
      old = std::move(link_);
    }
  }
  // Not joined here: inside MULTI/EXEC (sentinel's promotion) this thread holds every
  // shard lock and the old link may be waiting for one. It stops applying and the cron
  // joins it.
  if (old) {
    old->RequestStop();
    std::lock_guard lk(link_mu_);
    retired_links_.push_back(std::move(old));
  }
  auto& cfg = h_.config();
  if (no_one) {
    // A promoted replica keeps its history under a new id; the old one becomes replid2
    // so its former peers can still continue from it (PSYNC2).
    {
      std::lock_guard lk(mu_);
      replid2_ = replid_;
      second_offset_ = offset_ + 1;
      replid_ = NewReplid();
      // repl-backlog-ttl counts from the promotion: the backlog is what lets the former
      // peers continue.
      no_replicas_since_ms_ = h_.clock().NowMs();
    }
    h_.replication().is_replica = false;
    h_.replication().read_only = false;
    h_.replication().stale_refused = false;
    try {
      cfg.Override("replication.role", "master");
    } catch (const std::exception&) {
    }
    DisconnectReplicas();  // they reconnect and learn the new id with +CONTINUE
    // The new history starts with a SELECT (Redis' slaveseldb = -1): the db the stream
    // was left in is the old primary's, which what this node ran itself (a writable
    // replica's local writes, lazy expiry) says nothing about.
    h_.ForceSelectOnNextPropagate();
    // Our CAS epoch, at the head of the new history (after second_offset: the replicas
    // just dropped must not get it under the old id): former siblings that continue
    // from us move past it (repl_stream.h) before they can be promoted in turn.
    {
      std::lock_guard lk(mu_);
      if (backlog_) {
        std::string carrier;
        AppendCasEpochCarrier(&carrier, h_.keyspace().cas_epoch());
        AppendStreamLocked(carrier);
      }
    }
    log->info("MASTER MODE enabled ({})", who);
    return "OK";
  }
  h_.replication().is_replica = true;
  h_.replication().read_only = cfg.Bool("replication.replica_read_only");
  try {
    cfg.Override("replication.role", "replica");
    cfg.Override("replication.master_host", host);
    cfg.Override("replication.master_port", std::to_string(port));
  } catch (const std::exception& e) {
    log->warn("REPLICAOF: cannot record the master in the config: {}", e.what());
  }
  DisconnectReplicas();  // our history may change: they resync with us
  log->info("Connecting to MASTER {}:{}", host, port);
  log->info("REPLICAOF {}:{} enabled ({})", host, port, who);
  {
    std::lock_guard lk(link_mu_);
    link_ = std::make_unique<ReplicaLink>(*this, host, port, own_history);
  }
  UpdateStaleFlag();
  return "OK";
}

void ReplicationService::AdoptPrimaryHistory(const std::string& replid, int64_t offset) {
  {
    std::lock_guard lk(mu_);
    replid_ = replid;
    replid2_.assign(40, '0');
    second_offset_ = -1;
    offset_ = offset;
    h_.replication().master_offset.store(offset_, std::memory_order_relaxed);
    // Our replicas continue from here: a backlog from this point on.
    backlog_ = std::make_unique<Backlog>(h_.config().Int("replication.repl_backlog_size"), offset);
  }
  DisconnectReplicas();
}

void ReplicationService::SwitchReplid(const std::string& new_replid) {
  {
    std::lock_guard lk(mu_);
    replid2_ = replid_;
    second_offset_ = offset_ + 1;
    replid_ = new_replid;
    if (!backlog_)
      backlog_ = std::make_unique<Backlog>(h_.config().Int("replication.repl_backlog_size"), offset_);
  }
  Logger("host.replication")->info("Master replication ID changed to {}", new_replid);
  DisconnectReplicas();
}

void ReplicationService::UpdateStaleFlag() {
  bool stale = false;
  if (h_.replication().is_replica.load() && !h_.config().Bool("replication.replica_serve_stale_data")) {
    std::lock_guard lk(link_mu_);
    stale = !link_ || !link_->connected();
  }
  h_.replication().stale_refused = stale;
}

}  // namespace ferrite::host::repl
