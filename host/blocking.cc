// Parked clients (BLPOP & co.). A handler that finds nothing to serve calls
// block_on_keys; the client is queued on each key in arrival order. A write that
// signals a key posts a retry to the first waiter not already retrying; the retry runs
// the whole command again on the client's own thread. A waiter keeps its place until
// it is served or times out, so wake-ups are FIFO.
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

void Host::PostRetry(const std::shared_ptr<Client>& c) {
  c->block.retry_pending = true;
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
      if (!c->block.retry_pending) PostRetry(c);
      continue;
    }
    if (fifo_served) continue;
    fifo_served = true;  // only the first consuming waiter; if it is already retrying,
    if (!c->block.retry_pending) PostRetry(c);  // keep FIFO: nobody behind it goes first
  }
}

void Host::RetryBlocked(const std::shared_ptr<Client>& c) {
  std::lock_guard lk(block_mu_);
  if (!c->block.active || c->closed || c->block.retry_pending) return;
  PostRetry(c);
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

void Host::UnblockClient(Client* c, bool timeout) {
  {
    std::lock_guard lk(block_mu_);
    if (!c->block.active) return;
    for (auto& k : c->block.keys) {
      auto it = waiters_.find(std::make_pair(c->block.db, k));
      if (it == waiters_.end()) continue;
      std::erase_if(it->second, [&](auto& w) {
        auto s = w.lock();
        return !s || s.get() == c;
      });
      if (it->second.empty()) waiters_.erase(it);
    }
    c->block.active = false;
    c->block.retry_pending = false;
    stats_.blocked_clients.fetch_sub(1);
  }
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
