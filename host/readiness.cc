#include "host/readiness.h"

#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <vector>

namespace ferrite::host {

namespace {

int CreateEpoll() {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::runtime_error("epoll_create1 failed: " + std::to_string(errno));
  return fd;
}

}  // namespace

ReadinessSet::ReadinessSet(asio::io_context& ioc) : ioc_(ioc), ep_(ioc, CreateEpoll()) {
  epfd_ = ep_.native_handle();
  Arm();
}

ReadinessSet::~ReadinessSet() {
  dying_ = true;
  // Targets may still be referenced by handlers queued in the (stopped) io_context:
  // detach them now, while this set exists, so none calls back into it later.
  std::vector<std::shared_ptr<ReadinessTarget>> left;
  for (auto& [p, t] : targets_) left.push_back(t);
  targets_.clear();
  for (auto& t : left) t->Detach();
}

void ReadinessSet::Arm() {
  // One epoll_ctl on the set's descriptor per round (asio re-arms what it waits on).
  ep_.async_wait(asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;
    Arm();  // first: a script that yields inside Poll must find the set armed
    Poll();
  });
}

bool ReadinessSet::Add(int fd, std::shared_ptr<ReadinessTarget> t) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = t.get();
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  ReadinessTarget* key = t.get();
  targets_.emplace(key, std::move(t));
  return true;
}

void ReadinessSet::WantWrite(int fd, ReadinessTarget* t, bool on) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (on ? uint32_t{EPOLLOUT} : 0u);
  ev.data.ptr = t;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
}

void ReadinessSet::Remove(int fd, ReadinessTarget* t) {
  if (dying_) return;
  epoll_event ev{};
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &ev);
  auto it = targets_.find(t);
  if (it == targets_.end()) return;
  auto keep = std::move(it->second);
  targets_.erase(it);
  asio::post(ioc_, [keep = std::move(keep)] {});
}

void ReadinessSet::Poll() {
  if (next_ == count_) {
    int n = epoll_wait(epfd_, events_, kMaxEvents, 0);
    count_ = n > 0 ? n : 0;
    next_ = 0;
  }
  while (next_ < count_) {
    epoll_event ev = events_[next_++];
    // NOTE: looked up, not trusted: a target removed earlier in this batch (CLIENT KILL
    // from a connection served before it) must not be called.
    auto it = targets_.find(static_cast<ReadinessTarget*>(ev.data.ptr));
    if (it == targets_.end()) continue;
    ReadinessTarget* t = it->second.get();
    t->OnEvents(ev.events);
  }
}

}  // namespace ferrite::host
