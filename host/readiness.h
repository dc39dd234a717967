// Socket readiness for one worker: an epoll set of the worker's own in which every
// connection's socket is registered once, edge-triggered, and stays registered.
//
// Why not asio's socket.async_wait: in Boost 1.74 every async_wait on a socket re-arms it
// with epoll_ctl(EPOLL_CTL_MOD), one syscall per request at one request in flight
// (async_read_some instead costs a recv that fails with EAGAIN). Here asio waits only on
// this set's descriptor, so the re-arm is one epoll_ctl per event-loop round, however
// many connections were ready in it; a connection asks for EPOLLOUT only while output
// is stuck (as memcached does with libevent).
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "host/asio.h"

namespace ferrite::host {

// What the set delivers events to (a connection).
class ReadinessTarget {
 public:
  virtual ~ReadinessTarget() = default;
  // `events`: EPOLLIN / EPOLLOUT / EPOLLHUP / EPOLLERR / EPOLLRDHUP bits.
  virtual void OnEvents(uint32_t events) = 0;
  // The set is going away (shutdown): close without touching it again.
  virtual void Detach() = 0;
};

class ReadinessSet {
 public:
  explicit ReadinessSet(asio::io_context& ioc);
  ~ReadinessSet();
  ReadinessSet(const ReadinessSet&) = delete;
  ReadinessSet& operator=(const ReadinessSet&) = delete;

  // Registers `fd` (edge-triggered, EPOLLIN) and keeps `t` alive until Remove. A socket
  // that is already readable reports at once. False (errno set) if epoll refuses.
  bool Add(int fd, std::shared_ptr<ReadinessTarget> t);
  // Adds or drops EPOLLOUT interest (one epoll_ctl; only while output waits).
  void WantWrite(int fd, ReadinessTarget* t, bool on);
  // Deregisters `fd` (call before closing it) and releases `t` once the current handler
  // returned, so a target may remove itself from inside OnEvents.
  void Remove(int fd, ReadinessTarget* t);

  // Delivers ready events without blocking; continues a batch that a nested call (a
  // yielding script, ServeWhileBusy) interrupted before fetching a new one.
  void Poll();

 private:
  void Arm();

  static constexpr int kMaxEvents = 128;
  asio::io_context& ioc_;
  asio::posix::stream_descriptor ep_;
  int epfd_ = -1;
  std::unordered_map<ReadinessTarget*, std::shared_ptr<ReadinessTarget>> targets_;
  epoll_event events_[kMaxEvents];
  int count_ = 0, next_ = 0;  // the batch being delivered
  bool dying_ = false;
};

}  // namespace ferrite::host
