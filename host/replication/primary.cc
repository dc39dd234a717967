// The primary side: the stream (Feed → backlog + each replica's queue → its
// connection), the PSYNC decision, REPLCONF, WAIT, and the cron (pings, timeouts,
// min-replicas, backlog TTL).
#include <algorithm>
#include <chrono>
#include <map>
#include <random>

#include "ferrite/module.hpp"
#include "host/acl/user.h"
#include "host/context.h"
#include "host/logging.h"
#include "host/replication/repl_stream.h"
#include "host/replication/replica_link.h"
#include "host/replication/replication.h"

namespace ferrite::host::repl {

namespace {

std::mutex g_services_mu;
std::map<Host*, ReplicationService*> g_services;

void OnReplicaClosed(void* ud, ferrite_conn_id id) {
  static_cast<ReplicationService*>(ud)->DropReplica(id);
}

void CloseClient(const std::shared_ptr<Client>& c) {
  std::weak_ptr<Client> w = c;
  c->post([w] {
    if (auto s = w.lock()) {
      s->close_mode = FERRITE_CONN_CLOSE_NOW;
      if (s->on_output) s->on_output();
    }
  });
}

std::string PeerName(const ReplicaPeer& r) { return r.ip + ":" + std::to_string(r.port); }

}  // namespace

std::string NewReplid() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lk(mu);
  static const char* kHex = "0123456789abcdef";
  std::string s(40, '0');
  for (auto& ch : s) ch = kHex[rng() & 15];
  return s;
}

ReplicationService::ReplicationService(Host& h)
    : h_(h), replid_(NewReplid()), replid2_(40, '0'), no_replicas_since_ms_(h.clock().NowMs()) {
  std::lock_guard lk(g_services_mu);
  g_services[&h_] = this;
  // Redis' replicaof (alias slaveof): "<host> <port>" of the primary this node
  // replicates from, "" on a primary. REPLICAOF changes it, CONFIG SET cannot.
  h_.config().SetView("replicaof", "slaveof", [this] {
    std::lock_guard lk(link_mu_);
    return link_ ? link_->host() + " " + std::to_string(link_->port()) : std::string();
  });
}

ReplicationService::~ReplicationService() {
  h_.config().DropView("replicaof");
  Stop();
  std::lock_guard lk(g_services_mu);
  g_services.erase(&h_);
}

ReplicationService* ReplicationService::Of(Host* h) {
  std::lock_guard lk(g_services_mu);
  auto it = g_services.find(h);
  return it == g_services.end() ? nullptr : it->second;
}

void ReplicationService::Start() {
  h_.replication().info_section = [this] { return InfoSection(); };
  h_.replication().backlog_bytes = [this] {
    std::lock_guard lk(mu_);
    return backlog_ ? static_cast<int64_t>(backlog_->size()) : int64_t{0};
  };
  h_.replication().defer_shutdown = [this](std::function<void()> finish, Client* blocked) {
    return DeferShutdown(std::move(finish), blocked);
  };
  h_.replication().abort_shutdown = [this] { return AbortShutdown(); };
  cron_ = std::thread([this] { CronLoop(); });
  if (h_.config().String("replication.role") == "replica" &&
      !h_.config().String("replication.master_host").empty()) {
    ReplicaOf(h_.config().String("replication.master_host"),
              static_cast<int>(h_.config().Int("replication.master_port")), false, nullptr);
  }
  h_.config().OnChange("replica-read-only", [this] {
    h_.replication().read_only = h_.replication().is_replica.load() &&
                                 h_.config().Bool("replication.replica_read_only");
  });
  // As Redis counts good replicas when a write comes: a changed setting applies to the
  // next command, not from the next cron tick.
  h_.config().OnChange("min-replicas-to-write", [this] { UpdateGoodReplicas(); });
  h_.config().OnChange("min-replicas-max-lag", [this] { UpdateGoodReplicas(); });
  h_.config().OnChange("repl-backlog-size", [this] {
    std::lock_guard lk(mu_);
    if (backlog_) backlog_->Resize(h_.config().Int("replication.repl_backlog_size"));
  });
}

void ReplicationService::Stop() {
  {
    std::lock_guard lk(cron_mu_);
    if (stop_) return;
    stop_ = true;
  }
  cron_cv_.notify_all();
  if (cron_.joinable()) cron_.join();
  std::vector<std::unique_ptr<ReplicaLink>> links;
  {
    std::lock_guard lk(link_mu_);
    links.swap(retired_links_);
    if (link_) links.push_back(std::move(link_));
  }
  for (auto& l : links) l->RequestStop();
  links.clear();  // joins their threads
  stopping_ = true;
  {
    std::unique_lock lk(senders_mu_);
    senders_cv_.wait(lk, [this] { return senders_active_.load() == 0; });
  }
  if (sink_added_) h_.RemovePropagationSink(this);
  sink_added_ = false;
  h_.replication().info_section = nullptr;
  h_.replication().backlog_bytes = nullptr;
  h_.replication().defer_shutdown = nullptr;
  h_.replication().abort_shutdown = nullptr;
}

// ------------------------------- the stream --------------------------------------------

void ReplicationService::Feed(int, int argc, const ferrite_slice* argv) {
  // A replica forwards its primary's bytes (ForwardFromPrimary) instead: what it runs
  // itself (applying that stream, lazy expiry) must not become a second stream.
  if (h_.replication().is_replica.load(std::memory_order_relaxed)) return;
  thread_local std::string buf;
  buf.clear();
  if (!RewriteForReplicas(argc, argv, &buf)) AppendCommand(&buf, argc, argv);
  std::lock_guard lk(mu_);
  AppendStreamLocked(buf);
}

void ReplicationService::ForwardFromPrimary(std::string_view bytes) {
  std::lock_guard lk(mu_);
  AppendStreamLocked(bytes);
}

void ReplicationService::AppendStreamLocked(std::string_view bytes) {
  offset_ += static_cast<int64_t>(bytes.size());
  h_.replication().master_offset.store(offset_, std::memory_order_relaxed);
  if (!backlog_) return;
  backlog_->Append(bytes);
  for (auto& r : replicas_)
    if (!r->closed && r->queueing) QueueLocked(r, bytes);
}

void ReplicationService::QueueLocked(const std::shared_ptr<ReplicaPeer>& r, std::string_view bytes) {
  r->outq.append(bytes);
  // The stream held while the RDB is sent counts against client-output-buffer-limit
  // replica, as Redis' replica output buffer: past it the replica is dropped, and it
  // reconnects and resyncs rather than hold memory for ever. Once online, the stream
  // is in the connection's output and Host::CheckOutputLimits applies the same limits.
  if (OutqOverLimitLocked(*r)) {
    h_.stats().output_limit_disconnections.fetch_add(1, std::memory_order_relaxed);
    Logger("host.replication")
        ->warn("Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
               PeerName(*r));
    r->closed = true;
    r->outq.clear();
    r->outq.shrink_to_fit();
    if (auto c = r->client.lock()) CloseClient(c);
    return;
  }
  if (r->state == ReplicaPeer::State::kOnline && !r->await_ack) PostFlushLocked(r);
}

bool ReplicationService::OutqOverLimitLocked(ReplicaPeer& r) {
  int64_t size = static_cast<int64_t>(r.outq.size());
  int64_t hard = h_.HardOutputLimit(Host::OutputClass::kReplica);
  if (hard > 0 && size >= hard) return true;
  const Host::OutputLimit& l = h_.output_limits[static_cast<int>(Host::OutputClass::kReplica)];
  int64_t soft = l.soft->load(std::memory_order_relaxed);
  if (soft <= 0 || size < soft) {
    r.outq_soft_since_ms = 0;
    return false;
  }
  int64_t now = h_.clock().NowMs();
  if (r.outq_soft_since_ms == 0) r.outq_soft_since_ms = now;
  return now - r.outq_soft_since_ms > l.soft_seconds->load(std::memory_order_relaxed) * 1000;
}

// One posted flush per replica at a time: a burst of writes becomes one append to the
// connection's output and one send, not a post per command.
void ReplicationService::PostFlushLocked(const std::shared_ptr<ReplicaPeer>& r) {
  if (r->flush_posted || r->outq.empty()) return;
  auto c = r->client.lock();
  if (!c) return;
  r->flush_posted = true;
  c->post([this, r] {
    std::string data;
    {
      std::lock_guard lk(mu_);
      data.swap(r->outq);
      r->flush_posted = false;
    }
    auto cl = r->client.lock();
    if (!cl || cl->closed || data.empty()) return;
    cl->out += data;
    if (cl->on_output) cl->on_output();
  });
}

void ReplicationService::EnsureSinkAllLocked() {
  if (sink_added_) return;
  h_.AddPropagationSink(this);
  sink_added_ = true;
}

// The first replica creates the backlog with a new history (Redis: no valid past).
void ReplicationService::EnsureBacklogLocked() {
  if (backlog_) return;
  replid_ = NewReplid();
  replid2_.assign(40, '0');
  second_offset_ = -1;
  backlog_ = std::make_unique<Backlog>(h_.config().Int("replication.repl_backlog_size"), offset_);
}

std::shared_ptr<ReplicaPeer> ReplicationService::PeerOf(uint64_t client_id) {
  for (auto& r : replicas_)
    if (r->client_id == client_id) return r;
  return nullptr;
}

void ReplicationService::DropReplica(uint64_t client_id) {
  std::lock_guard lk(mu_);
  for (auto& r : replicas_)
    if (r->client_id == client_id) {
      r->closed = true;
      if (r->state == ReplicaPeer::State::kOnline)
        Logger("host.replication")->info("Connection with replica {} lost.", PeerName(*r));
    }
  std::erase_if(replicas_, [&](auto& r) { return r->client_id == client_id; });
  handshakes_.erase(client_id);
  if (replicas_.empty()) no_replicas_since_ms_ = h_.clock().NowMs();
}

void ReplicationService::DisconnectReplicas() {
  std::vector<std::shared_ptr<Client>> victims;
  {
    std::lock_guard lk(mu_);
    for (auto& r : replicas_) {
      r->closed = true;
      if (auto c = r->client.lock()) victims.push_back(std::move(c));
    }
    replicas_.clear();
  }
  for (auto& c : victims) CloseClient(c);
}

// ------------------------------- PSYNC / SYNC ------------------------------------------

void ReplicationService::HandleSync(ferrite_ctx* ctx, bool psync, std::string_view replid,
                                    std::string_view offset_text, bool failover) {
  Client* c = ctx->client;
  if (c->repl_kind == Client::ReplKind::kReplica) return;  // already one: ignored, as Redis
  auto self = h_.FindClient(c->id);
  if (!self) return;
  auto fail = [&](std::string_view msg) {
    SendError(ctx, FERRITE_E_GENERIC, msg);
  };
  if (failover) {
    // Our primary's FAILOVER chose us: with the same history (its replid is ours) we
    // promote ourselves, then answer its PSYNC as any primary (+CONTINUE, new id).
    Logger("host.replication")->warn("Failover request received for replid {}.", replid);
    if (!h_.replication().is_replica.load())
      return fail("ERR PSYNC FAILOVER can't be sent to a master.");
    if (replid != this->replid()) return fail("ERR PSYNC FAILOVER replid must match my replid.");
    SetRole("", 0, true, "failover request from 'id=" + std::to_string(c->id) + " addr=" +
                             c->addr + "'", false);
  }
  // Replicas do not sync with us while we hand our role over.
  if (failover_state() != FailoverState::kNone)
    return fail("NOMASTERLINK Can't SYNC while failing over");
  if (h_.replication().is_replica.load()) {
    std::lock_guard lk(link_mu_);
    if (!link_ || !link_->connected()) {
      SendError(ctx, FERRITE_E_GENERIC,
                "NOMASTERLINK Can't SYNC while not connected with my master");
      return;
    }
  }
  std::shared_ptr<ReplicaPeer> r;
  {
    std::lock_guard lk(mu_);
    auto it = handshakes_.find(c->id);
    if (it != handshakes_.end()) {
      r = it->second;
      // A filtered RDB is only sent in the EOF-mark form (never through the snapshot
      // file), as Redis' syncCommand.
      if (r->rdb_exclude && !r->capa_eof) {
        SendError(ctx, FERRITE_E_GENERIC, "ERR Filtered replica requires EOF capability");
        return;
      }
      handshakes_.erase(it);
    }
  }
  if (!r) {
    r = std::make_shared<ReplicaPeer>();
    r->client_id = c->id;
    c->close_hooks.push_back({&OnReplicaClosed, this});
  }
  r->client = self;
  if (r->ip.empty()) r->ip = c->addr.substr(0, c->addr.rfind(':'));
  if (psync) {
    int64_t off = -1;
    std::string off_s(offset_text);
    char* end = nullptr;
    long long v = strtoll(off_s.c_str(), &end, 10);
    if (end && *end == '\0' && !off_s.empty()) off = v;
    if (TryPartial(ctx, r, replid, off)) return;
    if (replid != "?") h_.stats().sync_partial_err.fetch_add(1);
  }
  h_.stats().sync_full.fetch_add(1);
  c->repl_kind = Client::ReplKind::kReplica;
  c->authenticated = true;
  Logger("host.replication")
      ->info("Replica {} asks for synchronization; starting a full resynchronization",
             PeerName(*r));
  StartFullSync(r, psync);
}

bool ReplicationService::TryPartial(ferrite_ctx* ctx, const std::shared_ptr<ReplicaPeer>& r,
                                    std::string_view replid, int64_t offset) {
  auto log = Logger("host.replication");
  std::lock_guard lk(mu_);
  if (replid != replid_ && (replid != replid2_ || offset > second_offset_)) {
    if (replid != "?") {
      if (replid != replid_ && replid != replid2_)
        log->info("Partial resynchronization not accepted: Replication ID mismatch "
                  "(Replica asked for '{}', my replication IDs are '{}' and '{}')",
                  replid, replid_, replid2_);
      else
        log->info("Partial resynchronization not accepted: Requested offset for second ID "
                  "was {}, but I can reply up to {}", offset, second_offset_);
    } else {
      log->info("Full resync requested by replica {}", PeerName(*r));
    }
    return false;
  }
  if (!backlog_ || offset < backlog_->first_offset() || offset > offset_ + 1) {
    log->info("Unable to partial resync with replica {} for lack of backlog (Replica request "
              "was: {}).", PeerName(*r), offset);
    if (backlog_ && offset > offset_ + 1)
      log->warn("Warning: replica {} tried to PSYNC with an offset that is greater than the "
                "master replication offset.", PeerName(*r));
    return false;
  }
  ctx->client->repl_kind = Client::ReplKind::kReplica;
  ctx->client->authenticated = true;
  std::string reply = r->capa_psync2 ? "CONTINUE " + replid_ : "CONTINUE";
  ctx->sink->simple(ctx->st, reply.data(), reply.size());
  r->state = ReplicaPeer::State::kOnline;
  r->queueing = true;
  r->ack_time_ms = h_.clock().NowMs();
  backlog_->CopyFrom(offset, &r->outq);
  replicas_.push_back(r);
  PostFlushLocked(r);
  h_.stats().sync_partial_ok.fetch_add(1);
  log->info("Partial resynchronization request from {} accepted. Sending {} bytes of backlog "
            "starting from offset {}.", PeerName(*r), r->outq.size(), offset);
  return true;
}

// ------------------------------- REPLCONF ----------------------------------------------

std::string ReplicationService::HandleReplconf(ferrite_ctx* ctx, int argc,
                                               const ferrite_slice* argv) {
  Client* c = ctx->client;
  if (argc % 2 == 0) return "ERR syntax error";
  std::shared_ptr<ReplicaPeer> r;
  bool attached;
  {
    std::lock_guard lk(mu_);
    r = PeerOf(c->id);
    attached = r != nullptr;
    if (!r) {
      auto& slot = handshakes_[c->id];
      if (!slot) {
        slot = std::make_shared<ReplicaPeer>();
        slot->client_id = c->id;
        c->close_hooks.push_back({&OnReplicaClosed, this});
      }
      r = slot;
    }
  }
  for (int i = 1; i < argc; i += 2) {
    std::string_view opt(argv[i].ptr, argv[i].len), val(argv[i + 1].ptr, argv[i + 1].len);
    auto is = [&](std::string_view w) { return sdk::EqualsIgnoreCase(opt, w); };
    if (is("listening-port")) {
      int64_t port;
      if (!sdk::ParseInt64(val, &port)) return "ERR value is not an integer or out of range";
      std::lock_guard lk(mu_);
      r->port = static_cast<int>(port);
    } else if (is("ip-address")) {
      if (val.size() >= 46) return "ERR REPLCONF ip-address provided by replica instance is too long: " + std::to_string(val.size()) + " bytes";
      std::lock_guard lk(mu_);
      r->ip = val;
    } else if (is("capa")) {
      std::lock_guard lk(mu_);
      if (sdk::EqualsIgnoreCase(val, "eof")) r->capa_eof = true;
      else if (sdk::EqualsIgnoreCase(val, "psync2")) r->capa_psync2 = true;
      else if (sdk::EqualsIgnoreCase(val, kCapaFieldTtls)) r->capa_field_ttls = true;
    } else if (is("ack")) {
      // Only a replica's own link acknowledges; anything else is ignored, and an ACK is
      // never answered (the replica does not read replies).
      if (!attached || c->repl_kind != Client::ReplKind::kReplica) return "";
      int64_t off;
      if (!sdk::ParseInt64(val, &off)) return "";
      {
        std::lock_guard lk(mu_);
        if (off > r->ack_off) r->ack_off = off;
        r->ack_time_ms = h_.clock().NowMs();
        if (r->await_ack) {
          r->await_ack = false;
          PostFlushLocked(r);
        }
      }
      ServeWaiters();
      return "";
    } else if (is("getack")) {
      // Only a primary asks; the link thread answers it (replica_link.cc).
      return "";
    } else if (is("rdb-only")) {
      int64_t v;
      if (!sdk::ParseInt64(val, &v)) return "ERR value is not an integer or out of range";
      if (v < 0 || v > 1) return "ERR value is out of range, value must between 0 and 1";
      std::lock_guard lk(mu_);
      r->rdb_only = v == 1;
    } else if (is("rdb-filter-only")) {
      // Include filters: everything is left out but what is named. As Redis, the
      // filters before a bad one stay in force.
      std::vector<std::string> filters;
      if (!acl::SplitArgs(val, &filters)) return "ERR Missing rdb-filter-only values";
      std::lock_guard lk(mu_);
      r->rdb_exclude = ReplicaPeer::kExcludeKeys | ReplicaPeer::kExcludeFunctions;
      for (auto& f : filters) {
        if (!sdk::EqualsIgnoreCase(f, "functions"))
          return "ERR Unsupported rdb-filter-only option: " + f;
        r->rdb_exclude &= ~ReplicaPeer::kExcludeFunctions;
      }
    } else {
      return "ERR Unrecognized REPLCONF option: " + std::string(opt);
    }
  }
  ctx->sink->simple(ctx->st, "OK", 2);
  return "";
}

// ------------------------------- WAIT --------------------------------------------------

int ReplicationService::CountAcked(int64_t offset) {
  std::lock_guard lk(mu_);
  int n = 0;
  for (auto& r : replicas_)
    if (r->state == ReplicaPeer::State::kOnline && r->ack_off >= offset) n++;
  return n;
}

int ReplicationService::HandleWait(ferrite_ctx* ctx, int64_t numreplicas, int64_t timeout_ms) {
  Client* c = ctx->client;
  int64_t target;
  {
    std::lock_guard lk(mu_);
    auto it = std::find_if(waiters_.begin(), waiters_.end(),
                           [&](const Waiter& w) { return w.client_id == c->id; });
    if (it != waiters_.end() && it->done) {  // the re-run after an answer or the timeout
      target = it->offset;
      waiters_.erase(it);
      int n = 0;
      for (auto& r : replicas_)
        if (r->state == ReplicaPeer::State::kOnline && r->ack_off >= target) n++;
      ctx->sink->integer(ctx->st, n);
      return FERRITE_OK;
    }
    // The offset after the client's last command (Redis' woff), not the stream's end
    // now: other clients' later writes are not this client's to wait for.
    target = it != waiters_.end() ? it->offset : c->woff;
  }
  int acked = CountAcked(target);
  // Inside MULTI or a script WAIT cannot block: it answers what it has (Redis).
  if (acked >= numreplicas || ctx->nested || ctx->parent) {
    ctx->sink->integer(ctx->st, acked);
    return FERRITE_OK;
  }
  auto self = h_.FindClient(c->id);
  if (!self) return FERRITE_OK;
  ctx->blocked = true;
  if (h_.BlockClient(c, c->db, nullptr, 0, 0, FERRITE_BLOCK_TIMEOUT_NULL, ctx->argc, ctx->argv) !=
      FERRITE_OK) {
    ctx->blocked = false;
    ctx->sink->integer(ctx->st, acked);
    return FERRITE_OK;
  }
  std::lock_guard lk(mu_);
  bool known = std::any_of(waiters_.begin(), waiters_.end(),
                           [&](const Waiter& w) { return w.client_id == c->id; });
  if (!known) {
    int64_t deadline = timeout_ms > 0 ? h_.clock().NowMs() + timeout_ms : 0;
    waiters_.push_back({self, c->id, target, numreplicas, deadline, false});
    // Ask every replica for its offset now rather than within a second (Redis sends
    // GETACK before the event loop sleeps).
    // Not while writes are paused (Redis: neither): a FAILOVER or SHUTDOWN waits for
    // the replicas to reach an offset this would move.
    static const std::string kGetack = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    if (!replicas_.empty() && !pause_owners_) AppendStreamLocked(kGetack);
  }
  return FERRITE_BLOCKED;
}

void ReplicationService::ServeWaiters() {
  std::vector<std::shared_ptr<Client>> wake;
  {
    std::lock_guard lk(mu_);
    if (waiters_.empty()) return;
    int64_t now = h_.clock().NowMs();
    for (auto& w : waiters_) {
      if (w.done) continue;
      int n = 0;
      for (auto& r : replicas_)
        if (r->state == ReplicaPeer::State::kOnline && r->ack_off >= w.offset) n++;
      if (n >= w.numreplicas || (w.deadline_ms && now >= w.deadline_ms)) {
        w.done = true;
        if (auto c = w.client.lock()) wake.push_back(std::move(c));
      }
    }
    std::erase_if(waiters_, [](const Waiter& w) { return w.client.expired(); });
  }
  for (auto& c : wake) h_.RetryBlocked(c);
}

// ------------------------------- cron --------------------------------------------------

void ReplicationService::CronLoop() {
  SetCurrentHost(&h_);
  std::unique_lock lk(cron_mu_);
  while (!stop_) {
    cron_cv_.wait_for(lk, std::chrono::milliseconds(100));
    if (stop_) break;
    lk.unlock();
    try {
      CronTick();
    } catch (const std::exception& e) {
      Logger("host.replication")->error("replication cron: {}", e.what());
    }
    lk.lock();
  }
}

void ReplicationService::CronTick() {
  {
    std::vector<std::unique_ptr<ReplicaLink>> retired;
    {
      std::lock_guard lk(link_mu_);
      retired.swap(retired_links_);
    }
    retired.clear();  // joins their threads, with no lock held
  }
  int64_t now = h_.clock().NowMs();
  auto& cfg = h_.config();
  int64_t timeout_ms = cfg.Int("replication.repl_timeout") * 1000;
  int64_t ping_ms = cfg.Int("replication.repl_ping_replica_period") * 1000;
  std::vector<std::shared_ptr<Client>> timed_out;
  bool is_replica = h_.replication().is_replica.load();
  {
    std::lock_guard lk(mu_);
    // Pings keep idle replicas' links alive and their offsets moving (Redis feeds them
    // into the stream, so they count in the offsets). A replica forwards its primary's.
    // Not while writes are paused: a FAILOVER or SHUTDOWN waits for that offset.
    // The period runs from the server's start, not from a replica's arrival (Redis pings
    // on every period-th cron loop): a replica that attaches, or a period raised at run
    // time, gets its first PING at the next tick of that clock, not at once.
    if (last_ping_ms_ == 0) last_ping_ms_ = now;
    if (now - last_ping_ms_ >= ping_ms) {
      last_ping_ms_ = now;
      if (!is_replica && backlog_ && !replicas_.empty() && !pause_owners_) {
        static const std::string kPing = "*1\r\n$4\r\nPING\r\n";
        AppendStreamLocked(kPing);
      }
    }
    for (auto& r : replicas_) {
      if (r->state != ReplicaPeer::State::kOnline || r->closed) continue;
      if (now - r->ack_time_ms > timeout_ms) {
        Logger("host.replication")->warn("Disconnecting timedout replica (streaming sync): {}",
                                         PeerName(*r));
        r->closed = true;
        if (auto c = r->client.lock()) timed_out.push_back(std::move(c));
      }
    }
  }
  for (auto& c : timed_out) CloseClient(c);
  FailoverCronStep();
  ShutdownCronStep();
  ServeWaiters();
  UpdateGoodReplicas();
  // With no replica for repl-backlog-ttl seconds a primary frees its backlog (and stops
  // building the stream at all); the next replica starts a new history.
  int64_t ttl = cfg.Int("replication.repl_backlog_ttl");
  bool drop = false;
  {
    std::lock_guard lk(mu_);
    drop = ttl > 0 && !is_replica && backlog_ && replicas_.empty() && handshakes_.empty() &&
           now - no_replicas_since_ms_ > ttl * 1000;
  }
  if (drop) {
    LockSet locks;
    locks.AcquireAll(h_.keyspace());
    if (sink_added_) h_.RemovePropagationSink(this);
    sink_added_ = false;
    std::lock_guard lk(mu_);
    if (!replicas_.empty()) return;
    backlog_.reset();
    replid_ = NewReplid();
    replid2_.assign(40, '0');
    second_offset_ = -1;
    Logger("host.replication")
        ->info("Replication backlog freed after {} seconds without connected replicas.", ttl);
  }
}

void ReplicationService::UpdateGoodReplicas() {
  int64_t need = h_.config().Int("replication.min_replicas_to_write");
  int64_t lag = h_.config().Int("replication.min_replicas_max_lag");
  if (need <= 0 || lag <= 0 || h_.replication().is_replica.load()) {
    h_.replication().no_good_replicas = false;
    std::lock_guard lk(mu_);
    good_replicas_ = 0;
    return;
  }
  int64_t now = h_.clock().NowMs();
  std::lock_guard lk(mu_);
  int good = 0;
  for (auto& r : replicas_)
    if (r->state == ReplicaPeer::State::kOnline && (now - r->ack_time_ms) / 1000 <= lag) good++;
  good_replicas_ = good;
  h_.replication().no_good_replicas = good < need;
}

}  // namespace ferrite::host::repl
