#include "host/client_eviction.h"

#include <algorithm>
#include <vector>

#include "host/context.h"
#include "host/logging.h"
#include "host/server_commands.h"

namespace ferrite::host {

namespace {

// Redis' floor on the limit, so that a tiny maxmemory-clients cannot lock everyone out.
constexpr uint64_t kMinLimit = 128 * 1024;
// One subscription in the pub/sub plugin's map of this client (an unordered_map node
// with a std::string key and its bucket slot); a name past the string's inline 15 bytes
// is not counted, as Redis counts only its dict entries.
constexpr uint64_t kSubscriptionBytes = 72;

bool CountsTowardLimit(const Client& c) {
  // Redis' CLIENT_TYPE_NORMAL and _PUBSUB (a MONITOR client is a normal one).
  return c.repl_kind == Client::ReplKind::kNone || c.monitor;
}

bool Evictable(const Client& c) {
  return CountsTowardLimit(c) && !c.no_evict && !c.evicted.load(std::memory_order_relaxed);
}

}  // namespace

uint64_t ClientStateBytes(const Client& c) {
  // The WATCHed keys' names are left out, as Redis leaves them out (a client may watch
  // many: this runs after every event on its connection).
  uint64_t bytes = c.watched.capacity() * sizeof(WatchedKey);
  bytes += c.subscriptions * kSubscriptionBytes;
  bytes += c.tracking.prefixes.capacity() * sizeof(std::string);
  for (auto& p : c.tracking.prefixes) bytes += p.capacity() > 15 ? p.capacity() + 1 : 0;
  return bytes;
}

uint64_t ClientMemoryUsage(const Client& c, uint64_t alloc) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  return sizeof(Client) + alloc + c.multi_mem.load(kRelaxed) + c.argv_mem.load(kRelaxed) +
         c.buffers.state.load(kRelaxed);
}

uint64_t ClientMemoryUsage(const Client& c) {
  return ClientMemoryUsage(c, c.buffers.alloc.load(std::memory_order_relaxed));
}

ClientEviction::ClientEviction(Host& h)
    : h_(h),
      setting_(h.config().IntRef("storage.max_memory_clients")),
      max_memory_(h.config().IntRef("storage.max_memory")) {}

uint64_t ClientEviction::Limit() const {
  int64_t v = setting_->load(std::memory_order_relaxed);
  uint64_t limit = 0;
  if (v < 0) {
    int64_t max = max_memory_->load(std::memory_order_relaxed);
    if (max <= 0) return 0;
    limit = static_cast<uint64_t>(static_cast<double>(max) * static_cast<double>(-v) / 100);
  } else if (v > 0) {
    limit = static_cast<uint64_t>(v);
  } else {
    return 0;
  }
  return std::max(limit, kMinLimit);
}

int64_t ClientEviction::CountedBytes(const Client& c, uint64_t alloc) const {
  if (!CountsTowardLimit(c) || c.evicted.load(std::memory_order_relaxed)) return 0;
  return static_cast<int64_t>(ClientMemoryUsage(c, alloc));
}

bool ClientEviction::Update(Client* c, uint64_t alloc) {
  uint64_t limit = Limit();
  if (limit == 0) return false;
  if (c->evicted.load(std::memory_order_relaxed)) return true;
  int64_t now = CountedBytes(*c, alloc);
  // Most events change nothing: no lock then.
  if (now == c->eviction_counted.load(std::memory_order_relaxed) &&
      total_.load(std::memory_order_relaxed) < static_cast<int64_t>(limit))
    return false;
  std::lock_guard lk(mu_);
  if (c->evicted.load(std::memory_order_relaxed)) return true;
  total_.fetch_add(now - c->eviction_counted.exchange(now));
  if (total_.load() < static_cast<int64_t>(limit)) return false;
  return EvictLocked(limit, c);
}

void ClientEviction::Forget(Client* c) {
  std::lock_guard lk(mu_);
  total_.fetch_sub(c->eviction_counted.exchange(0));
}

void ClientEviction::Recount() {
  uint64_t limit = Limit();
  if (limit == 0) return;
  auto clients = h_.AllClients();
  std::lock_guard lk(mu_);
  int64_t total = 0;
  for (auto& c : clients) {
    if (c->closed.load()) continue;  // Forget has run or is about to
    int64_t bytes = CountedBytes(*c, c->buffers.alloc.load(std::memory_order_relaxed));
    c->eviction_counted.store(bytes);
    total += bytes;
  }
  total_.store(total);
  if (total >= static_cast<int64_t>(limit)) EvictLocked(limit, nullptr);
}

bool ClientEviction::EvictLocked(uint64_t limit, Client* self) {
  std::vector<std::shared_ptr<Client>> candidates;
  for (auto& c : h_.AllClients())
    if (Evictable(*c) && c->eviction_counted.load() > 0) candidates.push_back(std::move(c));
  std::stable_sort(candidates.begin(), candidates.end(), [](auto& a, auto& b) {
    return a->eviction_counted.load() > b->eviction_counted.load();
  });
  bool self_evicted = false;
  auto log = Logger("host.net");
  for (auto& v : candidates) {
    if (total_.load() < static_cast<int64_t>(limit)) break;
    std::string line = ClientLine(&h_, *v);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    log->info("Evicting client: {}", line);
    v->evicted.store(true);
    total_.fetch_sub(v->eviction_counted.exchange(0));
    evicted_.fetch_add(1, std::memory_order_relaxed);
    if (v.get() == self) {
      self_evicted = true;
      continue;
    }
    std::weak_ptr<Client> w = v;
    v->post([w] {
      if (auto s = w.lock()) {
        s->close_mode = FERRITE_CONN_CLOSE_NOW;
        if (s->on_output) s->on_output();
      }
    });
  }
  if (total_.load() >= static_cast<int64_t>(limit)) {
    int64_t now = h_.clock().NowMs();
    if (now - last_over_log_ms_ >= 1000) {
      last_over_log_ms_ = now;
      log->warn("Over client maxmemory after evicting all evictable clients");
    }
  }
  return self_evicted;
}

}  // namespace ferrite::host
