#include "conn.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace ferrite::migrate {
namespace {

constexpr size_t kReadChunk = 256 * 1024;

timeval ToTimeval(std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = t.count() / 1000;
  tv.tv_usec = (t.count() % 1000) * 1000;
  return tv;
}

bool ConnectWithin(int fd, const sockaddr* addr, socklen_t len, std::chrono::milliseconds t) {
  // A plain connect() to a host that drops SYNs waits minutes; the timeout bounds it.
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, addr, len);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = ::poll(&p, 1, static_cast<int>(t.count())) == 1 ? 0 : -1;
    int err = 0;
    socklen_t elen = sizeof(err);
    if (rc == 0 && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)) rc = -1;
    if (err != 0) errno = err;
  }
  fcntl(fd, F_SETFL, flags);
  return rc == 0;
}

}  // namespace

std::pair<std::string, int> SplitHostPort(std::string_view s) {
  std::string_view host, port;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      throw std::invalid_argument("expected [address]:port");
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) throw std::invalid_argument("expected host:port");
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  int p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (host.empty() || ec != std::errc() || end != port.data() + port.size() || p <= 0 || p > 65535)
    throw std::invalid_argument("expected host:port with a port in 1-65535");
  return {std::string(host), p};
}

Conn::Conn(std::string name, const std::string& host, int port, std::chrono::milliseconds timeout)
    : name_(std::move(name)) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  if (rc != 0) throw ConnError(name_ + ": cannot resolve " + host + ": " + gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (ConnectWithin(fd, a->ai_addr, a->ai_addrlen, timeout)) {
      fd_ = fd;
      break;
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(res);
  if (fd_ < 0)
    throw ConnError(name_ + ": cannot connect to " + host + ":" + port_text + ": " + last_error);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  SetTimeout(timeout);
}

Conn::~Conn() {
  if (fd_ >= 0) ::close(fd_);
}

void Conn::SetTimeout(std::chrono::milliseconds timeout) {
  timeval tv = ToTimeval(timeout);
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void Conn::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      bool timed_out = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      throw ConnError(name_ + (timed_out ? ": write timed out" : ": connection lost: ") +
                      (timed_out ? "" : std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void Conn::Compact() {
  if (start_ > 0 && start_ * 2 >= buf_.size()) {
    buf_.erase(0, start_);
    start_ = 0;
  }
}

void Conn::Fill() {
  Compact();
  size_t old = buf_.size();
  buf_.resize(old + kReadChunk);
  ssize_t n;
  do {
    n = ::recv(fd_, buf_.data() + old, kReadChunk, 0);
  } while (n < 0 && errno == EINTR);
  buf_.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
  if (n == 0) throw ConnError(name_ + ": connection closed by the peer");
  if (n < 0) {
    bool timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
    throw ConnError(name_ + (timed_out ? ": no reply within the timeout"
                                       : std::string(": connection lost: ") + std::strerror(errno)));
  }
}

std::string_view Conn::ReadLine() {
  size_t scanned = start_;
  for (;;) {
    size_t nl = buf_.find('\n', scanned);
    if (nl != std::string::npos) {
      size_t end = (nl > start_ && buf_[nl - 1] == '\r') ? nl - 1 : nl;
      std::string_view line(buf_.data() + start_, end - start_);
      start_ = nl + 1;
      return line;
    }
    scanned = buf_.size();
    size_t before = start_;
    Fill();
    scanned -= before - start_;  // Fill may have moved the unread bytes to the front
  }
}

std::string_view Conn::ReadBlock(size_t n) {
  while (buf_.size() - start_ < n + 2) Fill();
  if (buf_[start_ + n] != '\r' || buf_[start_ + n + 1] != '\n')
    throw ConnError(name_ + ": a value block does not end with \\r\\n");
  std::string_view block(buf_.data() + start_, n);
  start_ += n + 2;
  return block;
}

}  // namespace ferrite::migrate
