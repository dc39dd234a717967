// Parked clients (BLPOP & co.). A handler that finds nothing to serve calls
// block_on_keys; the client is queued on each key in arrival order. A write that
// signals a key posts a retry to the first waiter not already retrying; the retry runs
// the whole command again on the client's own thread. A waiter keeps its place until
// it is served or times out, so wake-ups are FIFO.
//
// A wake-up is a promise that somebody looks at the key: while one is pending, further
// signals for the waiter's keys are recorded on it (`deferred`) instead of waking the
// next waiter. When the woken client leaves the queue without blocking again — served,
// an error (BRPOPLPUSH onto a string), timed out, disconnected — the ready key and the
// deferred ones are signalled again, so what it did not take reaches the next waiter
// (Redis serves every waiter of a ready key while the key holds data). A client that
// blocks again saw all its keys empty: there is nothing to hand on. WAKE_ALL waiters
// (readers) consume nothing and hand nothing on.
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
    b.ready_key.clear();
    b.deferred.clear();
    if (argc > 0 && argv != nullptr) {
      b.argv.clear();
      for (int i = 0; i < argc; i++) b.argv.emplace_back(argv[i].ptr, argv[i].len);
    }
    return FERRITE_OK;
  }
  b.active = true;
  b.db = db;
  b.wake_all = (flags & FERRITE_BLOCK_WAKE_ALL) != 0;
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

void Host::PostRetry(const std::shared_ptr<Client>& c, std::string_view key) {
  c->block.retry_pending = true;
  c->block.ready_key.assign(key);
  std::weak_ptr<Client> weak = c;
  c->post([this, weak] { RerunBlocked(weak); });
}

// Runs a woken client's command again, on its own thread. While a script runs on another
// thread the retry waits for the script's end with its wake-up still pending (so FIFO
// order holds), as Redis serves no blocked client during a script.
void Host::RerunBlocked(const std::weak_ptr<Client>& weak) {
  auto cl = weak.lock();
  if (!cl || cl->closed || !cl->block.active) return;
  auto again = [this, weak] {
    if (auto c = weak.lock()) c->post([this, weak] { RerunBlocked(weak); });
  };
  if (!ServingWhileBusy() && script_started_ms.load(std::memory_order_relaxed) &&
      script_gate_.DeferUntilEnd(again))
    return;
  auto argv_copy = cl->block.argv;
  std::vector<ferrite_slice> argv;
  for (auto& a : argv_copy) argv.push_back({a.data(), a.size()});
  {
    std::lock_guard lk2(block_mu_);
    cl->block.retry_pending = false;
    cl->block.rerunning = true;
  }
  cl->block.busy_deferred = false;
  Execute(cl.get(), static_cast<int>(argv.size()), argv.data(), cl->proto->sink,
          cl->proto_state);
  {
    std::lock_guard lk2(block_mu_);
    cl->block.rerunning = false;
    // Execute met a script that turned busy meanwhile: keep the place, retry after it.
    if (cl->block.busy_deferred && cl->block.active) cl->block.retry_pending = true;
  }
  if (cl->block.busy_deferred && cl->block.active) {
    if (!script_gate_.DeferUntilEnd(again)) again();
    return;
  }
  if (!cl->block.active && cl->on_unblocked) cl->on_unblocked();
}

void Host::SignalKeyReady(int db, std::string_view key) {
  std::lock_guard lk(block_mu_);
  if (waiters_.empty()) return;
  auto it = waiters_.find(std::make_pair(db, std::string(key)));
  if (it == waiters_.end()) return;
  bool fifo_served = false;
  for (auto& w : it->second) {
    auto c = w.lock();
    // The waiter whose re-run is popping right now is skipped: what it leaves in the key
    // belongs to the next waiter.
    if (!c || !c->block.active || c->closed || c->block.rerunning) continue;
    if (c->block.wake_all) {  // readers: every one of them gets a re-run
      if (!c->block.retry_pending) PostRetry(c, key);
      continue;
    }
    if (fifo_served) continue;
    fifo_served = true;  // only the first consuming waiter; if it is already retrying,
    if (!c->block.retry_pending) {  // keep FIFO: nobody behind it goes first
      PostRetry(c, key);
      continue;
    }
    auto& d = c->block.deferred;  // it hands the key on if its wake-up does not take it
    if (c->block.ready_key != key && std::find(d.begin(), d.end(), key) == d.end())
      d.emplace_back(key);
  }
}

void Host::RetryBlocked(const std::shared_ptr<Client>& c) {
  std::lock_guard lk(block_mu_);
  if (!c->block.active || c->closed || c->block.retry_pending) return;
  PostRetry(c, {});  // no key woke it: nothing to serve first or hand on
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

std::vector<std::string> Host::DetachBlocked(Client* c) {
  std::vector<std::string> handoff;
  std::lock_guard lk(block_mu_);
  auto& b = c->block;
  if (!b.active) return handoff;
  for (auto& k : b.keys) {
    auto it = waiters_.find(std::make_pair(b.db, k));
    if (it == waiters_.end()) continue;
    std::erase_if(it->second, [&](auto& w) {
      auto s = w.lock();
      return !s || s.get() == c;
    });
    if (it->second.empty()) waiters_.erase(it);
  }
  if ((b.retry_pending || b.rerunning) && !b.wake_all) {
    if (!b.ready_key.empty()) handoff.push_back(std::move(b.ready_key));
    for (auto& k : b.deferred) handoff.push_back(std::move(k));
  }
  b.ready_key.clear();
  b.deferred.clear();
  b.active = false;
  b.retry_pending = false;
  stats_.blocked_clients.fetch_sub(1);
  return handoff;
}

void Host::UnblockClient(Client* c, bool timeout) {
  if (!c->block.active) return;
  int db = c->block.db;
  for (auto& k : DetachBlocked(c)) SignalKeyReady(db, k);
  if (timeout && c->proto) {
    if (c->block.on_timeout == FERRITE_BLOCK_TIMEOUT_NULL) c->proto->sink->null(c->proto_state);
    else c->proto->sink->null_array(c->proto_state);
  }
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
