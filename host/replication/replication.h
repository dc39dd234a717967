// Replication, Redis' protocol (PSYNC2): this process as a primary to its replicas and,
// after REPLICAOF, as a replica of another primary. One service per host.
//
// Collaborators, each in its own file:
//   repl_stream.*     RESP command encoding / the replica's stream parser
//   backlog.*         the ring of recent stream bytes for partial resync
//   primary.cc        the stream: feed, replicas' output, PSYNC decisions, pings, WAIT
//   full_sync.cc      +FULLRESYNC: a fork child writes the RDB (to a file or a pipe) and
//                     a sender thread streams it to the replica's connection
//   replica_link.cc   REPLICAOF: the link thread (handshake, RDB load, applying the
//                     stream, ACKs, reconnects with PSYNC)
//   repl_commands.cc  SYNC PSYNC REPLCONF WAIT ROLE REPLICAOF SLAVEOF, INFO replication
//   failover.cc       FAILOVER: pause writes, wait for a replica's offset, swap roles
//                     with PSYNC ... FAILOVER
//   shutdown_wait.cc  SHUTDOWN (and SIGTERM/SIGINT) waiting for lagging replicas
//
// How it meets the rest of the host: it is a PropagationSink (host.h) once a replica
// attached, so every write any protocol makes reaches the stream in execution order;
// it writes to a replica's connection only through Client::post / Client::out /
// on_output, as pub/sub pushes do; dispatch reads the flags in Host::replication().
//
// Locking: mu_ guards everything below. Feed runs under the host's propagation lock
// (and the writer's shard locks), so the order is shards -> prop -> mu_; code holding
// mu_ never calls into the host's propagation.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/host.h"
#include "host/replication/backlog.h"
#include "host/services.h"

namespace ferrite::host::repl {

class ReplicaLink;

// A replica attached to this primary (its connection's client is a kReplica).
struct ReplicaPeer {
  enum class State { kWaitBgsave, kSendBulk, kOnline };
  std::weak_ptr<Client> client;
  uint64_t client_id = 0;
  std::string ip;           // REPLCONF ip-address, else the connection's address
  int port = 0;             // REPLCONF listening-port
  bool capa_eof = false;    // accepts the diskless $EOF:<mark> payload
  bool capa_psync2 = false;
  // `capa ferrite-hfe` (a Ferrite replica): the RDB keeps hash field TTLs (type 24).
  // Others get those hashes as plain ones (RdbSaveOptions::field_ttls).
  bool capa_field_ttls = false;
  // What the replica asked of its RDB (Redis' slave_req): REPLCONF rdb-filter-only keeps
  // only the parts named (7.0 knows "functions"; "" keeps nothing). Filtered RDBs always
  // go diskless, and only to replicas with capa eof.
  enum RdbExclude : unsigned { kExcludeKeys = 1, kExcludeFunctions = 2 };
  unsigned rdb_exclude = 0;
  // REPLCONF rdb-only 1 (redis-cli --rdb): the RDB and nothing after it; the connection
  // closes once the payload is sent (Redis' CLIENT_REPL_RDBONLY).
  bool rdb_only = false;
  bool pre_psync = false;   // came with SYNC: no +FULLRESYNC line before the payload
  State state = State::kWaitBgsave;
  bool queueing = false;    // the fork point passed: stream bytes are queued for it
  // After a diskless payload the stream waits for the replica's first ACK: its end is
  // found by the EOF mark, so nothing may follow the mark until the replica loaded.
  bool await_ack = false;
  int64_t ack_off = 0;
  int64_t ack_time_ms = 0;
  // Stream bytes not yet handed to the connection: held while the RDB is sent, then
  // moved over by a posted flush (at most one in flight).
  std::string outq;
  int64_t outq_soft_since_ms = 0;  // outq passed the replica soft limit then (0: below)
  bool flush_posted = false;
  std::atomic<bool> closed{false};
  std::atomic<int64_t> inflight{0};  // full sync bytes posted, not yet in the output
};

class ReplicationService : public Service, public PropagationSink {
 public:
  explicit ReplicationService(Host& h);
  ~ReplicationService() override;
  static ReplicationService* Of(Host* h);

  // Starts the cron thread and, with [replication] role = replica, the link.
  void Start();
  void Stop() override;

  // PropagationSink: a command the host propagated (never on a replica: its stream is
  // its primary's bytes, forwarded by ForwardFromPrimary).
  void Feed(int db, int argc, const ferrite_slice* argv) override;
  uint32_t Target() const override { return FERRITE_PROPAGATE_REPL; }

  // --- primary side (primary.cc, full_sync.cc) ---
  // PSYNC / SYNC from `c` (dispatch holds every shard lock: a fork now is a consistent
  // cut). Writes the reply and schedules what follows. `psync` false for SYNC.
  // `failover`: PSYNC <replid> <offset> FAILOVER, a primary handing its role over to
  // us (we promote ourselves first when the replid is ours).
  void HandleSync(ferrite_ctx* ctx, bool psync, std::string_view replid, std::string_view offset,
                  bool failover = false);
  // REPLCONF: returns an error text, or "" after replying (ACK replies nothing).
  std::string HandleReplconf(ferrite_ctx* ctx, int argc, const ferrite_slice* argv);
  // WAIT numreplicas timeout: replies or blocks the client (re-run when answered).
  // Returns the handler status (FERRITE_BLOCKED while waiting).
  int HandleWait(ferrite_ctx* ctx, int64_t numreplicas, int64_t timeout_ms);
  // The replica's connection closed (its close hook).
  void DropReplica(uint64_t client_id);
  // Replicas whose acknowledged offset reached `offset`.
  int CountAcked(int64_t offset);

  // --- replica side (replica_link.cc) ---
  // REPLICAOF host port / NO ONE. Returns the reply text (Redis' +OK forms) or an error.
  std::string ReplicaOf(const std::string& host, int port, bool no_one, Client* caller);
  // The role change itself; `who` names the requester in the log, `own_history` as
  // ReplicaLink's.
  std::string SetRole(const std::string& host, int port, bool no_one, const std::string& who,
                      bool own_history);
  // The link thread: bytes its primary sent, already applied, to forward to our own
  // replicas unchanged (so offsets agree along a chain).
  void ForwardFromPrimary(std::string_view bytes);
  // After a full sync from a primary: adopt its history (replid, offset) and drop our
  // replicas (their data is now from another history).
  void AdoptPrimaryHistory(const std::string& replid, int64_t offset);
  // After +CONTINUE <newid>: the primary's id changed (it was promoted).
  void SwitchReplid(const std::string& new_replid);
  // Registers the service as a propagation sink if it is not yet. The caller holds every
  // shard lock (a sink is added between commands). A replica keeps it registered (Feed
  // ignores what it runs) so that on promotion the stream goes on with no gap.
  void EnsureSinkAllLocked();
  // MASTERDOWN applies while a replica's link is down and replica-serve-stale-data no.
  void UpdateStaleFlag();

  // --- FAILOVER (failover.cc) ---
  enum class FailoverState { kNone, kWaitForSync, kInProgress };
  // FAILOVER [TO host port [FORCE]] [TIMEOUT ms] / FAILOVER ABORT: replies.
  void HandleFailover(ferrite_ctx* ctx, int argc, const ferrite_slice* argv);
  FailoverState failover_state() {
    std::lock_guard lk(mu_);
    return fo_state_;
  }
  // The link's PSYNC ... FAILOVER was answered +CONTINUE / +FULLRESYNC: done.
  void FailoverDone();
  // The failover cannot go on: back to primary (when the roles were already swapped)
  // and the writes go on. No-op without a failover.
  void AbortFailover(const char* why);

  // --- SHUTDOWN waiting for replicas (shutdown_wait.cc) ---
  bool DeferShutdown(std::function<void()> finish, Client* blocked);
  bool AbortShutdown();

  // Write pause owners (several may hold it at once).
  enum PauseOwner : unsigned { kPauseFailover = 1, kPauseShutdown = 2 };
  void PauseWrites(unsigned owner);
  void UnpauseWrites(unsigned owner);

  // --- introspection (repl_commands.cc) ---
  std::string InfoSection();
  void ReplyRole(ferrite_ctx* ctx);
  std::string replid() {
    std::lock_guard lk(mu_);
    return replid_;
  }
  int64_t master_offset() {
    std::lock_guard lk(mu_);
    return offset_;
  }

  Host& host() { return h_; }

 private:
  friend class ReplicaLink;
  // primary.cc
  void AppendStreamLocked(std::string_view bytes);  // backlog + every replica's queue
  void QueueLocked(const std::shared_ptr<ReplicaPeer>& r, std::string_view bytes);
  // r's held stream passed client-output-buffer-limit replica (hard, or soft for its
  // seconds); mu_ held.
  bool OutqOverLimitLocked(ReplicaPeer& r);
  void PostFlushLocked(const std::shared_ptr<ReplicaPeer>& r);
  void EnsureBacklogLocked();
  void DisconnectReplicas();
  void CronLoop();
  void CronTick();
  void UpdateGoodReplicas();
  void ServeWaiters();
  void FailoverCronStep();  // failover.cc
  void ShutdownCronStep();  // shutdown_wait.cc
  bool ReadyToShutdownLocked() const;
  std::shared_ptr<ReplicaPeer> PeerOf(uint64_t client_id);
  bool TryPartial(ferrite_ctx* ctx, const std::shared_ptr<ReplicaPeer>& r,
                  std::string_view replid, int64_t offset);
  // full_sync.cc
  // Replicas sharing one diskless full sync (one fork, one RDB to all of them): those
  // that ask while it waits its repl-diskless-sync-delay join it.
  // Only replicas asking for the same RDB (rdb_exclude) share one.
  struct DisklessBatch {
    std::vector<std::shared_ptr<ReplicaPeer>> peers;
    unsigned rdb_exclude = 0;
    bool delay = true;  // repl-diskless-sync-delay applies (not to a filtered RDB's own)
    bool forked = false;
  };
  void StartFullSync(const std::shared_ptr<ReplicaPeer>& r, bool psync);
  void RunSender(std::function<void()> body);
  bool RunFullSync(const std::shared_ptr<ReplicaPeer>& r, bool psync);
  void RunDisklessBatch(const std::shared_ptr<DisklessBatch>& b);
  bool StreamFile(const std::shared_ptr<ReplicaPeer>& r, pid_t pid, const std::string& path);
  bool Abandoned(const ReplicaPeer& r) const;
  bool PostChunk(const std::shared_ptr<ReplicaPeer>& r, std::string chunk);
  void FinishSync(const std::shared_ptr<ReplicaPeer>& r, bool ok);

  Host& h_;
  std::mutex mu_;
  std::string replid_, replid2_;
  int64_t offset_ = 0;          // master_repl_offset
  int64_t second_offset_ = -1;  // second_repl_offset
  std::unique_ptr<Backlog> backlog_;
  bool sink_added_ = false;
  std::vector<std::shared_ptr<ReplicaPeer>> replicas_;
  // Connections that sent REPLCONF but no PSYNC yet.
  std::map<uint64_t, std::shared_ptr<ReplicaPeer>> handshakes_;
  int good_replicas_ = 0;
  int64_t no_replicas_since_ms_ = 0;
  int64_t last_ping_ms_ = 0;

  struct Waiter {
    std::weak_ptr<Client> client;
    uint64_t client_id;
    int64_t offset;
    int64_t numreplicas;
    int64_t deadline_ms;  // 0 = none
    bool done = false;    // answered or timed out: the re-run replies
  };
  std::vector<Waiter> waiters_;
  bool getack_pending_ = false;

  // FAILOVER (failover.cc), under mu_.
  FailoverState fo_state_ = FailoverState::kNone;
  std::string fo_host_;  // the target; empty until chosen when FAILOVER named none
  int fo_port_ = 0;
  int64_t fo_end_ms_ = 0;  // 0 = no TIMEOUT
  bool fo_force_ = false;
  unsigned pause_owners_ = 0;

  // SHUTDOWN waiting for replicas (shutdown_wait.cc), under mu_.
  bool sd_active_ = false;
  int64_t sd_deadline_ms_ = 0;
  std::function<void()> sd_finish_;
  std::vector<std::weak_ptr<Client>> sd_blocked_;

  // Full-sync sender threads (detached; Stop waits for the count to reach zero).
  std::atomic<int> senders_active_{0};
  std::mutex senders_mu_;
  std::condition_variable senders_cv_;
  std::atomic<bool> stopping_{false};

  // Batches waiting their delay, by rdb_exclude; under mu_.
  std::map<unsigned, std::shared_ptr<DisklessBatch>> pending_batches_;
  void UnpendLocked(const std::shared_ptr<DisklessBatch>& b);

  std::unique_ptr<ReplicaLink> link_;
  std::vector<std::unique_ptr<ReplicaLink>> retired_links_;  // stopping; the cron joins them
  std::mutex link_mu_;  // link_ replacement (REPLICAOF) vs INFO

  std::thread cron_;
  std::mutex cron_mu_;
  std::condition_variable cron_cv_;
  bool stop_ = false;
};

void RegisterReplicationCommands(Host* h);

// A fresh 40-hex-digit replication id (Redis' getRandomHexChars).
std::string NewReplid();

}  // namespace ferrite::host::repl
