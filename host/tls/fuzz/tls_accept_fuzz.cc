// libFuzzer target for the TLS accept path: arbitrary bytes are a client's first flight
// (and whatever follows) to a server session built by the host's own TlsContexts from a
// certificate made at start-up. The bytes reach OpenSSL through a memory BIO, fed in
// chunks whose size the first byte picks, so records split at any point are tried.
// Invariants: every call ends in one of TlsStream's states, a read never reports more
// than the room it was given, and after kClosed/kError the session stays dead.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "host/config.h"
#include "host/tls/tls_context.h"
#include "host/tls/tls_stream.h"

using ferrite::host::Config;
using ferrite::host::tls::TlsContexts;
using ferrite::host::tls::TlsIo;
using ferrite::host::tls::TlsStream;

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// A self-signed P-256 certificate and key, written where the config points.
void WriteCertificate(const std::string& cert, const std::string& key) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ferrite-fuzz"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, pkey, EVP_sha256());
  FILE* f = std::fopen(cert.c_str(), "w");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(key.c_str(), "w");
  PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(pkey);
}

SSL_CTX* ServerContext() {
  static std::shared_ptr<TlsContexts> contexts = [] {
    char dir[] = "/tmp/ferrite-tls-fuzz-XXXXXX";
    Check(mkdtemp(dir) != nullptr, "mkdtemp");
    std::string cert = std::string(dir) + "/server.crt", key = std::string(dir) + "/server.key";
    WriteCertificate(cert, key);
    static Config config;  // outlives the contexts, which refer to it
    config.Override("tls.cert_file", cert);
    config.Override("tls.key_file", key);
    config.Override("tls.auth_clients", "no");
    auto t = TlsContexts::Create(config);
    Check(t->Configure(), "the host builds a context from the certificate");
    std::remove(cert.c_str());
    std::remove(key.c_str());
    rmdir(dir);
    return t;
  }();
  return contexts->server().get();
}

bool Terminal(TlsIo st) { return st == TlsIo::kClosed || st == TlsIo::kError; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = 1 + data[0];
  data++;
  size--;
  SSL* ssl = SSL_new(ServerContext());
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in, -1);  // no more input yet: WANT_READ, as a quiet socket
  SSL_set_bio(ssl, in, out);
  SSL_set_accept_state(ssl);
  TlsStream s(ssl);
  bool handshaken = false, dead = false;
  char buf[512];
  for (size_t off = 0; off < size && !dead; off += chunk) {
    size_t n = std::min(chunk, size - off);
    BIO_write(in, data + off, static_cast<int>(n));
    for (int rounds = 0; rounds < 64 && !dead; rounds++) {
      TlsIo st;
      if (!handshaken) {
        st = s.Handshake();
        if (st == TlsIo::kDone) {
          handshaken = true;
          continue;
        }
      } else {
        size_t got = 0;
        st = s.Read(buf, sizeof buf, &got);
        Check(st != TlsIo::kDone || (got > 0 && got <= sizeof buf), "read within its room");
        if (st == TlsIo::kDone) continue;
      }
      dead = Terminal(st);
      Check(dead || st == TlsIo::kWantRead || st == TlsIo::kWantWrite, "a known state");
      if (st == TlsIo::kWantRead || st == TlsIo::kWantWrite) break;
    }
    BIO_reset(out);  // what the server would send: nobody reads it
  }
  if (dead) {
    size_t got = 0;
    TlsIo st = handshaken ? s.Read(buf, sizeof buf, &got) : s.Handshake();
    Check(st != TlsIo::kDone, "a failed session stays failed");
  }
  s.Shutdown();
  return 0;
}
