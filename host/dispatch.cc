// Execute(): the one path every command takes, whatever protocol it came from.
//   lookup → arity → auth → ACL → subscribed-mode → LOADING → BUSY → MULTI queueing → OOM/eviction →
//   lock the command's shards (ascending) → handler → propagate (still locked) → unlock.
#include <chrono>
#include <cstring>
#include <optional>

#include "ferrite/errors.h"
#include "host/acl/gate.h"
#include "host/client_reply.h"
#include "host/context.h"
#include "host/introspection.h"
#include "host/logging.h"
#include "host/net.h"
#include "host/tracking_now.h"
#include "host/server_commands.h"

namespace ferrite::host {

namespace {

bool ArityOk(const Command* cmd, int argc) {
  return cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity;
}

void ReplyError(const ferrite_reply_sink* s, void* st, ferrite_error_code code,
                std::string_view detail = {}) {
  s->error(st, code, detail.data(), detail.size());
}

}  // namespace

namespace {

// Redis' text: the name cut at 128 bytes, then quoted arguments while the argument
// text is under 128 bytes, each cut to what is left of those 128.
std::string UnknownCommandText(int argc, const ferrite_slice* argv) {
  std::string args;
  for (int i = 1; i < argc && args.size() < 128; i++) {
    size_t room = 128 - args.size();
    args += '\'';
    args.append(argv[i].ptr, std::min<size_t>(argv[i].len, room));
    args += "' ";
  }
  std::string msg = "ERR unknown command '";
  msg.append(argv[0].ptr, std::min<size_t>(argv[0].len, 128));
  msg += "', with args beginning with: ";
  msg += args;
  for (auto& ch : msg)
    if (ch == '\r' || ch == '\n') ch = ' ';
  return msg;
}

// An EXEC refused before it runs (arity, NOAUTH, ...) ends the transaction and forgets
// the WATCHed keys, in or out of MULTI, with the refusal inside an EXECABORT: Redis'
// rejectCommand -> execCommandAbort. A client library then sees one EXECABORT for the
// whole transaction, never a plain error it could take for the first queued reply's.
ferrite_exec_result AbortExec(Host* h, Client* c, ferrite_error_code code,
                              std::string_view detail, const ferrite_reply_sink* sink, void* st) {
  ResetTransaction(c);
  char why[512];
  size_t n = ferrite_error_format(code, detail.data(), detail.size(), why, sizeof why);
  std::string_view reason(why, n);
  if (reason.substr(0, 4) == "ERR ") reason.remove_prefix(4);  // Redis' messages lack it
  std::string msg = "EXECABORT Transaction discarded because of: ";
  msg.append(reason);
  CountErrorReply(h, nullptr, FERRITE_E_EXECABORT, msg);
  ReplyError(sink, st, FERRITE_E_EXECABORT, msg);
  return c->close_mode ? FERRITE_EXEC_CLOSE : FERRITE_EXEC_DONE;
}

bool IsReadOnlyScript(const Command* c) {
  const std::string& n = c->name;
  return n == "eval_ro" || n == "evalsha_ro" || n == "fcall_ro";
}

bool IsTransactionControl(const Command* c) {
  const std::string& n = c->name;
  return n == "exec" || n == "discard" || n == "multi" || n == "watch" || n == "quit" ||
         n == "reset";
}


// Redis' replication checks in processCommand, at queue time inside MULTI as there:
// NOREPLICAS (a primary short of good replicas), READONLY (a read-only replica, except
// for its primary's stream), MASTERDOWN (a replica whose link is down, serving no stale
// data). `write` and `deny_stale` are the call's (an EXEC's include its queued
// commands'). One relaxed load each when replication is idle.
bool ReplicationAllows(Host* h, Client* c, bool write, bool deny_stale,
                       ferrite_error_code* code, std::string_view* text) {
  ReplicationHooks& r = h->replication();
  if (write && r.no_good_replicas.load(std::memory_order_relaxed) &&
      c->repl_kind != Client::ReplKind::kMaster) {
    *text = "NOREPLICAS Not enough good replicas to write.";
    return false;
  }
  if (write && r.read_only.load(std::memory_order_relaxed) &&
      c->repl_kind != Client::ReplKind::kMaster) {
    *code = FERRITE_E_READONLY;
    return false;
  }
  if (deny_stale && r.stale_refused.load(std::memory_order_relaxed) &&
      c->repl_kind != Client::ReplKind::kMaster) {
    *text = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    return false;
  }
  return true;
}

// The flags one call runs under (Redis' getCommandFlags): a module's call_flags decides
// for the commands whose flags depend on their arguments (EVAL of a no-writes script).
uint32_t RunFlags(Host* h, Client* c, const Command* cmd, uint32_t flags, int argc,
                  const ferrite_slice* argv, const ferrite_reply_sink* sink, void* st) {
  if (!cmd->call_flags) return flags;
  ferrite_ctx ctx{h, c, cmd, sink, st, argc, argv};
  return cmd->call_flags(&ctx, argc, argv, flags);
}

bool MayReplicate(uint32_t flags) {
  return flags & (FERRITE_CMD_WRITE | FERRITE_CMD_MAY_REPLICATE);
}

// The flags of the commands a transaction queued, ORed (Redis' mstate.cmd_flags), and
// in *missing the flags one of them lacks (mstate.cmd_inv_flags).
uint32_t QueuedFlags(Host* h, Client* c, const ferrite_reply_sink* sink, void* st,
                     uint32_t* missing) {
  uint32_t all = 0;
  *missing = 0;
  std::vector<ferrite_slice> q_argv;
  for (auto& q : c->queued) {
    const Command* qc = h->registry().Find(q[0]);
    if (!qc) continue;
    q_argv.clear();
    for (auto& a : q) q_argv.push_back({a.data(), a.size()});
    int qn = static_cast<int>(q_argv.size());
    uint32_t qf = CallFlags(qc, qc->FindSubcommand(qn, q_argv.data()));
    qf = RunFlags(h, c, qc, qf, qn, q_argv.data(), sink, st);
    all |= qf;
    *missing |= ~qf;
  }
  return all;
}

// What a write pause holds back (Redis' is_may_replicate_command): a write or
// may-replicate call, or an EXEC with one queued.
bool HeldByWritePause(Host* h, Client* c, const Command* cmd, uint32_t flags, int argc,
                      const ferrite_slice* argv, const ferrite_reply_sink* sink, void* st) {
  if (MayReplicate(RunFlags(h, c, cmd, flags, argc, argv, sink, st))) return true;
  if (cmd->name != "exec" || !c->in_multi) return false;
  uint32_t missing;
  return MayReplicate(QueuedFlags(h, c, sink, st, &missing));
}

void PropagateEffects(Host* h, ferrite_ctx& ctx, int argc, const ferrite_slice* argv) {
  const Command* cmd = ctx.cmd;
  // `forced` (propagate_to) without `dirty`: PUBLISH, which changes no key but goes to
  // the replicas (and never counts as a change).
  if ((!ctx.dirty && !ctx.forced) || ctx.drop_effects) return;
  if (ctx.dirty) h->stats().dirty.fetch_add(1, std::memory_order_relaxed);
  if (!ctx.propagate_overridden) {
    if (!(cmd->flags & FERRITE_CMD_WRITE) || (cmd->flags & FERRITE_CMD_SKIP_PROPAGATE)) return;
    if (ctx.parent) {
      std::vector<std::string> v;
      for (int i = 0; i < argc; i++) v.emplace_back(argv[i].ptr, argv[i].len);
      ctx.parent->propagated.push_back({ctx.client->db, kPropagateAll, std::move(v)});
      ctx.parent->propagate_overridden = true;
      ctx.parent->dirty = true;
      return;
    }
    h->Propagate(ctx.client->db, argc, argv);
    return;
  }
  if (ctx.parent) {
    for (auto& v : ctx.propagated) ctx.parent->propagated.push_back(std::move(v));
    ctx.parent->propagate_overridden = true;
    if (ctx.dirty) ctx.parent->dirty = true;
    if (ctx.forced) ctx.parent->forced = true;
    return;
  }
  if (ctx.propagated.empty() || !h->PropagationActive()) return;
  auto feed = [&](int db, const std::vector<std::string>& v, uint32_t targets) {
    std::vector<ferrite_slice> s;
    s.reserve(v.size());
    for (auto& a : v) s.push_back({a.data(), a.size()});
    h->Propagate(db, static_cast<int>(s.size()), s.data(), targets);
  };
  // MULTI/EXEC go to every target, whatever the commands between them (Redis'
  // propagatePendingCommands): the AOF of a transaction of PUBLISHes has MULTI, EXEC.
  bool wrap = ctx.propagated.size() > 1;
  if (wrap) feed(ctx.propagated.front().db, {"MULTI"}, kPropagateAll);
  for (auto& p : ctx.propagated) feed(p.db, p.argv, p.targets);
  if (wrap) feed(ctx.propagated.back().db, {"EXEC"}, kPropagateAll);
}

}  // namespace

// Command timing for INFO commandstats uses the CPU's time-stamp counter (a few cycles)
// rather than clock_gettime twice per command; calibrated once against steady_clock.
double CyclesPerUs() {
  static const double k = [] {
    auto t0 = std::chrono::steady_clock::now();
    uint64_t c0 = __builtin_ia32_rdtsc();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(5)) {
    }
    uint64_t c1 = __builtin_ia32_rdtsc();
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    double r = static_cast<double>(c1 - c0) / us;
    return r > 0 ? r : 1000.0;
  }();
  return k;
}

int RunHandler(Host* h, Client* c, const Command* cmd, int argc, const ferrite_slice* argv,
               const ferrite_reply_sink* sink, void* st, bool nested, ferrite_ctx* parent,
               uint32_t* errors) {
  ferrite_ctx ctx{h, c, cmd, sink, st, argc, argv};
  ctx.nested = nested;
  ctx.parent = parent;
  int rc = FERRITE_OK;
  try {
    rc = cmd->handler(&ctx, argc, argv);
  } catch (const std::exception& e) {
    std::string msg = std::string("ERR internal error: ") + e.what();
    SendError(&ctx, FERRITE_E_GENERIC, msg);
  } catch (...) {
    SendError(&ctx, FERRITE_E_GENERIC, "ERR internal error");
  }
  if (errors) *errors = ctx.errors;
  CloseAllKeys(&ctx);
  PropagateEffects(h, ctx, argc, argv);
  if (rc == FERRITE_BLOCKED && !ctx.blocked) rc = FERRITE_OK;
  return rc;
}

namespace {

// What ends with each command that is done (not parked), as Redis' resetClient: its
// arguments' bytes (CLIENT LIST argv-mem), and CLIENT REPLY SKIP, which covers the one
// command after it.
struct CommandDone {
  Client* c;
  ~CommandDone() {
    if (c->block.active) return;
    c->argv_mem.store(0, std::memory_order_relaxed);
    c->reply.skip = c->reply.skip_next;
    c->reply.skip_next = false;
  }
};

}  // namespace

ferrite_exec_result Host::Execute(Client* c, int argc, const ferrite_slice* argv,
                                  const ferrite_reply_sink* sink, void* st) {
  if (argc <= 0) return FERRITE_EXEC_DONE;
  // This command's wake chain (wake_chain.h), unless it runs inside c's own run already
  // (a woken client's re-run).
  std::optional<WakeScope> wake;
  if (!WakeScope::Owns(c)) wake.emplace(this, c);
  CommandDone done{c};
  uint64_t argv_bytes = 0;
  for (int i = 0; i < argc; i++) argv_bytes += argv[i].len;
  c->argv_mem.store(argv_bytes, std::memory_order_relaxed);
  // CLIENT REPLY OFF / SKIP: the replies go nowhere (pushes still go out).
  std::optional<MutedSink> muted;
  if (c->reply.off || c->reply.skip) [[unlikely]] {
    muted.emplace(sink, st, &c->reply);
    sink = muted->sink();
    st = muted->state();
  }
  SetCurrentHost(this);
  stats_.total_commands.fetch_add(1, std::memory_order_relaxed);
  c->last_cmd_ms = clock_.NowMs();

  // A command a pause held back runs afresh, as Redis processes a postponed client's
  // command from the start: checks, statistics and MONITOR as for a new command. It keeps
  // its place (and its ordered turn) until it runs or is held again.
  const bool was_postponed = c->block.postponed;
  if (was_postponed) {
    c->block.postponed = false;
    c->block.rerunning = false;
  }
  const Command* cmd = registry_.Find({argv[0].ptr, argv[0].len});
  const Subcommand* sub = nullptr;
  // Refused before it ran: counted in rejected_calls (Redis' rejectCommand).
  auto reject = [&](ferrite_error_code code, std::string_view detail) {
    if (c->in_multi) c->multi_error = true;
    if (cmd) StatsOf(cmd, sub).rejected.fetch_add(1, std::memory_order_relaxed);
    // A parked command's re-run refused now (READONLY after a FAILOVER) ends the wait.
    if (c->block.active) UnblockClient(c, false);
    if (cmd && cmd->name == "exec") {
      // MONITOR saw MULTI: EXEC closes the transaction there too (Redis' execCommandAbort).
      FeedMonitors(this, c, MonitorFeed::Origin::kClient, argc, argv);
      return AbortExec(this, c, code, detail, sink, st);
    }
    CountErrorReply(this, nullptr, code, detail);
    ReplyError(sink, st, code, detail);
    return c->close_mode ? FERRITE_EXEC_CLOSE : FERRITE_EXEC_DONE;
  };
  if (!cmd) return reject(FERRITE_E_UNKNOWN_CMD, UnknownCommandText(argc, argv));
  ferrite_error_code reject_code = FERRITE_E_GENERIC;
  std::string_view reject_text;
  c->last_cmd = cmd->name.c_str();
  if (!ArityOk(cmd, argc)) return reject(FERRITE_E_ARITY, cmd->name);
  // A container's declared subcommand has its own arity and flags ("config|get").
  sub = cmd->FindSubcommand(argc, argv);
  if (sub) c->last_cmd = sub->fullname.c_str();
  if (sub && ((sub->arity > 0 && argc != sub->arity) || (sub->arity < 0 && argc < -sub->arity)))
    return reject(FERRITE_E_ARITY, sub->fullname);
  const uint32_t flags = CallFlags(cmd, sub);
  if (!c->authenticated && !(flags & FERRITE_CMD_NOAUTH) &&
      auth_required.load(std::memory_order_relaxed))
    return reject(FERRITE_E_NOAUTH, {});
  // ACL (Redis' order: after auth; a no-multi command in MULTI is refused as such first).
  // A user with every permission costs this one test.
  if (!AclUnrestricted(c) && !(c->in_multi && (flags & FERRITE_CMD_NO_MULTI))) {
    std::string why;
    if (!AclAllowsCommand(this, c, cmd, sub, argc, argv, AclGateSite::kCommand, &why))
      return reject(FERRITE_E_GENERIC, why);
  }
  if (c->subscriptions > 0 && c->resp == 2 && !(flags & FERRITE_CMD_SUBSCRIBED_OK)) {
    std::string msg = "ERR Can't execute '" + cmd->name +
                      "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                      "allowed in this context";
    return reject(FERRITE_E_GENERIC, msg);
  }
  // EXEC writes if a queued command does, and refuses stale data if one does (Redis'
  // is_write_command / is_denystale_command): the state may have changed since queueing.
  bool write = flags & FERRITE_CMD_WRITE;
  bool deny_stale = !(flags & FERRITE_CMD_STALE);
  if (c->in_multi && cmd->name == "exec") {
    uint32_t missing;
    write = write || (QueuedFlags(this, c, sink, st, &missing) & FERRITE_CMD_WRITE);
    deny_stale = deny_stale || (missing & FERRITE_CMD_STALE);
  }
  if (!ReplicationAllows(this, c, write, deny_stale, &reject_code, &reject_text))
    return reject(reject_code, reject_text);
  // Redis' order: after auth and the pub/sub context, before queueing in MULTI.
  if (loading.active.load(std::memory_order_relaxed) && !(flags & FERRITE_CMD_LOADING) &&
      !c->aof_replay)
    return reject(FERRITE_E_GENERIC, "LOADING Redis is loading the dataset in memory");
  if (loading.async.load(std::memory_order_relaxed) &&
      LoadingState::DeniedWhileAsyncLoading(sub ? std::string_view(sub->fullname) : cmd->name))
    return reject(FERRITE_E_GENERIC, "LOADING Redis is loading the dataset in memory");
  bool denyoom = (flags & FERRITE_CMD_DENYOOM) &&
                 max_memory_->load(std::memory_order_relaxed) > 0;
  // BUSY comes before MULTI queueing, as in Redis: a command refused while a script is
  // busy makes the transaction's EXEC fail with EXECABORT. A script running on another
  // worker first holds every command back as Redis' single thread would, until the
  // script ends or turns busy (script_gate.h). Served from inside a yielding script on
  // this thread (ServeWhileBusy) it is BUSY at once: this thread holds every shard lock.
  bool in_yield = ServingWhileBusy();
  bool allow_busy = flags & FERRITE_CMD_ALLOW_BUSY;
  // The primary's stream on a replica is never answered BUSY (a refused write would be
  // lost): it waits for the script's end, as Redis defers its master client.
  bool obey = c->repl_kind == Client::ReplKind::kMaster;
  // The shards this command will lock (lock_plan.cc). Slot 1 serves the commands a
  // yielding script runs on this thread, whose own plan (slot 0) is then still in use.
  thread_local std::vector<int> t_shards[2];
  std::vector<int>& shards = t_shards[in_yield ? 1 : 0];
  bool planned = false;
  LockKind lock_kind = LockKind::kNone;
  auto plan = [&] {
    if (!planned) lock_kind = PlanLocks(cmd, c, argc, argv, shards);
    planned = true;
  };
  if (!in_yield) {
    // A script that declared its keys holds only their shards: a command on other
    // shards goes on; one that needs the script's shards waits on their locks instead.
    // Another script, and everything keyless or on every shard, waits here as before.
    bool passes = false;
    if (script_scoped.load(std::memory_order_relaxed) &&
        script_started_ms.load(std::memory_order_relaxed)) {
      plan();
      passes = lock_kind == LockKind::kShards && cmd->lock_rule != Command::LockRule::kScript;
    }
    if (!passes) WaitForYoungScript(obey);
  }
  std::string_view busy_text;
  // A blocked client's retry is never answered BUSY: it runs again after the script.
  auto busy = [&] {
    if (!c->block.rerunning) return reject(FERRITE_E_BUSY, busy_text);
    c->block.busy_deferred = true;
    return FERRITE_EXEC_BLOCKED;
  };
  if (!allow_busy && !obey && ScriptBusy(&busy_text)) return busy();
  // CLIENT PAUSE, and the write pause of a FAILOVER or SHUTDOWN waiting for replicas,
  // park the command until the pause ends or eases (client_pause.h), as Redis'
  // BLOCKED_POSTPONE: one relaxed load while there is none. Replicas' links are never
  // held here; a replica's primary stream waits in its link (replica_link.cc).
  if (client_pause_.Type() != PauseType::kOff && c->repl_kind == Client::ReplKind::kNone &&
      !c->aof_replay) {
    PauseType pause = client_pause_.Current(clock_.NowMs());
    if (pause == PauseType::kAll ||
        (pause == PauseType::kWrite &&
         HeldByWritePause(this, c, cmd, flags, argc, argv, sink, st))) {
      // Ordered: once the pause ends they run one at a time, in arrival order, as
      // Redis' single thread serves its postponed clients.
      if (BlockClient(c, c->db, nullptr, 0, 0, FERRITE_BLOCK_TIMEOUT_NULL, argc, argv,
                      FERRITE_BLOCK_WAKE_ORDERED) == FERRITE_OK) {
        c->block.postponed = true;
        client_pause_.Park(FindClient(c->id));
        return FERRITE_EXEC_BLOCKED;
      }
    }
  }
  if ((flags & FERRITE_CMD_WRITE) && !c->in_multi && !c->block.rerunning &&
      c->repl_kind == Client::ReplKind::kNone && !c->aof_replay &&
      cmd->lock_rule == Command::LockRule::kSpec && ParkBehindServing(c, cmd, argc, argv))
    return FERRITE_EXEC_BLOCKED;
  if (was_postponed) ReleasePostponed(c);  // it runs now; its turn ends when it is done
  // What Redis' processCommand does before running (or queueing) a command reaches this
  // client before the command's reply: invalidations of the keys eviction removes below,
  // and of those tracking-table-max-keys drops now (trackingLimitUsedSlots).
  // Nothing to do (one relaxed load) while no client tracks.
  std::optional<TrackingDeliverNow> deliver_now;
  if (tracking_.Active()) {
    deliver_now.emplace(c);
    tracking_.LimitTableSize(tracking_max_keys_->load(std::memory_order_relaxed));
  }
  if (c->in_multi && !IsTransactionControl(cmd)) {
    if (flags & FERRITE_CMD_NO_MULTI)
      return reject(FERRITE_E_GENERIC, "ERR Command not allowed inside a transaction");
    // Queueing takes memory too: over the limit, Redis refuses every command in MULTI.
    if (max_memory_->load(std::memory_order_relaxed) > 0 && !EvictIfNeeded())
      return reject(FERRITE_E_OOM, {});
    std::vector<std::string> q;
    q.reserve(argc);
    size_t bytes = sizeof(q) + argc * sizeof(std::string);
    for (int i = 0; i < argc; i++) {
      q.emplace_back(argv[i].ptr, argv[i].len);
      if (argv[i].len > 15) bytes += argv[i].len + 1;  // past libstdc++'s inline room
    }
    c->queued.push_back(std::move(q));
    c->multi_mem.fetch_add(bytes, std::memory_order_relaxed);
    sink->simple(st, "QUEUED", 6);
    return FERRITE_EXEC_DONE;
  }
  // As Redis' processCommand: with maxmemory set, every command first evicts what the
  // policy allows; the outcome refuses a DENYOOM command and is kept for scripts (their
  // first write may not be a DENYOOM command then). Not while serving inside a yielding
  // script: this thread holds every shard lock, which eviction would take again.
  // Nor while the startup load runs (Redis' isSafeToPerformEvictions): the loader is
  // linking keys and only `loading` commands get here. Eviction gives up on shards a
  // script on another worker holds (the command then gets BUSY, if the script is busy).
  bool oom = !in_yield && !loading.active.load(std::memory_order_relaxed) &&
             max_memory_->load(std::memory_order_relaxed) > 0 && !EvictIfNeeded();
  c->pre_command_oom = oom;
  if (denyoom && oom) return ScriptBusy(&busy_text) ? busy() : reject(FERRITE_E_OOM, {});
  // EXEC counts as DENYOOM when a queued command is (Redis' mstate.cmd_flags): memory
  // may have passed the limit since queueing; the transaction is then aborted.
  if (oom && c->in_multi && cmd->name == "exec") {
    for (auto& q : c->queued) {
      const Command* qc = registry_.Find(q[0]);
      if (qc && (qc->flags & FERRITE_CMD_DENYOOM)) return reject(FERRITE_E_OOM, {});
    }
  }
  if (write && writes_refused.load(std::memory_order_relaxed))
    return reject(FERRITE_E_MISCONF, {});

  LockSet locks;
  std::unique_lock<std::timed_mutex> script_slot;
  int rc = FERRITE_OK;
  uint32_t errors = 0;  // error replies the handler sent: failed_calls
  auto run = [&] { rc = RunHandler(this, c, cmd, argc, argv, sink, st, false, nullptr, &errors); };
  plan();
  bool keyed = lock_kind != LockKind::kNone;
  bool handed_over = false;
  bool stopped = false;
  // In a yield, an ALLOW_BUSY command with keys (WATCH) runs under the yielding script's
  // locks: the script is paused between two Lua instructions, outside any redis.call, so
  // the keyspace is consistent; shards it does not hold yet are added to its set
  // (ExtendHeld, kept until it ends). Another worker's client hands such a command to
  // the script's thread, which does the same.
  auto run_in_yield = [&] {
    if (ExtendHeld(lock_kind, shards)) run();
    else stopped = true;
  };
  if (keyed && in_yield) {
    if (!ExtendHeld(lock_kind, shards)) return FERRITE_EXEC_CLOSE;
  } else if (keyed) {
    if (allow_busy && script_started_ms.load(std::memory_order_relaxed))
      handed_over = script_gate_.RunInScriptYield(run_in_yield, &Host::StopRequested, this);
    // Giving up means a script holding the slot or the shards turned busy, or a shutdown.
    bool scoped_script = cmd->lock_rule == Command::LockRule::kScript &&
                         lock_kind == LockKind::kShards;
    if (!handed_over && ((scoped_script && !TakeScriptSlot(script_slot, !obey)) ||
                         !LockPlanned(locks, lock_kind, shards, !obey)))
      return ScriptBusy(&busy_text) ? busy() : FERRITE_EXEC_CLOSE;
  }
  if (stopped) return FERRITE_EXEC_CLOSE;
  deliver_now.reset();
  // A script is shown before it runs, so the commands it calls follow it (Redis' eval.c).
  if ((flags & FERRITE_CMD_SKIP_MONITOR) && !c->block.rerunning)
    FeedMonitors(this, c, MonitorFeed::Origin::kClient, argc, argv);
  uint64_t t0 = __builtin_ia32_rdtsc();
  if (!handed_over) run();
  // CLIENT TRACKING costs this one relaxed load per command while nobody tracks.
  const bool tracking = tracking_.Active();
  // Still under the shard locks: a write that follows the read finds the key in the
  // table. EVAL_RO & co. are not remembered themselves: their reads are (api.cc Call).
  if (tracking && c->tracking.on && !c->tracking.bcast && rc != FERRITE_BLOCKED &&
      (flags & FERRITE_CMD_READONLY) && !IsReadOnlyScript(cmd))
    tracking_.RememberKeys(c, cmd, argc, argv);
  locks.Release();
  // Redis' c->woff: what a later WAIT waits for. Not after WAIT itself, whose GETACK
  // went into the stream after the offset it waits for.
  if (cmd->name != "wait") c->woff = replication_.master_offset.load(std::memory_order_relaxed);
  uint64_t cycles = __builtin_ia32_rdtsc() - t0;
  // calls=1 for an XREADGROUP that blocked, then was served or failed.
  StatsOf(cmd, sub).Count(cycles, !c->block.rerunning, errors > 0, LatencyTracking());
  // A command that blocked is logged when it is served (its re-run comes back here).
  if (rc != FERRITE_BLOCKED) RecordCall(this, c, flags, argc, argv, cycles);

  if (tracking) {
    // CLIENT CACHING holds for the next command or transaction (Redis' resetClient).
    if (c->tracking.caching && !c->in_multi && cmd->name != "client") c->tracking.caching = false;
    if (tracking_.BroadcastPending()) tracking_.FlushBroadcast();
  }
  if (rc == FERRITE_BLOCKED) return FERRITE_EXEC_BLOCKED;
  if (c->block.active) UnblockClient(c, false);
  if (c->close_mode) return FERRITE_EXEC_CLOSE;
  // Redis serves the clients this command woke (and those they woke) before anything
  // else: the reply and the next command wait until they are done (the connection
  // resumes as after a blocked command).
  if (wake && wake->Finish()) return FERRITE_EXEC_BLOCKED;
  return FERRITE_EXEC_DONE;
}

void Host::Propagate(int db, int argc, const ferrite_slice* argv, uint32_t targets) {
  if (!PropagationActive()) return;
  std::lock_guard lk(prop_mu_);
  // Each sink has its own current db (as Redis' AOF and replication streams do): a
  // command that goes to some sinks only moves theirs.
  std::string dbs;
  for (auto& slot : prop_sinks_) {
    if (!(slot.sink->Target() & targets)) continue;
    if (db != slot.last_db) {
      if (dbs.empty()) dbs = std::to_string(db);
      ferrite_slice sel[2] = {{"SELECT", 6}, {dbs.data(), dbs.size()}};
      slot.sink->Feed(db, 2, sel);
      slot.last_db = db;
    }
    slot.sink->Feed(db, argc, argv);
  }
}

void Host::AddPropagationSink(PropagationSink* s) {
  std::lock_guard lk(prop_mu_);
  for (auto& slot : prop_sinks_) slot.last_db = -1;
  prop_sinks_.push_back({s, -1});
  prop_active_.store(true, std::memory_order_release);
}

void Host::ForceSelectOnNextPropagate() {
  std::lock_guard lk(prop_mu_);
  for (auto& slot : prop_sinks_) slot.last_db = -1;
}

void Host::RemovePropagationSink(PropagationSink* s) {
  std::lock_guard lk(prop_mu_);
  std::erase_if(prop_sinks_, [s](const SinkSlot& slot) { return slot.sink == s; });
  prop_active_.store(!prop_sinks_.empty(), std::memory_order_release);
}

}  // namespace ferrite::host
