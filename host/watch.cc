#include "host/watch.h"

namespace ferrite::host {

std::string MissingKeyWatches::Id(int db, std::string_view key) {
  std::string id = std::to_string(db);
  id += ':';
  id += key;
  return id;
}

MissingKeyWatches::Ref MissingKeyWatches::Watch(int db, std::string_view key) {
  Ref r;
  r.id_ = Id(db, key);
  r.reg_ = shared_from_this();
  std::lock_guard lk(mu_);
  if (slots_[r.id_].refs++ == 0) active_.fetch_add(1, std::memory_order_relaxed);
  return r;
}

void MissingKeyWatches::Bump(int db, std::string_view key) {
  std::string id = Id(db, key);
  std::lock_guard lk(mu_);
  auto it = slots_.find(id);
  if (it != slots_.end()) it->second.creations++;
}

void MissingKeyWatches::Release(const std::string& id) {
  std::lock_guard lk(mu_);
  auto it = slots_.find(id);
  if (it == slots_.end() || --it->second.refs > 0) return;
  slots_.erase(it);
  active_.fetch_sub(1, std::memory_order_relaxed);
}

MissingKeyWatches::Ref& MissingKeyWatches::Ref::operator=(Ref&& o) noexcept {
  if (this != &o) {
    if (reg_) reg_->Release(id_);
    reg_ = std::move(o.reg_);
    id_ = std::move(o.id_);
  }
  return *this;
}

MissingKeyWatches::Ref::~Ref() {
  if (reg_) reg_->Release(id_);
}

uint64_t MissingKeyWatches::Ref::creations() const {
  if (!reg_) return 0;
  std::lock_guard lk(reg_->mu_);
  auto it = reg_->slots_.find(id_);
  return it == reg_->slots_.end() ? 0 : it->second.creations;
}

}  // namespace ferrite::host
