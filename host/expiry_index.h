// The expiry times of one table's volatile keys: an open-addressing map from entry to
// absolute unix ms. Redis keeps these in a second dict (`expires`); this is the same idea
// in flat slots: 16 bytes a slot at a load of 3/8..3/4, no allocation per key, and no
// back-pointer in the entry (an Entry only carries its has_expire bit, so keys without
// an expiry pay nothing and never probe here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace ferrite::host {

struct Entry;

class ExpiryIndex {
 public:
  // The time recorded for e, or -1 if e is not in the index.
  int64_t Get(const Entry* e) const;
  // Records (or moves) e's time.
  void Set(Entry* e, int64_t at_ms);
  // Removes e; false if it was not there.
  bool Erase(const Entry* e);
  // A random entry of the index (null if empty). Picks a random slot and walks to the
  // next occupied one: slightly biased towards entries after empty runs, as sampling
  // for expiry and eviction tolerates (Redis' dictGetRandomKey is biased too).
  Entry* Random(std::mt19937_64& rng) const;
  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }
  void Clear();

 private:
  struct Slot {
    Entry* e;  // null: free
    int64_t at_ms;
  };
  size_t Home(const Entry* e) const;
  size_t Find(const Entry* e) const;  // slot index, or slots_.size() if absent
  void Resize(size_t n);
  std::vector<Slot> slots_;  // power of two (or empty); linear probing
  size_t size_ = 0;
};

}  // namespace ferrite::host
