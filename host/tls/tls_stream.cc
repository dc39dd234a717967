#include "host/tls/tls_stream.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "host/logging.h"

namespace ferrite::host::tls {

namespace {

TlsStream* StreamOf(BIO* b) { return static_cast<TlsStream*>(BIO_get_data(b)); }

int BioRead(BIO* b, char* buf, int len) {
  BIO_clear_retry_flags(b);
  TlsStream* s = StreamOf(b);
  ssize_t n;
  do {
    n = ::recv(s->fd(), buf, static_cast<size_t>(len), 0);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    // Short (or EOF): the kernel's queue is empty; data arriving later raises a new edge.
    s->set_drained(n < len);
    return static_cast<int>(n);
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    s->set_drained(true);
    BIO_set_retry_read(b);
  }
  return -1;
}

int BioWrite(BIO* b, const char* buf, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n;
  do {
    n = ::send(StreamOf(b)->fd(), buf, static_cast<size_t>(len), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(b);
  return -1;
}

long BioCtrl(BIO*, int cmd, long, void*) {
  // Writes go straight to the socket: there is nothing to flush, nothing buffered.
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int BioCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* SocketMethod() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ferrite socket");
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_ctrl(m, BioCtrl);
    BIO_meth_set_create(m, BioCreate);
    return m;
  }();
  return m;
}

std::unique_ptr<TlsStream> OnSocket(SSL_CTX* ctx, int fd) {
  SSL* ssl = ctx ? SSL_new(ctx) : nullptr;
  if (!ssl) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    Logger("host.tls")->warn("Cannot create a TLS session: {}", buf);
    return nullptr;
  }
  BIO* bio = BIO_new(SocketMethod());
  if (!bio) {
    SSL_free(ssl);
    return nullptr;
  }
  auto s = std::make_unique<TlsStream>(ssl);
  BIO_set_data(bio, s.get());
  SSL_set_bio(ssl, bio, bio);
  s->set_fd(fd);
  return s;
}

}  // namespace

TlsStream::TlsStream(SSL* ssl) : ssl_(ssl) {}

TlsStream::~TlsStream() { SSL_free(ssl_); }

std::unique_ptr<TlsStream> TlsStream::Accept(SSL_CTX* ctx, int fd, AuthClients auth) {
  auto s = OnSocket(ctx, fd);
  if (!s) return s;
  switch (auth) {
    case AuthClients::kNo: SSL_set_verify(s->ssl_, SSL_VERIFY_NONE, nullptr); break;
    case AuthClients::kOptional: SSL_set_verify(s->ssl_, SSL_VERIFY_PEER, nullptr); break;
    default:
      SSL_set_verify(s->ssl_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  SSL_set_accept_state(s->ssl_);
  return s;
}

std::unique_ptr<TlsStream> TlsStream::Connect(SSL_CTX* ctx, int fd) {
  auto s = OnSocket(ctx, fd);
  if (s) SSL_set_connect_state(s->ssl_);
  return s;
}

TlsIo TlsStream::Result(int ret) {
  int err = SSL_get_error(ssl_, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ: return TlsIo::kWantRead;
    case SSL_ERROR_WANT_WRITE: return TlsIo::kWantWrite;
    case SSL_ERROR_ZERO_RETURN: failed_ = true; return TlsIo::kClosed;
    case SSL_ERROR_SYSCALL:
      failed_ = true;
      if (errno == 0) return TlsIo::kClosed;  // EOF without close_notify
      error_ = std::strerror(errno);
      return TlsIo::kError;
    default: {
      failed_ = true;
      char buf[256];
      unsigned long e = ERR_get_error();
      ERR_error_string_n(e, buf, sizeof buf);
      error_ = buf;
      // "certificate verify failed" alone does not say what was wrong with it.
      if (ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        long v = SSL_get_verify_result(ssl_);
        if (v != X509_V_OK) error_ += std::string(": ") + X509_verify_cert_error_string(v);
      }
      ERR_clear_error();
      return TlsIo::kError;
    }
  }
}

TlsIo TlsStream::Handshake() {
  ERR_clear_error();
  errno = 0;
  int r = SSL_do_handshake(ssl_);
  return r == 1 ? TlsIo::kDone : Result(r);
}

TlsIo TlsStream::Read(char* buf, size_t cap, size_t* n) {
  *n = 0;
  ERR_clear_error();
  errno = 0;
  int r = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(cap, INT_MAX)));
  if (r > 0) {
    *n = static_cast<size_t>(r);
    return TlsIo::kDone;
  }
  return Result(r);
}

TlsIo TlsStream::Write(const char* p, size_t len, size_t* n) {
  *n = 0;
  if (len == 0) return TlsIo::kDone;
  ERR_clear_error();
  errno = 0;
  int r = SSL_write(ssl_, p, static_cast<int>(std::min<size_t>(len, 1u << 30)));
  if (r > 0) {
    *n = static_cast<size_t>(r);
    return TlsIo::kDone;
  }
  return Result(r);
}

bool TlsStream::Drained() const { return drained_ && !SSL_has_pending(ssl_); }

void TlsStream::Shutdown() {
  if (failed_ || !SSL_is_init_finished(ssl_)) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace ferrite::host::tls
