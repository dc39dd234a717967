#include "host/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>

#include "host/config.h"
#include "host/logging.h"

namespace ferrite::host::tls {

namespace {

constexpr int kTlsV1 = 1, kTlsV11 = 2, kTlsV12 = 4, kTlsV13 = 8;

// tls-protocols: "" = TLSv1.2 and TLSv1.3, as Redis; -1 (logged) for an unknown word.
int ParseProtocols(const std::string& text) {
  std::istringstream in(text);
  int out = 0;
  for (std::string w; in >> w;) {
    for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (w == "tlsv1") out |= kTlsV1;
    else if (w == "tlsv1.1") out |= kTlsV11;
    else if (w == "tlsv1.2") out |= kTlsV12;
    else if (w == "tlsv1.3") out |= kTlsV13;
    else {
      Logger("host.tls")->warn("Invalid tls-protocols specified. Use a combination of 'TLSv1', "
                               "'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.");
      return -1;
    }
  }
  return out ? out : kTlsV12 | kTlsV13;
}

std::string OpenSslError() {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// The key-file password, handed to OpenSSL only while the key is read.
int PasswordCallback(char* buf, int size, int, void* u) {
  const std::string* pass = static_cast<const std::string*>(u);
  if (!pass || pass->empty() || pass->size() > static_cast<size_t>(size)) return -1;
  std::memcpy(buf, pass->data(), pass->size());
  return static_cast<int>(pass->size());
}

struct Files {
  std::string cert, key, pass;
};

struct Settings {
  Files server, client;
  std::string ca_file, ca_dir, ciphers, ciphersuites, dh_params;
  int protocols = 0;
  bool prefer_server_ciphers = false, session_caching = true;
  int64_t cache_size = 0, cache_timeout = 0;
};

CtxPtr Own(SSL_CTX* ctx) { return CtxPtr(ctx, SSL_CTX_free); }

// What both sides share (Redis' createSSLContext): protocols, certificate and key,
// CA, ciphers. Null (logged) on failure.
CtxPtr BaseContext(const Settings& s, const Files& f) {
  auto log = Logger("host.tls");
  CtxPtr ctx = Own(SSL_CTX_new(TLS_method()));
  if (!ctx) {
    log->warn("Failed to create a TLS context: {}", OpenSslError());
    return nullptr;
  }
  SSL_CTX* c = ctx.get();
  uint64_t opts = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION |
                  SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS | SSL_OP_IGNORE_UNEXPECTED_EOF;
  if (!(s.protocols & kTlsV1)) opts |= SSL_OP_NO_TLSv1;
  if (!(s.protocols & kTlsV11)) opts |= SSL_OP_NO_TLSv1_1;
  if (!(s.protocols & kTlsV12)) opts |= SSL_OP_NO_TLSv1_2;
  if (!(s.protocols & kTlsV13)) opts |= SSL_OP_NO_TLSv1_3;
  SSL_CTX_set_options(c, opts);
  // Partial writes and a moving buffer: a reply the socket did not take is retried from
  // the connection's pending-output buffer, where it moved to (host/net.cc Write).
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                          SSL_MODE_RELEASE_BUFFERS);
  // One recv takes every record queued, not a header and then a body (two syscalls).
  SSL_CTX_set_read_ahead(c, 1);
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_default_passwd_cb(c, PasswordCallback);
  SSL_CTX_set_default_passwd_cb_userdata(c, const_cast<std::string*>(&f.pass));
  bool ok = true;
  if (SSL_CTX_use_certificate_chain_file(c, f.cert.c_str()) <= 0) {
    log->warn("Failed to load certificate: {}: {}", f.cert, OpenSslError());
    ok = false;
  } else if (SSL_CTX_use_PrivateKey_file(c, f.key.c_str(), SSL_FILETYPE_PEM) <= 0) {
    log->warn("Failed to load private key: {}: {}", f.key, OpenSslError());
    ok = false;
  } else if ((!s.ca_file.empty() || !s.ca_dir.empty()) &&
             SSL_CTX_load_verify_locations(c, s.ca_file.empty() ? nullptr : s.ca_file.c_str(),
                                           s.ca_dir.empty() ? nullptr : s.ca_dir.c_str()) <= 0) {
    log->warn("Failed to configure CA certificate(s) file/directory: {}", OpenSslError());
    ok = false;
  } else if (!s.ciphers.empty() && !SSL_CTX_set_cipher_list(c, s.ciphers.c_str())) {
    log->warn("Failed to configure ciphers: {}", s.ciphers);
    ok = false;
  } else if (!s.ciphersuites.empty() && !SSL_CTX_set_ciphersuites(c, s.ciphersuites.c_str())) {
    log->warn("Failed to configure ciphersuites: {}", s.ciphersuites);
    ok = false;
  }
  // The password lives in `s`, which dies with this call: OpenSSL must not keep it.
  SSL_CTX_set_default_passwd_cb_userdata(c, nullptr);
  ERR_clear_error();
  return ok ? ctx : nullptr;
}

Settings Read(const Config& cfg) {
  Settings s;
  s.server = {cfg.String("tls.cert_file"), cfg.String("tls.key_file"),
              cfg.String("tls.key_file_pass")};
  s.client = {cfg.String("tls.client_cert_file"), cfg.String("tls.client_key_file"),
              cfg.String("tls.client_key_file_pass")};
  s.ca_file = cfg.String("tls.ca_cert_file");
  s.ca_dir = cfg.String("tls.ca_cert_dir");
  s.ciphers = cfg.String("tls.ciphers");
  s.ciphersuites = cfg.String("tls.ciphersuites");
  s.dh_params = cfg.String("tls.dh_params_file");
  s.protocols = ParseProtocols(cfg.String("tls.protocols"));
  s.prefer_server_ciphers = cfg.Bool("tls.prefer_server_ciphers");
  s.session_caching = cfg.Bool("tls.session_caching");
  s.cache_size = cfg.Int("tls.session_cache_size");
  s.cache_timeout = cfg.Int("tls.session_cache_timeout");
  return s;
}

bool LoadDhParams(SSL_CTX* c, const std::string& path) {
  auto log = Logger("host.tls");
  BIO* f = BIO_new_file(path.c_str(), "r");
  if (!f) {
    log->warn("Failed to load {}: {}", path, std::strerror(errno));
    ERR_clear_error();
    return false;
  }
  EVP_PKEY* pkey = PEM_read_bio_Parameters(f, nullptr);
  BIO_free(f);
  if (!pkey) {
    log->warn("{}: failed to read DH params.", path);
    return false;
  }
  if (SSL_CTX_set0_tmp_dh_pkey(c, pkey) <= 0) {
    log->warn("Failed to load DH params file: {}: {}", path, OpenSslError());
    EVP_PKEY_free(pkey);
    return false;
  }
  return true;
}

std::mutex g_registry_mu;
std::map<const Config*, std::weak_ptr<TlsContexts>>& Registry() {
  static auto* m = new std::map<const Config*, std::weak_ptr<TlsContexts>>;
  return *m;
}

}  // namespace

std::shared_ptr<TlsContexts> TlsContexts::Create(Config& config) {
  std::shared_ptr<TlsContexts> t(new TlsContexts(config), [](TlsContexts* p) {
    {
      std::lock_guard lk(g_registry_mu);
      auto it = Registry().find(&p->config_);
      if (it != Registry().end() && it->second.expired()) Registry().erase(it);
    }
    delete p;
  });
  std::lock_guard lk(g_registry_mu);
  Registry()[&config] = t;
  return t;
}

std::shared_ptr<TlsContexts> TlsContexts::For(const Config& config) {
  std::lock_guard lk(g_registry_mu);
  auto it = Registry().find(&config);
  return it == Registry().end() ? nullptr : it->second.lock();
}

TlsContexts::~TlsContexts() = default;

bool TlsContexts::Needed() const {
  return config_.Int("tls.port") != 0 || config_.Int("compatibility.memcached_tls_port") != 0 ||
         config_.Bool("tls.replication");
}

// Redis' tlsConfigure: all or nothing.
bool TlsContexts::Configure() {
  auto log = Logger("host.tls");
  Settings s = Read(config_);
  if (s.server.cert.empty()) {
    log->warn("No tls-cert-file configured!");
    return false;
  }
  if (s.server.key.empty()) {
    log->warn("No tls-key-file configured!");
    return false;
  }
  if ((auth_clients() != AuthClients::kNo || config_.Bool("tls.replication")) &&
      s.ca_file.empty() && s.ca_dir.empty()) {
    log->warn("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when "
              "tls-cluster, tls-replication or tls-auth-clients are enabled!");
    return false;
  }
  if (s.protocols < 0) return false;
  CtxPtr server = BaseContext(s, s.server);
  if (!server) return false;
  SSL_CTX* c = server.get();
  if (s.session_caching) {
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(c, s.cache_size);
    SSL_CTX_set_timeout(c, s.cache_timeout);
    SSL_CTX_set_session_id_context(c, reinterpret_cast<const unsigned char*>("redis"), 5);
  } else {
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(c, 0);
  }
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_SINGLE_DH_USE);
  if (s.prefer_server_ciphers) SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (!s.dh_params.empty()) {
    if (!LoadDhParams(c, s.dh_params)) return false;
  } else {
    SSL_CTX_set_dh_auto(c, 1);
  }
  CtxPtr client;
  if (!s.client.cert.empty() && !s.client.key.empty()) {
    client = BaseContext(s, s.client);
    if (!client) return false;
  }
  std::lock_guard lk(mu_);
  server_ = std::move(server);
  client_ = std::move(client);
  return true;
}

CtxPtr TlsContexts::server() const {
  std::lock_guard lk(mu_);
  return server_;
}

CtxPtr TlsContexts::client() const {
  std::lock_guard lk(mu_);
  return client_ ? client_ : server_;
}

AuthClients TlsContexts::auth_clients() const {
  return static_cast<AuthClients>(config_.Int("tls.auth_clients"));
}

int64_t TlsContexts::handshake_timeout_ms() const {
  return config_.Int("tls.handshake_timeout_ms");
}

}  // namespace ferrite::host::tls
