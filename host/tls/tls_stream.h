// One TLS session over a non-blocking socket, for the readiness loop (host/net.cc) and
// the replica link: every call does what it can without blocking and says what it
// waits for (WANT_READ / WANT_WRITE), never waits itself.
//
// The socket is reached through a BIO of our own rather than OpenSSL's socket BIO: it
// records whether its last recv() came back short, i.e. emptied the kernel's queue.
// With edge-triggered epoll that is what says a wakeup has been fully served without
// one more recv() that fails with EAGAIN (Drained()).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "host/tls/tls_context.h"

typedef struct ssl_st SSL;

namespace ferrite::host::tls {

enum class TlsIo {
  kDone,       // the call completed (Read/Write: *n > 0 bytes)
  kWantRead,   // call again once the socket is readable
  kWantWrite,  // call again once the socket is writable
  kClosed,     // the peer closed (close_notify or EOF)
  kError,      // protocol or socket error: error() says which; the session is dead
};

class TlsStream {
 public:
  // A server-side session on an accepted socket, verifying the client's certificate as
  // tls-auth-clients says. Null if OpenSSL cannot make one (logged).
  static std::unique_ptr<TlsStream> Accept(SSL_CTX* ctx, int fd, AuthClients auth);
  // A client-side session on a connected socket (the replica link).
  static std::unique_ptr<TlsStream> Connect(SSL_CTX* ctx, int fd);
  // Takes `ssl` with its BIOs already set (the fuzz target's memory BIOs).
  explicit TlsStream(SSL* ssl);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  TlsIo Handshake();
  // Decrypts up to `cap` bytes into `buf` (one record at most).
  TlsIo Read(char* buf, size_t cap, size_t* n);
  // Encrypts and sends up to `len` bytes. After kWantWrite/kWantRead, the retry must
  // pass the same bytes again (they may have moved), as OpenSSL requires.
  TlsIo Write(const char* p, size_t len, size_t* n);
  // True when OpenSSL holds no received bytes and the socket's queue was empty at the
  // last recv: nothing is left to read until the socket becomes readable again.
  bool Drained() const;
  // Sends close_notify if the session is healthy (best effort, never waits).
  void Shutdown();
  // The last failure, as Redis logs it (OpenSSL's error string or strerror).
  const std::string& error() const { return error_; }

  // For the socket BIO: the fd, and whether its last recv came back short.
  int fd() const { return fd_; }
  void set_fd(int fd) { fd_ = fd; }
  void set_drained(bool d) { drained_ = d; }

 private:
  TlsIo Result(int ret);

  SSL* ssl_;
  int fd_ = -1;
  bool drained_ = false;
  bool failed_ = false;
  std::string error_;
};

}  // namespace ferrite::host::tls
