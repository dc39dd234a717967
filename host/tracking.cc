#include "host/tracking.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "host/client.h"
#include "host/host.h"
#include "host/registry.h"
#include "host/tracking_now.h"

namespace ferrite::host {

namespace {

constexpr std::string_view kChannel = "__redis__:invalidate";

// The client TrackingDeliverNow is active for on this thread, if any.
thread_local const Client* t_deliver_now = nullptr;

bool Overlap(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  return std::memcmp(a.data(), b.data(), n) == 0;
}

// Writes one invalidation to `c` on its own thread: a RESP3 push, or for a RESP2
// client that invalidations are redirected to and that is in Pub/Sub mode, a message
// on __redis__:invalidate. A RESP2 client without redirection gets nothing (RESP2 has
// no pushes on a request/reply connection), as in Redis.
void Write(Client* c, const std::vector<std::string>* keys, bool redirected) {
  if (!c->proto || c->closed.load()) return;
  const ferrite_reply_sink* s = c->proto->sink;
  void* st = c->proto_state;
  if (c->resp >= 3) {
    s->push(st, 2);
    s->bulk(st, "invalidate", 10);
  } else if (redirected && c->subscriptions > 0) {
    s->push(st, 3);
    s->bulk(st, "message", 7);
    s->bulk(st, kChannel.data(), kChannel.size());
  } else {
    return;
  }
  if (!keys) {
    s->null(st);
  } else {
    s->array(st, keys->size());
    for (auto& k : *keys) s->bulk(st, k.data(), k.size());
  }
  c->host->CheckOutputLimits(c);
  if (c->on_output) c->on_output();
}

}  // namespace

TrackingDeliverNow::TrackingDeliverNow(const Client* c) : prev_(t_deliver_now) {
  t_deliver_now = c;
}

TrackingDeliverNow::~TrackingDeliverNow() { t_deliver_now = prev_; }

void Tracking::Enable(Client* c, Options o) {
  auto& t = c->tracking;
  std::lock_guard lk(mu_);
  if (!t.on && tracking_ids_.insert(c->id).second) clients_.fetch_add(1);
  t.on = true;
  t.broken_redir = false;
  t.bcast = o.bcast;
  t.optin = o.optin;
  t.optout = o.optout;
  t.noloop = o.noloop;
  t.redirect = o.redirect;
  if (o.bcast) {
    if (o.prefixes.empty()) o.prefixes.emplace_back();
    for (auto& p : o.prefixes) {
      prefixes_[p].clients[c->id] = o.noloop;
      if (std::find(t.prefixes.begin(), t.prefixes.end(), p) == t.prefixes.end())
        t.prefixes.push_back(p);
    }
    std::sort(t.prefixes.begin(), t.prefixes.end());
  }
  // A client switching NOLOOP while already subscribed: every prefix follows.
  for (auto& p : t.prefixes) prefixes_[p].clients[c->id] = o.noloop;
}

void Tracking::Disable(Client* c) {
  auto& t = c->tracking;
  if (!t.on && t.prefixes.empty()) return;
  std::lock_guard lk(mu_);
  for (auto& p : t.prefixes) {
    auto it = prefixes_.find(p);
    if (it == prefixes_.end()) continue;
    it->second.clients.erase(c->id);
    if (it->second.clients.empty()) prefixes_.erase(it);
  }
  if (tracking_ids_.erase(c->id)) clients_.fetch_sub(1);
  // The table keeps the id: entries are dropped lazily, when the key changes (Redis).
  // With no client tracking any more every entry is stale, and the hooks no longer
  // look (Active() is false): the table goes, so no stale entry outlives that.
  if (tracking_ids_.empty()) {
    table_.clear();
    items_ = 0;
  }
  t = Client::TrackingState{};
}

std::string Tracking::PrefixCollision(const Client* c,
                                      const std::vector<std::string>& prefixes) const {
  for (size_t i = 0; i < prefixes.size(); i++) {
    for (auto& have : c->tracking.prefixes)
      if (Overlap(have, prefixes[i]))
        return "ERR Prefix '" + prefixes[i] + "' overlaps with an existing prefix '" + have +
               "'. Prefixes for a single client must not overlap.";
    for (size_t j = i + 1; j < prefixes.size(); j++)
      if (Overlap(prefixes[i], prefixes[j]))
        return "ERR Prefix '" + prefixes[i] + "' overlaps with another provided prefix '" +
               prefixes[j] + "'. Prefixes for a single client must not overlap.";
  }
  return {};
}

void Tracking::RememberKeys(Client* c, const Command* cmd, int argc, const ferrite_slice* argv) {
  const auto& t = c->tracking;
  if ((t.optin && !t.caching) || (t.optout && t.caching)) return;
  if (cmd->flags & FERRITE_CMD_PUBSUB) return;  // shard channels are not keys
  std::vector<int> idx;
  if (!cmd->Keys(argc, argv, idx) || idx.empty()) return;
  std::lock_guard lk(mu_);
  for (int i : idx) {
    auto& ids = table_[std::string(argv[i].ptr, argv[i].len)];
    if (std::find(ids.begin(), ids.end(), c->id) != ids.end()) continue;
    ids.push_back(c->id);
    items_++;
  }
}

void Tracking::InvalidateLocked(const Client* writer, std::string_view key, bool bcast,
                                std::vector<uint64_t>* targets) {
  if (bcast) {
    for (auto& [prefix, state] : prefixes_) {
      if (prefix.size() > key.size() || key.compare(0, prefix.size(), prefix) != 0) continue;
      state.keys[std::string(key)] = writer ? writer->id : 0;
      bcast_pending_.store(true, std::memory_order_relaxed);
    }
  }
  auto it = table_.find(std::string(key));
  if (it == table_.end()) return;
  *targets = std::move(it->second);
  items_ -= targets->size();
  table_.erase(it);
}

void Tracking::InvalidateKey(const Client* writer, std::string_view key) {
  std::vector<uint64_t> targets;
  {
    std::lock_guard lk(mu_);
    InvalidateLocked(writer, key, true, &targets);
  }
  if (targets.empty()) return;
  auto keys = std::make_shared<const std::vector<std::string>>(1, std::string(key));
  for (uint64_t id : targets) Deliver(id, Kind::kKey, keys, writer ? writer->id : 0);
}

void Tracking::InvalidateAll() {
  std::vector<uint64_t> ids;
  {
    std::lock_guard lk(mu_);
    ids.assign(tracking_ids_.begin(), tracking_ids_.end());
    table_.clear();
    items_ = 0;
  }
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) Deliver(id, Kind::kFlush, nullptr, 0);
}

void Tracking::FlushBroadcast() {
  if (!bcast_pending_.exchange(false, std::memory_order_relaxed)) return;
  struct Send {
    uint64_t id;
    std::shared_ptr<const std::vector<std::string>> keys;
  };
  std::vector<Send> sends;
  {
    std::lock_guard lk(mu_);
    for (auto& [prefix, state] : prefixes_) {
      if (state.keys.empty()) continue;
      auto all = std::make_shared<std::vector<std::string>>();
      for (auto& [k, w] : state.keys) all->push_back(k);
      for (auto& [id, noloop] : state.clients) {
        if (!noloop) {
          sends.push_back({id, all});
          continue;
        }
        // NOLOOP: the keys this client changed last are left out; nothing if none left.
        auto mine = std::make_shared<std::vector<std::string>>();
        for (auto& [k, w] : state.keys)
          if (w != id) mine->push_back(k);
        if (!mine->empty()) sends.push_back({id, std::move(mine)});
      }
      state.keys.clear();
    }
  }
  for (auto& s : sends) Deliver(s.id, Kind::kBcast, s.keys, 0);
}

void Tracking::LimitTableSize(int64_t max_keys) {
  if (max_keys <= 0) return;
  std::vector<std::pair<std::string, std::vector<uint64_t>>> dropped;
  {
    std::lock_guard lk(mu_);
    if (table_.size() <= static_cast<size_t>(max_keys)) {
      limit_rounds_ = 0;
      return;
    }
    // Redis' effort: 100 keys per run, more each run the table stays over the limit.
    uint64_t effort = 100 * (limit_rounds_ + 1);
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    while (effort-- > 0 && table_.size() > static_cast<size_t>(max_keys)) {
      auto it = table_.begin();
      size_t buckets = table_.bucket_count();
      size_t b = rng() % buckets;
      for (size_t n = 0; n < buckets && table_.bucket_size(b) == 0; n++) b = (b + 1) % buckets;
      auto local = table_.begin(b);
      if (local != table_.end(b)) it = table_.find(local->first);
      items_ -= it->second.size();
      dropped.emplace_back(it->first, std::move(it->second));
      table_.erase(it);
    }
    limit_rounds_ = table_.size() > static_cast<size_t>(max_keys) ? limit_rounds_ + 1 : 0;
  }
  // The key did not change: only the clients that cached it learn that it is no longer
  // tracked for them (no BCAST, no NOLOOP).
  for (auto& [key, ids] : dropped) {
    auto keys = std::make_shared<const std::vector<std::string>>(1, key);
    for (uint64_t id : ids) Deliver(id, Kind::kKey, keys, 0);
  }
}

void Tracking::Deliver(uint64_t id, Kind kind,
                       std::shared_ptr<const std::vector<std::string>> keys, uint64_t writer_id) {
  auto target = h_->FindClient(id);
  if (!target || !target->post) return;
  std::weak_ptr<Client> weak = target;
  Host* h = h_;
  auto deliver = [weak, h, kind, keys, writer_id] {
    auto c = weak.lock();
    if (!c || c->closed.load()) return;
    auto& t = c->tracking;
    if (!t.on) return;
    // Keys from the table are for default-mode clients only (one that switched to
    // BCAST since it read them gets none, as in Redis).
    if (kind == Kind::kKey && t.bcast) return;
    if (kind == Kind::kKey && t.noloop && writer_id == c->id) return;
    if (!t.redirect) {
      Write(c.get(), keys.get(), false);
      return;
    }
    auto redir = h->FindClient(t.redirect);
    if (!redir || redir->closed.load() || !redir->post) {
      t.broken_redir = true;
      if (c->resp >= 3 && c->proto) {
        const ferrite_reply_sink* s = c->proto->sink;
        s->push(c->proto_state, 2);
        s->bulk(c->proto_state, "tracking-redir-broken", 21);
        s->integer(c->proto_state, static_cast<int64_t>(t.redirect));
        if (c->on_output) c->on_output();
      }
      return;
    }
    std::weak_ptr<Client> weak_redir = redir;
    redir->post([weak_redir, keys] {
      if (auto r = weak_redir.lock()) Write(r.get(), keys.get(), true);
    });
  };
  // The client whose command is about to run, on its own thread: before that command.
  if (target.get() == t_deliver_now) deliver();
  else target->post(std::move(deliver));
}

uint64_t Tracking::NumKeys() const {
  std::lock_guard lk(mu_);
  return table_.size();
}

uint64_t Tracking::NumItems() const {
  std::lock_guard lk(mu_);
  return items_;
}

uint64_t Tracking::NumPrefixes() const {
  std::lock_guard lk(mu_);
  return prefixes_.size();
}

}  // namespace ferrite::host
