// The server's TLS listeners (tls-port for RESP, memcached-tls-port for the memcached
// protocols) and what CONFIG SET of a TLS setting does at run time, as Redis 7: a port
// opens, moves or closes; certificates and the other tls-* settings build new contexts
// that connections accepted from then on use, while existing ones keep theirs.
#include <algorithm>
#include <future>

#include "host/logging.h"
#include "host/net.h"
#include "host/tls/tls_context.h"

namespace ferrite::host {

namespace {

constexpr const char* kTlsFailed = "Unable to update TLS configuration. Check server logs.";

// Settings that rebuild the contexts (Redis' applyTlsCfg). tls-auth-clients is not one:
// it is read per accepted connection.
constexpr const char* kContextSettings[] = {
    "tls-cert-file",        "tls-key-file",          "tls-key-file-pass",
    "tls-client-cert-file", "tls-client-key-file",   "tls-client-key-file-pass",
    "tls-ca-cert-file",     "tls-ca-cert-dir",       "tls-dh-params-file",
    "tls-protocols",        "tls-ciphers",           "tls-ciphersuites",
    "tls-prefer-server-ciphers", "tls-session-caching", "tls-session-cache-size",
    "tls-session-cache-timeout", "tls-replication",
};

}  // namespace

std::optional<std::string> Server::SyncTlsListener(const std::string& which, bool startup) {
  bool mc = which != "tls.port";
  std::string name = mc ? "memcached" : "main";
  auto port = static_cast<uint16_t>(host_.config().Int(which));
  std::string bind = host_.config().String("server.bind");
  if (mc)
    if (std::string b = host_.config().String("compatibility.memcached_bind"); !b.empty())
      bind = b;
  auto it = std::find_if(listeners_.begin(), listeners_.end(),
                         [&](const auto& l) { return l->tls && l->name == name; });
  if (it != listeners_.end() && (*it)->port == port && (*it)->bind == bind) return std::nullopt;
  if (it == listeners_.end() && port == 0) return std::nullopt;
  auto log = Logger("host.net");
  auto retire = [&] {
    for (auto& a : (*it)->acceptors) {
      boost::system::error_code ec;
      a->close(ec);
    }
    log->info("closed TLS port {} ({})", (*it)->port, name);
    retired_.push_back(std::move(*it));
    listeners_.erase(it);
    it = listeners_.end();
  };
  // Same port on other addresses (CONFIG SET bind): the old sockets may hold an address
  // the new list names, so they close first (Redis' changeBindAddr).
  if (it != listeners_.end() && (*it)->port == port) retire();
  std::unique_ptr<Listener> fresh;
  if (port != 0) {
    fresh = MakeListener(name, true);
    if (fresh->protocols.empty()) {
      std::string why = "no " + name + " protocol plugin is loaded for " + which;
      if (startup) throw std::runtime_error(why);
      log->warn("{}", why);
      return "Unable to listen on this port. Check server logs.";
    }
    if (mc) fresh->db = static_cast<int>(host_.config().Int("compatibility.memcached_db"));
    fresh->bind = bind;
    try {
      Bind(*fresh, bind, port);
    } catch (const std::exception& e) {
      if (startup) throw;
      log->warn("Failed listening on port {} (tls), aborting: {}", port, e.what());
      return "Unable to listen on this port. Check server logs.";
    }
    fresh->port = port;
  }
  // The new port listens before the old one closes, so a failure keeps the old one
  // (Redis' changeListenPort). Connections accepted on the old port stay.
  if (it != listeners_.end()) retire();
  if (fresh) {
    if (!startup)
      for (auto& a : fresh->acceptors) Accept(*fresh, *a);
    listeners_.push_back(std::move(fresh));
  }
  return std::nullopt;
}

std::optional<std::string> Server::OnControl(std::function<std::optional<std::string>()> fn) {
  auto done = std::make_shared<std::promise<std::optional<std::string>>>();
  auto answer = done->get_future();
  asio::post(control_, [fn = std::move(fn), done] { done->set_value(fn()); });
  // Only a stopping server leaves it unanswered.
  if (answer.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    return std::string("the server is shutting down");
  return answer.get();
}

void Server::RegisterTlsApply() {
  Config& cfg = host_.config();
  std::shared_ptr<tls::TlsContexts> tls = tls_;
  auto contexts = std::make_shared<const Config::ApplyFn>([tls]() -> std::optional<std::string> {
    if (tls->Needed() && !tls->Configure()) return std::string(kTlsFailed);
    return std::nullopt;
  });
  for (const char* name : kContextSettings) cfg.OnApply(name, contexts);
  for (auto [name, toml] : {std::pair{"tls-port", "tls.port"},
                            std::pair{"memcached-tls-port", "compatibility.memcached_tls_port"}}) {
    std::string which = toml;
    cfg.OnApply(name, std::make_shared<const Config::ApplyFn>(
                          [this, tls, which]() -> std::optional<std::string> {
                            if (host_.config().Int(which) != 0 && !tls->server() &&
                                !tls->Configure())
                              return std::string(kTlsFailed);
                            return OnControl([this, which] { return SyncTlsListener(which, false); });
                          }));
  }
}

}  // namespace ferrite::host
