// Idle clients: Redis' `timeout` (clientsCronHandleTimeout) on the RESP port and
// memcached's `-o idle_timeout` on the memcached port. The cron thread only reads each
// client's last_interaction_ms; the decision that needs the client's own state
// (subscriptions, blocking, protocol) runs on the client's thread, which then closes it.
#include "host/client.h"
#include "host/config.h"
#include "host/host.h"
#include "host/logging.h"

namespace ferrite::host {

namespace {

// Redis compares whole seconds: idle when now - lastinteraction > timeout (time_t).
bool IdleFor(int64_t now_ms, int64_t last_ms, int64_t timeout_s) {
  return timeout_s > 0 && now_ms / 1000 - last_ms / 1000 > timeout_s;
}

}  // namespace

void Host::CloseIdleClients() {
  int64_t resp_timeout = config_->Int("server.timeout");
  int64_t mc_timeout = config_->Int("compatibility.memcached_idle_timeout");
  if (resp_timeout <= 0 && mc_timeout <= 0) return;
  int64_t now = clock_.NowMs();
  if (now - last_idle_scan_ms_ < 1000) return;
  last_idle_scan_ms_ = now;
  for (auto& cl : AllClients()) {
    int64_t last = cl->last_interaction_ms.load(std::memory_order_relaxed);
    if (!IdleFor(now, last, resp_timeout) && !IdleFor(now, last, mc_timeout)) continue;
    if (!cl->post) continue;
    std::weak_ptr<Client> weak = cl;
    cl->post([weak, resp_timeout, mc_timeout] {
      auto c = weak.lock();
      if (!c || c->closed.load()) return;
      Host* h = c->host;
      int64_t timeout = c->is_memcached ? mc_timeout : resp_timeout;
      int64_t last = c->last_interaction_ms.load(std::memory_order_relaxed);
      if (!IdleFor(h->clock().NowMs(), last, timeout)) return;  // active meanwhile
      // Subscribers wait for messages and blocked clients for their keys, by design.
      if (!c->is_memcached && (c->subscriptions > 0 || c->block.active)) return;
      Logger("host.net")->debug("Closing idle client {}", c->addr);
      c->close_mode = FERRITE_CONN_CLOSE_NOW;
      if (c->on_output) c->on_output();
    });
  }
}

}  // namespace ferrite::host
