// SHUTDOWN (and SIGTERM / SIGINT) without NOW on a server with lagging replicas, as
// Redis 7.0: writes are paused, the replicas are asked for their offset (GETACK), and
// the shutdown goes on once every replica acknowledged the primary's offset or after
// shutdown-timeout seconds (lagging replicas are logged then). SHUTDOWN ABORT cancels:
// the waiting SHUTDOWN clients get "Errors trying to SHUTDOWN. Check logs." So a
// planned restart loses no write a client was told about.
#include "host/context.h"
#include "host/logging.h"
#include "host/replication/replication.h"

namespace ferrite::host::repl {

namespace {

constexpr std::string_view kAborted = "ERR Errors trying to SHUTDOWN. Check logs.";

// Unblocks a parked SHUTDOWN client with Redis' error, on its own thread.
void FailBlocked(Host& h, const std::shared_ptr<Client>& c) {
  std::weak_ptr<Client> w = c;
  c->post([&h, w] {
    auto cl = w.lock();
    if (!cl || cl->closed || !cl->block.active) return;
    h.UnblockClient(cl.get(), false);
    if (cl->proto) {
      CountErrorReply(&h, nullptr, FERRITE_E_GENERIC, kAborted);
      cl->proto->sink->error(cl->proto_state, FERRITE_E_GENERIC, kAborted.data(),
                             kAborted.size());
    }
    if (cl->on_unblocked) cl->on_unblocked();
  });
}

}  // namespace

// Redis' isReadyToShutdown: every replica (whatever its state) acknowledged our offset.
bool ReplicationService::ReadyToShutdownLocked() const {
  for (auto& r : replicas_)
    if (r->ack_off != offset_) return false;
  return true;
}

bool ReplicationService::DeferShutdown(std::function<void()> finish, Client* blocked) {
  static const std::string kGetack = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
  std::lock_guard lk(mu_);
  // A SHUTDOWN while one waits joins it (Redis: prepareForShutdown refuses a second).
  if (!sd_active_) {
    int64_t timeout_s = h_.config().Int("server.shutdown_timeout");
    if (timeout_s == 0 || ReadyToShutdownLocked()) return false;
    sd_active_ = true;
    sd_deadline_ms_ = h_.clock().NowMs() + timeout_s * 1000;
    sd_finish_ = std::move(finish);
    // Asked now rather than at the next second's ACK (not during a failover's pause:
    // it would move the offset that failover waits for).
    if (!pause_owners_ && backlog_) AppendStreamLocked(kGetack);
    pause_owners_ |= kPauseShutdown;
    h_.client_pause().Pause(PausePurpose::kShutdown, INT64_MAX, PauseType::kWrite);
    Logger("host.replication")->info("Waiting for replicas before shutting down.");
  }
  if (blocked) {
    if (auto self = h_.FindClient(blocked->id)) sd_blocked_.push_back(self);
  }
  return true;
}

bool ReplicationService::AbortShutdown() {
  std::vector<std::weak_ptr<Client>> blocked;
  {
    std::lock_guard lk(mu_);
    if (!sd_active_) return false;
    sd_active_ = false;
    sd_finish_ = nullptr;
    blocked.swap(sd_blocked_);
  }
  Logger("host.replication")->info("Shutdown manually aborted.");
  for (auto& w : blocked)
    if (auto c = w.lock()) FailBlocked(h_, c);
  UnpauseWrites(kPauseShutdown);
  return true;
}

void ReplicationService::ShutdownCronStep() {
  std::function<void()> finish;
  {
    std::lock_guard lk(mu_);
    if (!sd_active_) return;
    bool ready = ReadyToShutdownLocked();
    if (!ready && h_.clock().NowMs() < sd_deadline_ms_) return;
    auto log = Logger("host.replication");
    int64_t now = h_.clock().NowMs();
    size_t lagging = 0;
    for (auto& r : replicas_) {
      if (r->ack_off == offset_) continue;
      lagging++;
      int64_t lag = r->state == ReplicaPeer::State::kOnline ? (now - r->ack_time_ms) / 1000 : 0;
      const char* st = r->state == ReplicaPeer::State::kOnline ? "online"
                       : r->state == ReplicaPeer::State::kSendBulk ? "send_bulk"
                                                                   : "wait_bgsave";
      log->warn("Lagging replica {}:{} reported offset {} behind master, lag={}, state={}.",
                r->ip, r->port, offset_ - r->ack_off, lag, st);
    }
    if (!replicas_.empty())
      log->info("{} of {} replicas are in sync when shutting down.", replicas_.size() - lagging,
                replicas_.size());
    sd_active_ = false;
    finish.swap(sd_finish_);
    sd_blocked_.clear();
  }
  if (finish) finish();
}

}  // namespace ferrite::host::repl
