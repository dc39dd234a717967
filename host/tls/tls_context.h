// OpenSSL contexts built from the [tls] settings (Redis' tls-* names): the server
// context that connections accepted on the TLS ports start from, and the client
// context the replica link uses to reach a primary over TLS (tls-replication).
//
// A context is immutable once built. Reconfiguring (startup, CONFIG SET tls-cert-file
// ...) builds new ones and swaps them in; an SSL holds a reference to the context it
// was made from, so connections that already exist keep theirs and are not dropped.
#pragma once

#include <memory>
#include <mutex>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace ferrite::host {
class Config;
}

namespace ferrite::host::tls {

// tls-auth-clients, in Redis' enum order (no yes optional): the setting's index.
enum class AuthClients { kNo = 0, kYes = 1, kOptional = 2 };

using CtxPtr = std::shared_ptr<SSL_CTX>;

class TlsContexts {
 public:
  // Creates the contexts of `config` (unconfigured) and registers them so For() finds
  // them; they are unregistered when the last reference goes.
  static std::shared_ptr<TlsContexts> Create(Config& config);
  // The contexts registered for `config`, or null (no server built them).
  static std::shared_ptr<TlsContexts> For(const Config& config);
  ~TlsContexts();

  // Builds contexts from the current settings and swaps them in. On failure it logs
  // why with Redis' lines ("Failed to load certificate: <file>: <openssl error>") and
  // keeps the contexts it had; returns false.
  bool Configure();
  // True when a TLS port or tls-replication needs the contexts (Redis' condition for
  // reconfiguring on CONFIG SET).
  bool Needed() const;

  CtxPtr server() const;  // null until Configure succeeded
  // For outgoing connections: built from tls-client-cert-file/-key-file when both are
  // set, otherwise the server context (its certificate is then the client's), as Redis.
  CtxPtr client() const;
  AuthClients auth_clients() const;
  int64_t handshake_timeout_ms() const;

 private:
  explicit TlsContexts(Config& config) : config_(config) {}
  Config& config_;
  mutable std::mutex mu_;
  CtxPtr server_, client_;
};

}  // namespace ferrite::host::tls
