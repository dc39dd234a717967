// Output buffer limits (Redis' client-output-buffer-limit and its bound on clients that
// never authenticated). A client's pending output is what its replies and pushes queued
// that the socket has not taken: `out` plus the connection's unsent bytes (Client::unsent).
//
// Checked on the client's own thread after output is queued (pushes, replies that did
// not fit in the socket) and from the cron for clients over the soft limit, so the soft
// limit fires once it has been exceeded for soft_seconds even when nothing more is
// published to the client (Redis checks in clientsCron).
#include "host/context.h"
#include "host/logging.h"

namespace ferrite::host {

namespace {

// Redis bounds a client that never authenticated to its 16 KB reply buffer plus 1 KB of
// reply list (REPLY_BUFFER_SIZE_UNAUTHENTICATED_CLIENT), so pipelining commands without
// reading the -NOAUTH replies cannot grow the server.
constexpr uint64_t kUnauthOutputLimit = 16 * 1024 + 1024;

}  // namespace

bool Host::CheckOutputLimits(Client* cl) {
  if (cl->closed.load() || cl->close_mode == FERRITE_CONN_CLOSE_NOW) return false;
  uint64_t pending = cl->out.size() + cl->unsent.load(std::memory_order_relaxed);
  bool kill = false;
  const char* why = "output buffer limits";
  if (auth_required.load(std::memory_order_relaxed) && !cl->authenticated &&
      !cl->ever_authenticated && pending > kUnauthOutputLimit) {
    kill = true;
    why = "output buffer limits (unauthenticated client)";
  }
  if (!kill && cl->subscriptions) {
    int64_t hard = pubsub_hard_limit->load(std::memory_order_relaxed);
    int64_t soft = pubsub_soft_limit->load(std::memory_order_relaxed);
    int64_t size = static_cast<int64_t>(pending);
    kill = hard > 0 && size >= hard;
    int64_t since = cl->out_soft_since_ms.load(std::memory_order_relaxed);
    if (soft > 0 && size >= soft) {
      int64_t now = clock_.NowMs();
      int64_t soft_s = pubsub_soft_seconds->load(std::memory_order_relaxed);
      if (since == 0) {
        cl->out_soft_since_ms.store(now, std::memory_order_relaxed);
        soft_clients_.fetch_add(1, std::memory_order_relaxed);
      } else if (now - since > soft_s * 1000) {
        kill = true;
      }
    } else if (since != 0) {
      cl->out_soft_since_ms.store(0, std::memory_order_relaxed);
      soft_clients_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (kill) stats_.pubsub_clients_killed.fetch_add(1);
  }
  if (!kill) return false;
  Logger("host.net")->warn("client id={} addr={} closed for overcoming of {}", cl->id, cl->addr,
                           why);
  cl->out.clear();
  cl->close_mode = FERRITE_CONN_CLOSE_NOW;
  return true;
}

void Host::CheckSoftLimitedClients() {
  if (soft_clients_.load(std::memory_order_relaxed) <= 0) return;
  for (auto& c : AllClients()) {
    if (c->out_soft_since_ms.load(std::memory_order_relaxed) == 0) continue;
    std::weak_ptr<Client> weak = c;
    c->post([this, weak] {
      auto cl = weak.lock();
      if (!cl || cl->closed.load()) return;
      if (CheckOutputLimits(cl.get()) && cl->on_output) cl->on_output();
    });
  }
}

}  // namespace ferrite::host
