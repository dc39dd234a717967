#include "host/expiry_index.h"

namespace ferrite::host {

namespace {
constexpr size_t kMinSlots = 16;
}

size_t ExpiryIndex::Home(const Entry* e) const {
  // Entries are 16-byte aligned malloc blocks: drop the zero bits, then Fibonacci-hash.
  uint64_t h = (reinterpret_cast<uintptr_t>(e) >> 4) * 0x9e3779b97f4a7c15ULL;
  return static_cast<size_t>(h >> 32) & (slots_.size() - 1);
}

size_t ExpiryIndex::Find(const Entry* e) const {
  if (size_ == 0) return slots_.size();
  size_t mask = slots_.size() - 1;
  for (size_t i = Home(e);; i = (i + 1) & mask) {
    if (slots_[i].e == e) return i;
    if (!slots_[i].e) return slots_.size();
  }
}

int64_t ExpiryIndex::Get(const Entry* e) const {
  size_t i = Find(e);
  return i == slots_.size() ? -1 : slots_[i].at_ms;
}

void ExpiryIndex::Set(Entry* e, int64_t at_ms) {
  if ((size_ + 1) * 4 > slots_.size() * 3) Resize(slots_.empty() ? kMinSlots : slots_.size() * 2);
  size_t mask = slots_.size() - 1;
  size_t i = Home(e);
  while (slots_[i].e && slots_[i].e != e) i = (i + 1) & mask;
  if (!slots_[i].e) {
    slots_[i].e = e;
    size_++;
  }
  slots_[i].at_ms = at_ms;
}

// Backward-shift deletion: later members of the probe run move up into the hole when
// their home allows, so lookups never need tombstones.
bool ExpiryIndex::Erase(const Entry* e) {
  size_t hole = Find(e);
  if (hole == slots_.size()) return false;
  size_t mask = slots_.size() - 1;
  for (size_t j = (hole + 1) & mask; slots_[j].e; j = (j + 1) & mask) {
    size_t home = Home(slots_[j].e);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    slots_[hole] = slots_[j];
    hole = j;
  }
  slots_[hole].e = nullptr;
  size_--;
  if (slots_.size() > kMinSlots && size_ * 8 < slots_.size()) Resize(slots_.size() / 2);
  return true;
}

Entry* ExpiryIndex::Random(std::mt19937_64& rng) const {
  if (size_ == 0) return nullptr;
  size_t mask = slots_.size() - 1;
  for (size_t i = rng() & mask;; i = (i + 1) & mask)
    if (slots_[i].e) return slots_[i].e;
}

void ExpiryIndex::Resize(size_t n) {
  std::vector<Slot> old(n, Slot{nullptr, 0});
  old.swap(slots_);
  size_t mask = n - 1;
  for (const Slot& s : old) {
    if (!s.e) continue;
    size_t i = Home(s.e);
    while (slots_[i].e) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void ExpiryIndex::Clear() {
  slots_.clear();
  slots_.shrink_to_fit();
  size_ = 0;
}

}  // namespace ferrite::host
