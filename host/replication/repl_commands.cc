// SYNC PSYNC REPLCONF WAIT ROLE REPLICAOF SLAVEOF FAILOVER, and INFO replication with Redis'
// field names and order.
#include <sstream>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/replication/replica_link.h"
#include "host/replication/replication.h"
#include "host/server_commands.h"

namespace ferrite::host::repl {

namespace {

using sdk::EqualsIgnoreCase;

std::string_view SV(const ferrite_slice& s) { return {s.ptr, s.len}; }

int Error(ferrite_ctx* c, std::string_view msg) {
  SendError(c, FERRITE_E_GENERIC, msg);
  return FERRITE_OK;
}

ReplicationService* Svc(ferrite_ctx* c) { return ReplicationService::Of(c->host); }

// FERRITE.CASEPOCH epoch: what a replica's link runs for its primary's CAS epoch carrier
// (repl_stream.h). Every shard is held (ALL_KEYS): when our epoch moves past the
// primary's, every key gets a version in it, so no version made here before equals a
// token the primary hands out. Not dirty: nothing to propagate or persist.
int CmdCasEpoch(ferrite_ctx* c, int, const ferrite_slice* argv) {
  uint64_t epoch = 0;
  if (!sdk::ParseUint64(SV(argv[1]), &epoch)) {
    return SendError(c, FERRITE_E_NOT_INTEGER, {});
  }
  Keyspace& ks = c->host->keyspace();
  bool changed = ks.AdoptCasEpoch(epoch);
  if (changed) ks.Restamp();
  c->sink->integer(c->st, changed ? 1 : 0);
  return FERRITE_OK;
}

int CmdSync(ferrite_ctx* c, int, const ferrite_slice*) {
  auto* s = Svc(c);
  if (!s) return Error(c, "ERR replication is not running");
  s->HandleSync(c, false, {}, {});
  return FERRITE_OK;
}

int CmdPsync(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  auto* s = Svc(c);
  if (!s) return Error(c, "ERR replication is not running");
  // PSYNC <replid> <offset> FAILOVER: a primary's FAILOVER hands its role to us.
  bool failover = argc > 3 && EqualsIgnoreCase(SV(argv[3]), "failover");
  s->HandleSync(c, true, SV(argv[1]), SV(argv[2]), failover);
  return FERRITE_OK;
}

int CmdReplconf(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  auto* s = Svc(c);
  if (!s) return Error(c, "ERR replication is not running");
  std::string err = s->HandleReplconf(c, argc, argv);
  if (!err.empty()) return Error(c, err);
  return FERRITE_OK;
}

int CmdWait(ferrite_ctx* c, int, const ferrite_slice* argv) {
  auto* s = Svc(c);
  if (!s) return Error(c, "ERR replication is not running");
  if (c->host->replication().is_replica.load())
    return Error(c, "ERR WAIT cannot be used with replica instances. Please also note that since "
                    "Redis 4.0 if a replica is configured to be writable (which is not the "
                    "default) writes to replicas are just local and are not propagated.");
  int64_t n, timeout;
  if (!sdk::ParseInt64(SV(argv[1]), &n)) return Error(c, "ERR value is not an integer or out of range");
  if (!sdk::ParseInt64(SV(argv[2]), &timeout))
    return Error(c, "ERR timeout is not an integer or out of range");
  if (timeout < 0) return Error(c, "ERR timeout is negative");
  return s->HandleWait(c, n, timeout);
}

int CmdFailover(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  auto* s = Svc(c);
  if (!s) return Error(c, "ERR replication is not running");
  s->HandleFailover(c, argc, argv);
  return FERRITE_OK;
}

int CmdRole(ferrite_ctx* c, int, const ferrite_slice*) {
  auto* s = Svc(c);
  if (!s) return Error(c, "ERR replication is not running");
  s->ReplyRole(c);
  return FERRITE_OK;
}

int CmdReplicaof(ferrite_ctx* c, int, const ferrite_slice* argv) {
  auto* s = Svc(c);
  if (!s) return Error(c, "ERR replication is not running");
  std::string reply;
  if (s->failover_state() != ReplicationService::FailoverState::kNone)
    return Error(c, "ERR REPLICAOF not allowed while failing over.");
  if (EqualsIgnoreCase(SV(argv[1]), "no") && EqualsIgnoreCase(SV(argv[2]), "one")) {
    reply = s->ReplicaOf("", 0, true, c->client);
  } else {
    int64_t port;
    if (!sdk::ParseInt64(SV(argv[2]), &port) || port < 0 || port > 65535)
      return Error(c, "ERR Invalid master port");
    // Redis refuses a replica of a client that is itself one of our replicas.
    if (c->client->repl_kind == Client::ReplKind::kReplica)
      return Error(c, "ERR Command is not valid when client is a replica.");
    reply = s->ReplicaOf(std::string(SV(argv[1])), static_cast<int>(port), false, c->client);
  }
  c->sink->simple(c->st, reply.data(), reply.size());
  return FERRITE_OK;
}

const char* PeerState(ReplicaPeer::State s) {
  switch (s) {
    case ReplicaPeer::State::kWaitBgsave: return "wait_bgsave";
    case ReplicaPeer::State::kSendBulk: return "send_bulk";
    case ReplicaPeer::State::kOnline: return "online";
  }
  return "";
}

const char* LinkState(ReplicaLink::State s) {
  switch (s) {
    case ReplicaLink::State::kConnect: return "connect";
    case ReplicaLink::State::kConnecting: return "connecting";
    case ReplicaLink::State::kHandshake: return "handshake";
    case ReplicaLink::State::kTransfer: return "sync";
    case ReplicaLink::State::kConnected: return "connected";
  }
  return "unknown";
}

}  // namespace

std::string ReplicationService::InfoSection() {
  auto& cfg = h_.config();
  int64_t now = h_.clock().NowMs();
  std::ostringstream o;
  o << "# Replication\r\n";
  {
    std::lock_guard lk(link_mu_);
    o << "role:" << (link_ ? "slave" : "master") << "\r\n";
    if (link_) {
      const ReplicaLink& l = *link_;
      bool up = l.connected();
      int64_t off = l.has_master_client() ? l.reploff() : master_offset();
      int64_t read_off = l.has_master_client() ? l.read_reploff() : off;
      o << "master_host:" << l.host() << "\r\nmaster_port:" << l.port()
        << "\r\nmaster_link_status:" << (up ? "up" : "down")
        << "\r\nmaster_last_io_seconds_ago:"
        << (l.has_master_client() ? (now - l.last_io_ms()) / 1000 : -1)
        << "\r\nmaster_sync_in_progress:" << (l.state() == ReplicaLink::State::kTransfer ? 1 : 0)
        << "\r\nslave_read_repl_offset:" << read_off << "\r\nslave_repl_offset:" << off << "\r\n";
      if (l.state() == ReplicaLink::State::kTransfer) {
        int64_t size = l.transfer_size(), read = l.transfer_read();
        // As Redis: any size but 0 divides, so -1 (no "$" line yet) prints -0.00.
        double perc = size != 0 ? static_cast<double>(read) / static_cast<double>(size) * 100 : 0;
        char pbuf[32];
        snprintf(pbuf, sizeof pbuf, "%.2f", perc);
        o << "master_sync_total_bytes:" << size << "\r\nmaster_sync_read_bytes:" << read
          << "\r\nmaster_sync_left_bytes:" << size - read << "\r\nmaster_sync_perc:" << pbuf
          << "\r\nmaster_sync_last_io_seconds_ago:" << (now - l.last_io_ms()) / 1000 << "\r\n";
      }
      if (!up)
        o << "master_link_down_since_seconds:"
          << (l.down_since_ms() ? (now - l.down_since_ms()) / 1000 : -1) << "\r\n";
      o << "slave_priority:" << cfg.Int("replication.replica_priority")
        << "\r\nslave_read_only:" << (cfg.Bool("replication.replica_read_only") ? 1 : 0)
        << "\r\nreplica_announced:" << (cfg.Bool("replication.replica_announced") ? 1 : 0)
        << "\r\n";
    }
  }
  std::lock_guard lk(mu_);
  o << "connected_slaves:" << replicas_.size() << "\r\n";
  if (cfg.Int("replication.min_replicas_to_write") && cfg.Int("replication.min_replicas_max_lag"))
    o << "min_slaves_good_slaves:" << good_replicas_ << "\r\n";
  int i = 0;
  for (auto& r : replicas_) {
    int64_t lag = r->state == ReplicaPeer::State::kOnline ? (now - r->ack_time_ms) / 1000 : 0;
    o << "slave" << i++ << ":ip=" << r->ip << ",port=" << r->port
      << ",state=" << PeerState(r->state) << ",offset=" << r->ack_off << ",lag=" << lag << "\r\n";
  }
  const char* fo = fo_state_ == FailoverState::kWaitForSync   ? "waiting-for-sync"
                   : fo_state_ == FailoverState::kInProgress ? "failover-in-progress"
                                                             : "no-failover";
  o << "master_failover_state:" << fo << "\r\nmaster_replid:" << replid_
    << "\r\nmaster_replid2:" << replid2_ << "\r\nmaster_repl_offset:" << offset_
    << "\r\nsecond_repl_offset:" << second_offset_
    << "\r\nrepl_backlog_active:" << (backlog_ ? 1 : 0)
    << "\r\nrepl_backlog_size:" << cfg.Int("replication.repl_backlog_size")
    << "\r\nrepl_backlog_first_byte_offset:" << (backlog_ ? backlog_->first_offset() : 0)
    << "\r\nrepl_backlog_histlen:" << (backlog_ ? backlog_->histlen() : 0) << "\r\n";
  return o.str();
}

void ReplicationService::ReplyRole(ferrite_ctx* c) {
  auto bulk = [&](std::string_view s) { c->sink->bulk(c->st, s.data(), s.size()); };
  {
    std::lock_guard lk(link_mu_);
    if (link_) {
      c->sink->array(c->st, 5);
      bulk("slave");
      bulk(link_->host());
      c->sink->integer(c->st, link_->port());
      bulk(LinkState(link_->state()));
      c->sink->integer(c->st, link_->has_master_client() ? link_->reploff() : -1);
      return;
    }
  }
  std::lock_guard lk(mu_);
  c->sink->array(c->st, 3);
  bulk("master");
  c->sink->integer(c->st, offset_);
  size_t online = 0;
  for (auto& r : replicas_) online += r->state == ReplicaPeer::State::kOnline;
  c->sink->array(c->st, online);
  for (auto& r : replicas_) {
    if (r->state != ReplicaPeer::State::kOnline) continue;
    c->sink->array(c->st, 3);
    bulk(r->ip);
    bulk(std::to_string(r->port));
    bulk(std::to_string(r->ack_off));
  }
}

void RegisterReplicationCommands(Host* h) {
  using namespace sdk::flags;
  // clang-format off
  AddHostCommand(h, "SYNC",       1, ADMIN | NOSCRIPT | NO_MULTI,                       0, 0, 0, CmdSync,      "server", "Internal command used for replication");
  AddHostCommand(h, "PSYNC",     -3, ADMIN | NOSCRIPT | NO_MULTI,                       0, 0, 0, CmdPsync,     "server", "An internal command used in replication");
  AddHostCommand(h, "REPLCONF",  -1, ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,   0, 0, 0, CmdReplconf,  "server", "An internal command for configuring the replication stream");
  AddHostCommand(h, "WAIT",       3, NOSCRIPT,                                          0, 0, 0, CmdWait,      "generic", "Wait for the synchronous replication of all the write commands sent in the context of the current connection");
  AddHostCommand(h, "ROLE",       1, NOSCRIPT | LOADING | STALE | FAST,                 0, 0, 0, CmdRole,      "server", "Returns the replication role");
  AddHostCommand(h, "REPLICAOF",  3, ADMIN | NOSCRIPT | STALE,                          0, 0, 0, CmdReplicaof, "server", "Configures a server as replica of another, or promotes it to a master");
  AddHostCommand(h, "SLAVEOF",    3, ADMIN | NOSCRIPT | STALE,                          0, 0, 0, CmdReplicaof, "server", "Sets a Redis server as a replica of another, or promotes it to being a master");
  AddHostCommand(h, "FAILOVER",  -1, ADMIN | NOSCRIPT | STALE,                          0, 0, 0, CmdFailover,  "server", "Start a coordinated failover between this server and one of its replicas.");
  AddHostCommand(h, "FERRITE.CASEPOCH", 2, ADMIN | NOSCRIPT | STALE | ALL_KEYS | HIDDEN, 0, 0, 0, CmdCasEpoch, "server", "Move the memcached CAS epoch past the primary's (replication)");
  // clang-format on
}

}  // namespace ferrite::host::repl
