// CONFIG SET port and bind at run time, as Redis 7.0's changeListenPort and
// changeBindAddr: the listening sockets close and open again on the new port or
// addresses; connections already accepted stay. On failure nothing listens on the
// listener that failed, the error goes back to CONFIG SET, and its rollback re-applies
// the old values (Config::SetMany), which opens the old sockets again.
#include "host/logging.h"
#include "host/net.h"

namespace ferrite::host {

namespace {

// Redis' texts (config.c updatePort, applyBind).
constexpr const char* kPortFailed = "Unable to listen on this port. Check server logs.";
constexpr const char* kBindFailed = "Failed to bind to specified addresses.";

}  // namespace

std::optional<std::string> Server::SyncPlainListener(Listener& l, uint16_t port,
                                                     const std::string& bind) {
  if (l.port == port && l.bind == bind) return std::nullopt;
  auto log = Logger("host.net");
  // Close first: the new list may name an address the old one holds on the same port.
  for (auto& a : l.acceptors) {
    boost::system::error_code ec;
    a->close(ec);
    retired_acceptors_.push_back(std::move(a));
  }
  l.acceptors.clear();
  log->info("closed the TCP port {} on {} ({})", l.port, l.bind, l.name);
  l.port = port;
  l.bind = bind;
  if (port == 0) return std::nullopt;  // Redis' port 0: no TCP listener
  try {
    Bind(l, bind, port);
  } catch (const std::exception& e) {
    log->warn("Failed listening on {} port {} ({}): {}", bind, port, l.name, e.what());
    for (auto& a : l.acceptors) {
      boost::system::error_code ec;
      a->close(ec);
      retired_acceptors_.push_back(std::move(a));
    }
    l.acceptors.clear();
    l.port = 0;  // nothing listens: the rollback's re-apply opens the old port again
    return std::string(e.what());
  }
  for (auto& a : l.acceptors) Accept(l, *a);
  return std::nullopt;
}

std::optional<std::string> Server::ApplyListenSettings(bool bind_changed) {
  Config& cfg = host_.config();
  std::string bind = cfg.String("server.bind");
  for (auto& l : listeners_) {
    if (l->tls) continue;
    if (l->name == "main") {
      if (SyncPlainListener(*l, static_cast<uint16_t>(cfg.Int("server.port")), bind))
        return std::string(bind_changed ? kBindFailed : kPortFailed);
    } else if (l->name == "memcached" && bind_changed && !l->acceptors.empty() &&
               cfg.String("compatibility.memcached_bind").empty()) {
      if (SyncPlainListener(*l, l->port, bind)) return std::string(kBindFailed);
    }
  }
  if (!bind_changed) return std::nullopt;
  // The TLS listeners listen on `bind` too (memcached's unless memcached-bind is set).
  for (const char* which : {"tls.port", "compatibility.memcached_tls_port"})
    if (SyncTlsListener(which, false)) return std::string(kBindFailed);
  return std::nullopt;
}

void Server::RegisterListenApply() {
  Config& cfg = host_.config();
  cfg.OnApply("port", std::make_shared<const Config::ApplyFn>(
                          [this] { return OnControl([this] { return ApplyListenSettings(false); }); }));
  cfg.OnApply("bind", std::make_shared<const Config::ApplyFn>(
                          [this] { return OnControl([this] { return ApplyListenSettings(true); }); }));
}

}  // namespace ferrite::host
