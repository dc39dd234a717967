#include "host/wake_chain.h"

#include <algorithm>
#include <atomic>

#include "host/host.h"

namespace ferrite::host {

namespace {

thread_local WakeScope* t_scope = nullptr;
std::atomic<uint64_t> g_chain_ids{0};

}  // namespace

WakeScope::WakeScope(Host* h, Client* c, std::vector<WakeChainRef> parents)
    : host_(h), client_(c), parents_(std::move(parents)), prev_(t_scope) {
  // Only a connection that can park its replies (Connection sets holds_for_wakeups) is
  // held; memcached has no blocking commands to order against, and the AOF loader and
  // in-process owners run to the end at once.
  can_hold_ = c != nullptr && c->holds_for_wakeups && !c->is_memcached && !c->aof_replay &&
              c->post != nullptr;
  t_scope = this;
}

WakeScope::~WakeScope() { t_scope = prev_; }

bool WakeScope::Owns(const Client* c) { return t_scope != nullptr && t_scope->client_ == c; }

// The scope's own link: a node that resumes its client (made at the first wake-up), or
// for a run that cannot be held, what it serves on behalf of, passed on as it is.
WakeChainRef WakeScope::Node() {
  if (node_) return node_;
  if (!can_hold_) {
    if (parents_.empty()) return nullptr;
    if (parents_.size() == 1) return parents_[0];
    node_ = std::make_shared<WakeChain>();
    node_->parents = parents_;
    return node_;
  }
  node_ = std::make_shared<WakeChain>();
  node_->parents = parents_;
  node_id_ = g_chain_ids.fetch_add(1, std::memory_order_relaxed) + 1;
  Host* h = host_;
  uint64_t id = client_->id, nid = node_id_;
  // A copy: the owner resets c->post when it closes, on its own thread.
  std::function<void(std::function<void()>)> post = client_->post;
  node_->on_done = [h, id, nid, post] {
    post([h, id, nid] {
      auto c = h->FindClient(id);
      if (!c || c->closed || c->wake_hold != nid) return;  // not held by this chain
      c->wake_hold = 0;
      if (c->on_unblocked) c->on_unblocked();
    });
  };
  return node_;
}

void WakeScope::Attach(Client* waiter) {
  WakeScope* s = t_scope;
  if (s == nullptr || s->client_ == waiter) return;
  auto& held = waiter->block.chains;
  auto add = [&](const WakeChainRef& r) {
    if (r && std::find(held.begin(), held.end(), r) == held.end()) held.push_back(r);
  };
  add(s->Node());
  for (auto& r : s->adopted_) add(r);
}

void WakeScope::Adopt(std::vector<WakeChainRef> chains) {
  if (t_scope == nullptr) return;
  for (auto& r : chains) t_scope->adopted_.push_back(std::move(r));
}

bool WakeScope::Finish() {
  adopted_.clear();
  if (!node_ || !can_hold_) {
    node_.reset();
    return false;
  }
  std::weak_ptr<WakeChain> alive = node_;
  node_.reset();
  // Dropped last (everything it woke is done already): its resume finds no hold.
  if (alive.expired()) return false;
  // If the last reference goes on another thread from here on, the resume it posts runs
  // on this client's thread after this run has returned, and finds the hold set.
  client_->wake_hold = node_id_;
  return true;
}

}  // namespace ferrite::host
