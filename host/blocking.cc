// Parked clients (BLPOP & co.). A handler that finds nothing to serve calls
// block_on_keys; the client is queued on each key in arrival order. A write that
// signals a key posts a retry to the first waiter not already retrying; the retry runs
// the whole command again on the client's own thread. A waiter keeps its place until
// it is served or times out, so wake-ups are FIFO.
//
// FERRITE_BLOCK_WAKE_ALL waiters (XREAD) all get a re-run, concurrently. Waiters that
// consume from shared state (XREADGROUP, FERRITE_BLOCK_WAKE_ORDERED) all get a re-run
// too, but one at a time across the whole server, oldest waiter first: a signal queues
// each of them by arrival order, and a re-run is posted only when the one before it has
// finished (served, blocked again, timed out or closed). So the order in which they are
// served does not depend on which worker thread each client runs on, as in Redis, which
// serves the waiters of a key one after another in the order they blocked. A write to
// such a key that comes while turns are being taken queues behind them as a turn of its
// own (ParkBehindServing), so no later waiter sees it before an earlier one has looked.
//
// For consuming waiters (BLPOP, BZPOPMIN, ...) a wake-up is a promise that somebody
// looks at the key: while one is pending or running, further signals for the waiter's
// keys are recorded on it (`deferred`) instead of waking the next waiter, whose re-run
// on another thread could otherwise reach the key first and take the element meant for
// the earlier waiter. When the woken client
// leaves the queue without blocking again — served, an error (BRPOPLPUSH onto a string),
// timed out, disconnected — the key that woke it and the deferred ones are signalled
// again, so what it did not take reaches the next waiter (Redis serves every waiter of a
// ready key while the key holds data). A client that blocks again saw all its keys
// empty: there is nothing to hand on, but if a key was signalled during its run it
// looks once more, as that write may have come after it looked. Readers consume nothing and hand nothing on.
//
// Every wake-up (and every signal deferred on a waiter) carries the signalling run's wake
// chain (wake_chain.h): the writer's next command waits until the clients it woke, and
// those they woke, have been served, as in Redis.
#include <algorithm>

#include "host/context.h"
#include "host/logging.h"
#include "host/net.h"

namespace ferrite::host {

int Host::BlockClient(Client* c, int db, const ferrite_slice* keys, int nkeys, int64_t timeout_ms,
                      ferrite_block_timeout_reply on_timeout, int argc, const ferrite_slice* argv,
                      uint32_t flags) {
  std::shared_ptr<Client> self = FindClient(c->id);
  if (!self || !c->post) return FERRITE_ERR;
  std::lock_guard lk(block_mu_);
  c->block.retry_pending = false;
  auto& b = c->block;
  if (b.active) {
    // A retry that blocks again keeps its place; a rewritten command replaces the old one.
    b.deferred.clear();
    b.serving_by_key = false;  // it found its keys empty: nothing to hand on
    if (argc > 0 && argv != nullptr) {
      b.argv.clear();
      for (int i = 0; i < argc; i++) b.argv.emplace_back(argv[i].ptr, argv[i].len);
    }
    return FERRITE_OK;
  }
  b.active = true;
  b.db = db;
  b.ordered = (flags & FERRITE_BLOCK_WAKE_ORDERED) != 0;
  b.wake_all = !b.ordered && (flags & FERRITE_BLOCK_WAKE_ALL) != 0;
  b.signalled_while_running = false;
  b.woken_by_key = false;
  b.deferred.clear();
  b.keys.clear();
  for (int i = 0; i < nkeys; i++) b.keys.emplace_back(keys[i].ptr, keys[i].len);
  b.argv.clear();
  for (int i = 0; i < argc; i++) b.argv.emplace_back(argv[i].ptr, argv[i].len);
  b.on_timeout = on_timeout;
  b.deadline_ms = timeout_ms > 0 ? clock_.NowMs() + timeout_ms : 0;
  b.seq = ++block_seq_;
  for (auto& k : b.keys) waiters_[std::make_pair(db, k)].push_back(self);
  if (b.deadline_ms) deadlines_.emplace(b.deadline_ms, self);
  stats_.blocked_clients.fetch_add(1);
  return FERRITE_OK;
}

void Host::PostRetry(const std::shared_ptr<Client>& c) {
  c->block.retry_pending = true;
  std::weak_ptr<Client> weak = c;
  c->post([this, weak] { RerunBlocked(weak); });
}

void Host::QueueOrdered(const std::shared_ptr<Client>& c) {
  c->block.retry_pending = true;
  ordered_due_[c->block.seq] = c;
  NextOrderedTurn();
}

void Host::NextOrderedTurn() {
  while (ordered_turn_ == 0 && !ordered_due_.empty()) {
    auto c = ordered_due_.begin()->second.lock();
    ordered_due_.erase(ordered_due_.begin());
    if (!c || c->closed || !c->block.active) continue;
    uint64_t turn = ordered_turn_ = ++ordered_turn_seq_;
    ordered_holder_ = c->id;
    std::weak_ptr<Client> weak = c;
    c->post([this, weak, turn] { RerunBlocked(weak, turn); });
  }
  ordered_active_.store(ordered_turn_ != 0 || !ordered_due_.empty(), std::memory_order_relaxed);
}

// Redis serves every waiter a write made ready before it runs the next command, so a
// consumer that looked and found nothing is first in line for the next entry. Here the
// ordered waiters' re-runs take turns on their own threads after the write has
// answered: a second XADD arriving while they take their turns would be seen by a later
// consumer whose turn comes after it, ahead of an earlier one that already looked. So a
// write to a key with ordered waiters, while turns are being taken, is itself queued as
// a turn (with a newer sequence than every waiter), and runs once those ahead are done.
bool Host::ParkBehindServing(Client* c, const Command* cmd, int argc,
                             const ferrite_slice* argv) {
  if (!ordered_active_.load(std::memory_order_relaxed)) return false;
  thread_local std::vector<int> idx;
  if (!cmd->Keys(argc, argv, idx) || idx.empty()) return false;
  {
    std::lock_guard lk(block_mu_);
    if (ordered_turn_ == 0 && ordered_due_.empty()) return false;
    if (ordered_holder_ == c->id) return false;  // its own turn has come
    bool behind = false;
    for (int i : idx) {
      auto it = waiters_.find(std::make_pair(c->db, std::string(argv[i].ptr, argv[i].len)));
      if (it == waiters_.end()) continue;
      for (auto& w : it->second) {
        auto s = w.lock();
        if (s && s->block.active && s->block.ordered && !s->closed) behind = true;
      }
    }
    if (!behind) return false;
  }
  auto self = FindClient(c->id);
  if (!self || BlockClient(c, c->db, nullptr, 0, 0, FERRITE_BLOCK_TIMEOUT_NULL, argc, argv,
                           FERRITE_BLOCK_WAKE_ORDERED) != FERRITE_OK)
    return false;
  c->block.postponed = true;  // it runs afresh in its turn (dispatch.cc)
  std::lock_guard lk(block_mu_);
  QueueOrdered(self);
  return true;
}

void Host::EndOrderedTurn(uint64_t turn) {
  if (turn == 0 || turn != ordered_turn_) return;  // already ended (unblocked, closed)
  ordered_turn_ = ordered_holder_ = 0;
  NextOrderedTurn();
}

void Host::DropOrdered(Client* c) {
  if (!c->block.ordered) return;
  auto it = ordered_due_.find(c->block.seq);
  if (it != ordered_due_.end()) {
    auto s = it->second.lock();
    if (!s || s.get() == c) ordered_due_.erase(it);
  }
  if (ordered_holder_ == c->id) EndOrderedTurn(ordered_turn_);
  ordered_active_.store(ordered_turn_ != 0 || !ordered_due_.empty(), std::memory_order_relaxed);
}

// Runs a woken client's command again, on its own thread. While a script holding every
// shard runs on another thread the retry waits for the script's end with its wake-up
// still pending (so FIFO order holds), as Redis serves no blocked client during a
// script. A script that declared its keys holds only their shards: the retry then runs
// as any command would (on the script's shards it waits for their locks, and once the
// script is busy it is deferred below).
void Host::RerunBlocked(const std::weak_ptr<Client>& weak, uint64_t turn) {
  auto cl = weak.lock();
  if (!cl || cl->closed || !cl->block.active) {
    std::lock_guard lk(block_mu_);
    EndOrderedTurn(turn);
    return;
  }
  auto again = [this, weak, turn] {
    if (auto c = weak.lock()) c->post([this, weak, turn] { RerunBlocked(weak, turn); });
  };
  // Waiting for a script's end, it no longer holds its writers back: Redis would have
  // served it before the script, or answered them BUSY.
  auto drop_chains = [this, &cl] {
    std::vector<WakeChainRef> dropped;
    std::lock_guard lk2(block_mu_);
    dropped.swap(cl->block.chains);
  };
  if (!ServingWhileBusy() && script_started_ms.load(std::memory_order_relaxed) &&
      !script_scoped.load(std::memory_order_relaxed) && script_gate_.DeferUntilEnd(again)) {
    drop_chains();
    return;
  }
  auto argv_copy = cl->block.argv;
  std::vector<ferrite_slice> argv;
  for (auto& a : argv_copy) argv.push_back({a.data(), a.size()});
  std::vector<WakeChainRef> serving;  // the chains this re-run serves
  {
    std::lock_guard lk2(block_mu_);
    serving.swap(cl->block.chains);
    cl->block.retry_pending = false;
    cl->block.rerunning = true;
    cl->block.signalled_while_running = false;
    cl->block.serving_by_key = cl->block.woken_by_key;
    cl->block.serving_key = std::move(cl->block.woken_key);
    cl->block.woken_by_key = false;
    cl->block.woken_key.clear();
  }
  cl->block.busy_deferred = false;
  WakeScope wake(this, cl.get(), std::move(serving));
  Execute(cl.get(), static_cast<int>(argv.size()), argv.data(), cl->proto->sink,
          cl->proto_state);
  // Served: its next command waits for the clients it woke, as the writer's does.
  bool held = !cl->block.active && wake.Finish();
  {
    std::lock_guard lk2(block_mu_);
    cl->block.rerunning = false;
    cl->block.serving_by_key = false;
    // Execute met a script that turned busy meanwhile: keep the place, retry after it.
    if (cl->block.busy_deferred && cl->block.active) {
      cl->block.retry_pending = true;
    } else {
      // A reader blocked again while a key it waits on was signalled during its run: what
      // that signal announced may have come after it looked, so it looks again.
      if (cl->block.active && cl->block.signalled_while_running && !cl->block.retry_pending) {
        if (cl->block.ordered) QueueOrdered(cl);
        else PostRetry(cl);
      }
      cl->block.signalled_while_running = false;
      EndOrderedTurn(turn);
    }
  }
  if (cl->block.busy_deferred && cl->block.active) {
    drop_chains();
    if (!script_gate_.DeferUntilEnd(again)) again();
    return;
  }
  if (!cl->block.active && !held && cl->on_unblocked) cl->on_unblocked();
}

void Host::SignalKeyReady(int db, std::string_view key) {
  std::lock_guard lk(block_mu_);
  if (waiters_.empty()) return;
  auto it = waiters_.find(std::make_pair(db, std::string(key)));
  if (it == waiters_.end()) return;
  bool fifo_served = false;
  auto note = [&](Client* c) {
    if (c->block.woken_by_key) return;
    c->block.woken_by_key = true;
    c->block.woken_key = key;
  };
  for (auto& w : it->second) {
    auto c = w.lock();
    if (!c || !c->block.active || c->closed) continue;
    bool reader = c->block.wake_all || c->block.ordered;
    if (reader) {  // readers: every one of them gets a re-run
      WakeScope::Attach(c.get());
      // A reader running right now looks again once its run ends.
      if (c->block.rerunning) {
        c->block.signalled_while_running = true;
        note(c.get());
        continue;
      }
      if (c->block.retry_pending) continue;
      note(c.get());
      if (c->block.ordered) QueueOrdered(c);
      else PostRetry(c);
      continue;
    }
    if (fifo_served) continue;
    fifo_served = true;  // only the first consuming waiter: nobody behind it goes first
    WakeScope::Attach(c.get());  // woken now, or the write is deferred on it (below)
    if (!c->block.retry_pending && !c->block.rerunning) {
      note(c.get());
      PostRetry(c);
      continue;
    }
    // It is retrying already (pending, or running on its own thread). Waking the next
    // waiter now would race it for the key on another thread, and the later waiter could
    // take the element the earlier one was woken for. Instead the key goes on its
    // record: when it leaves the queue the key is handed on, and when it blocks again it
    // looks once more, since this write may have come after it looked.
    auto& d = c->block.deferred;
    bool known = std::find(d.begin(), d.end(), key) != d.end();
    if (c->block.rerunning) {
      c->block.signalled_while_running = true;
      note(c.get());  // the key of the look it takes if it blocks again
      known = known || (c->block.serving_by_key && c->block.serving_key == key);
    } else {
      known = known || (c->block.woken_by_key && c->block.woken_key == key);
    }
    if (!known) d.emplace_back(key);
  }
}

void Host::RetryBlocked(const std::shared_ptr<Client>& c) {
  std::lock_guard lk(block_mu_);
  if (!c->block.active || c->closed || c->block.retry_pending) return;
  PostRetry(c);
}

void Host::RetryPostponed(const std::shared_ptr<Client>& c) {
  std::lock_guard lk(block_mu_);
  if (!c->block.active || c->closed || c->block.retry_pending) return;
  if (c->block.ordered) QueueOrdered(c);
  else PostRetry(c);
}

void Host::ReleasePostponed(Client* c) {
  std::lock_guard lk(block_mu_);
  if (!c->block.active) return;
  // A parked command waits on no key and has no deadline: only its state goes.
  c->block.active = false;
  c->block.retry_pending = false;
  c->block.ordered = false;
  c->block.deferred.clear();
  c->block.chains.clear();
  stats_.blocked_clients.fetch_sub(1);
}

void Host::SignalDbFlushed(int db) {
  std::vector<std::pair<int, std::string>> keys;
  {
    std::lock_guard lk(block_mu_);
    for (auto& [k, w] : waiters_)
      if (db < 0 || k.first == db) keys.push_back(k);
  }
  for (auto& [d, k] : keys) SignalKeyReady(d, k);
}

std::vector<std::string> Host::DetachBlocked(Client* c, std::vector<WakeChainRef>* chains) {
  std::vector<std::string> handoff;
  std::lock_guard lk(block_mu_);
  auto& b = c->block;
  if (!b.active) return handoff;
  if (chains) chains->swap(b.chains);
  b.chains.clear();
  for (auto& k : b.keys) {
    auto it = waiters_.find(std::make_pair(b.db, k));
    if (it == waiters_.end()) continue;
    std::erase_if(it->second, [&](auto& w) {
      auto s = w.lock();
      return !s || s.get() == c;
    });
    if (it->second.empty()) waiters_.erase(it);
  }
  DropOrdered(c);
  if (!b.wake_all && !b.ordered) {
    // The key of the wake-up it is leaving with (running or still pending), then the
    // keys signalled meanwhile.
    if (b.rerunning && b.serving_by_key) handoff.push_back(b.serving_key);
    else if (b.retry_pending && b.woken_by_key) handoff.push_back(b.woken_key);
    if (b.rerunning || b.retry_pending)
      for (auto& k : b.deferred) handoff.push_back(std::move(k));
  }
  b.deferred.clear();
  b.active = false;
  b.retry_pending = false;
  stats_.blocked_clients.fetch_sub(1);
  return handoff;
}

void Host::UnblockClient(Client* c, bool timeout) {
  if (!c->block.active) return;
  int db = c->block.db;
  std::vector<WakeChainRef> chains;
  std::vector<std::string> handoff = DetachBlocked(c, &chains);
  // The hand-offs serve the chains it held: from its own run (served, or an error), or
  // on its behalf (closed, timed out, unblocked).
  if (WakeScope::Owns(c)) {
    WakeScope::Adopt(std::move(chains));
    for (auto& k : handoff) SignalKeyReady(db, k);
  } else {
    WakeScope on_behalf(this, nullptr, std::move(chains));
    for (auto& k : handoff) SignalKeyReady(db, k);
  }
  if (timeout && c->proto) {
    if (c->block.on_timeout == FERRITE_BLOCK_TIMEOUT_NULL) c->proto->sink->null(c->proto_state);
    else c->proto->sink->null_array(c->proto_state);
  }
}

bool Host::UnblockById(uint64_t id, bool error) {
  auto target = FindClient(id);
  // Only a command blocked on keys: a client parked by a write pause has none.
  if (!target || target->closed || !target->block.active || target->block.keys.empty())
    return false;
  std::weak_ptr<Client> weak = target;
  target->post([this, weak, error] {
    auto cl = weak.lock();
    if (!cl || cl->closed || !cl->block.active) return;
    // Redis 7.0 counts the blocked call as failed either way (updateStatsOnUnblock with
    // had_errors set, for TIMEOUT too).
    std::vector<ferrite_slice> argv;
    for (auto& a : cl->block.argv) argv.push_back({a.data(), a.size()});
    const Command* cmd = argv.empty() ? nullptr : registry_.Find({argv[0].ptr, argv[0].len});
    if (cmd)
      StatsOf(cmd, cmd->FindSubcommand(static_cast<int>(argv.size()), argv.data()))
          .failed.fetch_add(1, std::memory_order_relaxed);
    if (!error) {
      UnblockClient(cl.get(), true);
    } else {
      static constexpr std::string_view kText = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
      UnblockClient(cl.get(), false);
      CountErrorReply(this, nullptr, FERRITE_E_GENERIC, kText);
      if (cl->proto)
        cl->proto->sink->error(cl->proto_state, FERRITE_E_GENERIC, kText.data(), kText.size());
    }
    if (cl->on_unblocked) cl->on_unblocked();
  });
  return true;
}

void Host::ExpireBlockedClients() {
  std::vector<std::shared_ptr<Client>> due;
  {
    std::lock_guard lk(block_mu_);
    int64_t now = clock_.NowMs();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      auto c = deadlines_.begin()->second.lock();
      int64_t at = deadlines_.begin()->first;
      deadlines_.erase(deadlines_.begin());
      if (c && c->block.active && c->block.deadline_ms == at) due.push_back(std::move(c));
    }
  }
  for (auto& c : due) {
    std::weak_ptr<Client> weak = c;
    c->post([this, weak] {
      auto cl = weak.lock();
      if (!cl || cl->closed || !cl->block.active) return;
      UnblockClient(cl.get(), true);
      if (cl->on_unblocked) cl->on_unblocked();
    });
  }
}

size_t Host::blocked_count() {
  return static_cast<size_t>(std::max<int64_t>(0, stats_.blocked_clients.load()));
}

}  // namespace ferrite::host
