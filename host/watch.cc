#include "host/watch.h"

namespace ferrite::host {

std::string KeyWatches::Id(int db, std::string_view key) {
  std::string id = std::to_string(db);
  id += ':';
  id += key;
  return id;
}

KeyWatches::Ref KeyWatches::Watch(int db, std::string_view key, bool missing) {
  Ref r;
  r.id_ = Id(db, key);
  r.reg_ = shared_from_this();
  r.missing_ = missing;
  std::lock_guard lk(mu_);
  if (slots_[r.id_].refs++ == 0) active_.fetch_add(1, std::memory_order_relaxed);
  if (missing) missing_.fetch_add(1, std::memory_order_relaxed);
  return r;
}

void KeyWatches::Bump(int db, std::string_view key) {
  std::string id = Id(db, key);
  std::lock_guard lk(mu_);
  auto it = slots_.find(id);
  if (it != slots_.end()) it->second.changes++;
}

void KeyWatches::Release(const std::string& id, bool missing) {
  std::lock_guard lk(mu_);
  if (missing) missing_.fetch_sub(1, std::memory_order_relaxed);
  auto it = slots_.find(id);
  if (it == slots_.end() || --it->second.refs > 0) return;
  slots_.erase(it);
  active_.fetch_sub(1, std::memory_order_relaxed);
}

KeyWatches::Ref& KeyWatches::Ref::operator=(Ref&& o) noexcept {
  if (this != &o) {
    if (reg_) reg_->Release(id_, missing_);
    reg_ = std::move(o.reg_);
    id_ = std::move(o.id_);
    missing_ = o.missing_;
  }
  return *this;
}

KeyWatches::Ref::~Ref() {
  if (reg_) reg_->Release(id_, missing_);
}

uint64_t KeyWatches::Ref::changes() const {
  if (!reg_) return 0;
  std::lock_guard lk(reg_->mu_);
  auto it = reg_->slots_.find(id_);
  return it == reg_->slots_.end() ? 0 : it->second.changes;
}

}  // namespace ferrite::host
