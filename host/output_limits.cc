// Output buffer limits (Redis' client-output-buffer-limit, its three classes, and its
// bound on clients that never authenticated). A client's pending output is what its
// replies and pushes queued that the socket has not taken: `out` plus the connection's
// unsent bytes (Client::unsent).
//
// Checked on the client's own thread after output is queued (replies, pushes, a
// replica's stream) and from the cron for clients over a soft limit, so the soft limit
// fires once it has been exceeded for soft_seconds even when nothing more is queued
// (Redis checks in clientsCron). A replica's stream waiting while the RDB is sent is
// checked by the replication service (primary.cc) with the same limits.
#include "host/context.h"
#include "host/logging.h"
#include "host/server_commands.h"

namespace ferrite::host {

namespace {

// Redis bounds a client that never authenticated to its 16 KB reply buffer plus 1 KB of
// reply list (REPLY_BUFFER_SIZE_UNAUTHENTICATED_CLIENT), so pipelining commands without
// reading the -NOAUTH replies cannot grow the server.
constexpr uint64_t kUnauthOutputLimit = 16 * 1024 + 1024;

}  // namespace

Host::OutputClass Host::OutputClassOf(const Client& c) {
  if (c.repl_kind == Client::ReplKind::kReplica && !c.monitor) return OutputClass::kReplica;
  if (c.subscriptions) return OutputClass::kPubsub;
  return OutputClass::kNormal;
}

int64_t Host::HardOutputLimit(OutputClass cls) const {
  int64_t hard = output_limits[static_cast<int>(cls)].hard->load(std::memory_order_relaxed);
  if (cls == OutputClass::kReplica && hard > 0)
    hard = std::max(hard, repl_backlog_size_->load(std::memory_order_relaxed));
  return hard;
}

bool Host::CheckOutputLimits(Client* cl) {
  if (cl->closed.load() || cl->close_mode == FERRITE_CONN_CLOSE_NOW) return false;
  uint64_t pending = cl->out.size() + cl->unsent.load(std::memory_order_relaxed);
  bool kill = false;
  if (auth_required.load(std::memory_order_relaxed) && !cl->authenticated &&
      !cl->ever_authenticated && pending > kUnauthOutputLimit) {
    kill = true;
  }
  OutputClass cls = OutputClassOf(*cl);
  if (!kill) {
    const OutputLimit& l = output_limits[static_cast<int>(cls)];
    int64_t hard = HardOutputLimit(cls);
    int64_t soft = l.soft->load(std::memory_order_relaxed);
    int64_t size = static_cast<int64_t>(pending);
    kill = hard > 0 && size >= hard;
    int64_t since = cl->out_soft_since_ms.load(std::memory_order_relaxed);
    if (soft > 0 && size >= soft) {
      int64_t now = clock_.NowMs();
      int64_t soft_s = l.soft_seconds->load(std::memory_order_relaxed);
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
    if (!kill) return false;
    if (cls == OutputClass::kPubsub) stats_.pubsub_clients_killed.fetch_add(1);
  }
  stats_.output_limit_disconnections.fetch_add(1, std::memory_order_relaxed);
  std::string line = ClientLine(this, *cl);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  Logger("host.net")->warn("Client {} closed for overcoming of output buffer limits.", line);
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
