// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms], Redis 7.0's coordinated
// failover, and the write pause it shares with SHUTDOWN:
//   1. the primary pauses client writes (dispatch parks them, ReplicationHooks);
//   2. the cron waits for a replica (the named one, or any) whose acknowledged offset
//      is the primary's; past TIMEOUT it gives up, or with FORCE goes on anyway;
//   3. the primary becomes a replica of it (its own history kept: ReplicaLink's
//      own_history) and its link sends `PSYNC <replid> <offset> FAILOVER`;
//   4. the target, seeing its own replid there, promotes itself and answers +CONTINUE
//      with a new id; the old primary ends the failover and unpauses (its parked
//      writes now get -READONLY). Any other answer aborts: back to primary.
#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/logging.h"
#include "host/replication/replica_link.h"
#include "host/replication/replication.h"

namespace ferrite::host::repl {

namespace {

std::string_view SV(const ferrite_slice& s) { return {s.ptr, s.len}; }

void Reply(ferrite_ctx* c, std::string_view err) {
  SendError(c, FERRITE_E_GENERIC, err);
}

// Redis' getLongFromObjectOrReply: a whole decimal number in a long.
bool ParseLong(std::string_view s, int64_t* out) { return sdk::ParseInt64(s, out); }

}  // namespace

// ------------------------------- the write pause ---------------------------------------

namespace {
PausePurpose PurposeOf(unsigned owner) {
  return owner == ReplicationService::kPauseFailover ? PausePurpose::kFailover
                                                     : PausePurpose::kShutdown;
}
}  // namespace

void ReplicationService::PauseWrites(unsigned owner) {
  {
    std::lock_guard lk(mu_);
    pause_owners_ |= owner;
  }
  h_.client_pause().Pause(PurposeOf(owner), INT64_MAX, PauseType::kWrite);
}

// The parked clients run again in arrival order, through dispatch (now -READONLY after a
// failover, or run on the still-primary after an abort).
void ReplicationService::UnpauseWrites(unsigned owner) {
  {
    std::lock_guard lk(mu_);
    pause_owners_ &= ~owner;
  }
  h_.client_pause().Unpause(PurposeOf(owner));
}

// ------------------------------- FAILOVER ----------------------------------------------

void ReplicationService::HandleFailover(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  auto log = Logger("host.replication");
  if (argc == 2 && sdk::EqualsIgnoreCase(SV(argv[1]), "abort")) {
    if (failover_state() == FailoverState::kNone) return Reply(c, "ERR No failover in progress.");
    AbortFailover("Failover manually aborted");
    c->sink->simple(c->st, "OK", 2);
    return;
  }
  int64_t timeout_ms = 0, port = 0;
  bool force = false, has_host = false;
  std::string host;
  for (int j = 1; j < argc; j++) {
    std::string_view a = SV(argv[j]);
    if (sdk::EqualsIgnoreCase(a, "timeout") && j + 1 < argc && timeout_ms == 0) {
      if (!ParseLong(SV(argv[j + 1]), &timeout_ms))
        return Reply(c, "ERR value is not an integer or out of range");
      if (timeout_ms <= 0) return Reply(c, "ERR FAILOVER timeout must be greater than 0");
      j++;
    } else if (sdk::EqualsIgnoreCase(a, "to") && j + 2 < argc && !has_host) {
      if (!ParseLong(SV(argv[j + 2]), &port))
        return Reply(c, "ERR value is not an integer or out of range");
      host = SV(argv[j + 1]);
      has_host = true;
      j += 2;
    } else if (sdk::EqualsIgnoreCase(a, "force") && !force) {
      force = true;
    } else {
      return Reply(c, "ERR syntax error");
    }
  }
  {
    std::lock_guard lk(mu_);
    if (fo_state_ != FailoverState::kNone) return Reply(c, "ERR FAILOVER already in progress.");
  }
  if (h_.replication().is_replica.load())
    return Reply(c, "ERR FAILOVER is not valid when server is a replica.");
  std::lock_guard lk(mu_);
  if (replicas_.empty()) return Reply(c, "ERR FAILOVER requires connected replicas.");
  if (force && (!timeout_ms || !has_host))
    return Reply(c, "ERR FAILOVER with force option requires both a timeout and target HOST "
                    "and IP.");
  if (has_host) {
    std::shared_ptr<ReplicaPeer> target;
    for (auto& r : replicas_)
      if (sdk::EqualsIgnoreCase(r->ip, host) && r->port == port) target = r;
    if (!target) return Reply(c, "ERR FAILOVER target HOST and PORT is not a replica.");
    if (target->state != ReplicaPeer::State::kOnline)
      return Reply(c, "ERR FAILOVER target replica is not online.");
    fo_host_ = host;
    fo_port_ = static_cast<int>(port);
    log->info("FAILOVER requested to {}:{}.", host, port);
  } else {
    fo_host_.clear();
    fo_port_ = 0;
    log->info("FAILOVER requested to any replica.");
  }
  fo_end_ms_ = timeout_ms ? h_.clock().NowMs() + timeout_ms : 0;
  fo_force_ = force;
  fo_state_ = FailoverState::kWaitForSync;
  pause_owners_ |= kPauseFailover;
  h_.client_pause().Pause(PausePurpose::kFailover, INT64_MAX, PauseType::kWrite);
  c->sink->simple(c->st, "OK", 2);
}

// Every cron tick while waiting for the target: the timeout, then the offsets.
void ReplicationService::FailoverCronStep() {
  std::string host;
  int port = 0;
  {
    std::lock_guard lk(mu_);
    if (fo_state_ != FailoverState::kWaitForSync) return;
    auto log = Logger("host.replication");
    if (fo_end_ms_ && fo_end_ms_ <= h_.clock().NowMs()) {
      if (!fo_force_) {
        // abort below, without mu_
      } else {
        log->info("FAILOVER to {}:{} time out exceeded, failing over.", fo_host_, fo_port_);
        fo_state_ = FailoverState::kInProgress;
        host = fo_host_;
        port = fo_port_;
      }
    }
    if (host.empty() && !(fo_end_ms_ && fo_end_ms_ <= h_.clock().NowMs())) {
      std::shared_ptr<ReplicaPeer> caught_up;
      for (auto& r : replicas_) {
        bool named = fo_host_.empty() ||
                     (sdk::EqualsIgnoreCase(r->ip, fo_host_) && r->port == fo_port_);
        if (named && r->ack_off == offset_) {
          caught_up = r;
          break;
        }
      }
      if (!caught_up) return;
      fo_host_ = caught_up->ip;
      fo_port_ = caught_up->port;
      fo_state_ = FailoverState::kInProgress;
      log->info("Failover target {}:{} is synced, failing over.", fo_host_, fo_port_);
      host = fo_host_;
      port = fo_port_;
    }
  }
  if (host.empty()) {
    AbortFailover("Replica never caught up before timeout");
    return;
  }
  // Our replicas are dropped and the link offers our own history, with FAILOVER.
  SetRole(host, port, false, "failover", true);
}

void ReplicationService::FailoverDone() {
  {
    std::lock_guard lk(mu_);
    if (fo_state_ == FailoverState::kNone) return;
    fo_state_ = FailoverState::kNone;
    fo_host_.clear();
    fo_port_ = 0;
    fo_end_ms_ = 0;
    fo_force_ = false;
  }
  UnpauseWrites(kPauseFailover);
}

void ReplicationService::AbortFailover(const char* why) {
  bool swapped;
  {
    std::lock_guard lk(mu_);
    if (fo_state_ == FailoverState::kNone) return;
    auto log = Logger("host.replication");
    if (!fo_host_.empty())
      log->info("FAILOVER to {}:{} aborted: {}", fo_host_, fo_port_, why);
    else
      log->info("FAILOVER to any replica aborted: {}", why);
    swapped = fo_state_ == FailoverState::kInProgress;
  }
  if (swapped) SetRole("", 0, true, std::string("failover aborted: ") + why, false);
  FailoverDone();
}

}  // namespace ferrite::host::repl
