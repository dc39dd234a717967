#include "host/client_pause.h"

#include <algorithm>

#include "host/host.h"

namespace ferrite::host {

std::vector<std::weak_ptr<Client>> ClientPause::UpdateLocked(int64_t now_ms) {
  auto old_type = static_cast<PauseType>(type_.load(std::memory_order_relaxed));
  PauseType type = PauseType::kOff;
  for (auto& e : events_) {
    if (!e.active) continue;
    if (e.end_ms < now_ms) e.active = false;  // this one ended
    else type = std::max(type, e.type);
  }
  int64_t end = 0;
  for (auto& e : events_)
    if (e.active && e.type == type) end = std::max(end, e.end_ms);
  end_ms_.store(end, std::memory_order_relaxed);
  type_.store(static_cast<int>(type), std::memory_order_release);
  std::vector<std::weak_ptr<Client>> wake;
  if (type < old_type) wake.swap(parked_);
  return wake;
}

PauseType ClientPause::Current(int64_t now_ms) {
  if (Type() == PauseType::kOff) return PauseType::kOff;
  if (end_ms_.load(std::memory_order_relaxed) >= now_ms) return Type();
  std::vector<std::weak_ptr<Client>> wake;
  {
    std::lock_guard lk(mu_);
    wake = UpdateLocked(now_ms);
  }
  Wake(std::move(wake));
  return Type();
}

void ClientPause::Pause(PausePurpose purpose, int64_t end_ms, PauseType type) {
  std::vector<std::weak_ptr<Client>> wake;
  {
    std::lock_guard lk(mu_);
    Event& e = events_[static_cast<int>(purpose)];
    if (!e.active) {
      e = {true, type, end_ms};
    } else {
      e.type = std::max(e.type, type);
      e.end_ms = std::max(e.end_ms, end_ms);
    }
    wake = UpdateLocked(h_->clock().NowMs());
  }
  Wake(std::move(wake));
}

void ClientPause::Unpause(PausePurpose purpose) {
  std::vector<std::weak_ptr<Client>> wake;
  {
    std::lock_guard lk(mu_);
    Event& e = events_[static_cast<int>(purpose)];
    if (!e.active) return;
    e.active = false;
    wake = UpdateLocked(h_->clock().NowMs());
  }
  Wake(std::move(wake));
}

void ClientPause::Park(const std::shared_ptr<Client>& c) {
  {
    std::lock_guard lk(mu_);
    // Still paused (the pause may have been lifted between dispatch's check and now:
    // then nobody else would wake it).
    if (type_.load(std::memory_order_relaxed) != static_cast<int>(PauseType::kOff)) {
      parked_.push_back(c);
      return;
    }
  }
  Wake({c});
}

void ClientPause::Wake(std::vector<std::weak_ptr<Client>> parked) {
  for (auto& w : parked) {
    auto c = w.lock();
    if (!c || c->closed) continue;
    if (!c->is_memcached) {
      h_->RetryPostponed(c);  // runs the command again through dispatch, in order
      continue;
    }
    // A memcached request cannot be run again from its command: the protocol built it
    // from a request it left unconsumed, and reads it again once woken.
    Host* h = h_;
    std::weak_ptr<Client> weak = c;
    c->post([h, weak] {
      auto cl = weak.lock();
      if (!cl || cl->closed || !cl->block.active) return;
      h->UnblockClient(cl.get(), false);
      if (cl->on_unblocked) cl->on_unblocked();
    });
  }
}

}  // namespace ferrite::host
