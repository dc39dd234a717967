// An intrusive chained hash table keyed by byte strings, shared by the sets and zsets
// modules (zsets includes it from here; both folders belong to the same owner).
//
// Why not std::unordered_set<std::string>: each element there costs a node, a
// std::string (32 bytes) and often a second allocation. Here the caller owns nodes that
// embed the `next` link and the member bytes in one allocation, so an element costs one
// malloc plus an 8-byte bucket slot.
//
// Traits must provide:
//   static std::string_view Key(const Node*);
//   static Node*& Next(Node*);
// SCAN uses Redis' reverse-binary cursor, which visits every element present for the
// whole scan at least once even when the table grows or shrinks between calls.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <random>
#include <string_view>

namespace ferrite::mod::sets {

inline uint64_t HashBytes(std::string_view s) {
  // FNV-1a folded with a final avalanche (splitmix64): cheap and well spread.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

inline uint64_t ReverseBits(uint64_t v) {
  uint64_t r = 0;
  for (int i = 0; i < 64; i++) {
    r = (r << 1) | (v & 1);
    v >>= 1;
  }
  return r;
}

template <class Node, class Traits>
class ChainedTable {
 public:
  ChainedTable() = default;
  ChainedTable(const ChainedTable&) = delete;
  ChainedTable& operator=(const ChainedTable&) = delete;
  ~ChainedTable() { std::free(buckets_); }

  size_t Size() const { return size_; }
  // The sum of the elements' key lengths, kept as they come and go (memory figures
  // without a walk: the host asks for them after every write).
  size_t KeyBytes() const { return key_bytes_; }
  size_t Buckets() const { return buckets_ ? mask_ + 1 : 0; }

  Node* Find(std::string_view key) const {
    if (!buckets_) return nullptr;
    for (Node* n = buckets_[HashBytes(key) & mask_]; n; n = Traits::Next(n)) {
      if (Traits::Key(n) == key) return n;
    }
    return nullptr;
  }

  // The caller guarantees the key is not present.
  void Insert(Node* n) {
    if (!buckets_ || size_ >= mask_ + 1) Resize(buckets_ ? (mask_ + 1) * 2 : 4);
    Node*& head = buckets_[HashBytes(Traits::Key(n)) & mask_];
    Traits::Next(n) = head;
    head = n;
    size_++;
    key_bytes_ += Traits::Key(n).size();
    NoteChain(head);
  }

  // Unlinks and returns the node (the caller frees it), or nullptr.
  Node* Remove(std::string_view key) {
    if (!buckets_) return nullptr;
    Node** link = &buckets_[HashBytes(key) & mask_];
    for (; *link; link = &Traits::Next(*link)) {
      Node* n = *link;
      if (Traits::Key(n) == key) {
        *link = Traits::Next(n);
        size_--;
        key_bytes_ -= Traits::Key(n).size();
        MaybeShrink();
        return n;
      }
    }
    return nullptr;
  }

  template <class Fn>
  void ForEach(Fn&& fn) const {
    if (!buckets_) return;
    for (size_t b = 0; b <= mask_; b++) {
      for (Node* n = buckets_[b]; n;) {
        Node* next = Traits::Next(n);  // fn may free n (Clear)
        fn(n);
        n = next;
      }
    }
  }

  // Frees every node with `del` and empties the table.
  template <class Fn>
  void Clear(Fn&& del) {
    ForEach(del);
    std::free(buckets_);
    buckets_ = nullptr;
    mask_ = 0;
    size_ = 0;
    key_bytes_ = 0;
    max_chain_ = 0;
  }

  // Drops the buckets without touching the nodes (their owner frees them).
  void Forget() {
    std::free(buckets_);
    buckets_ = nullptr;
    mask_ = 0;
    size_ = 0;
    key_bytes_ = 0;
    max_chain_ = 0;
  }

  // Visits one bucket (and the chain in it) and returns the next cursor; 0 when done.
  template <class Fn>
  uint64_t Scan(uint64_t cursor, Fn&& fn) const {
    if (!buckets_ || size_ == 0) return 0;
    for (Node* n = buckets_[cursor & mask_]; n; n = Traits::Next(n)) fn(n);
    cursor |= ~mask_;
    cursor = ReverseBits(cursor);
    cursor++;
    return ReverseBits(cursor);
  }

  // A uniformly random element; nullptr when empty. A random bucket and a random slot
  // in [0, max_chain_) are drawn until the slot holds an element: every element has the
  // same chance 1 / (buckets * max_chain_) per draw, whatever its chain's length. (A
  // random bucket then a random position in its chain, as Redis' dictGetRandomKey does,
  // favours elements alone in their bucket over those sharing one; SRANDMEMBER's
  // distribution showed it.) Expected draws: buckets * max_chain_ / size, a few.
  template <class Rng>
  Node* Random(Rng& rng) const {
    if (size_ == 0) return nullptr;
    std::uniform_int_distribution<uint64_t> bucket(0, mask_);
    std::uniform_int_distribution<uint32_t> slot(0, max_chain_ - 1);
    for (;;) {
      Node* n = buckets_[bucket(rng)];
      for (uint32_t at = slot(rng); n && at; at--) n = Traits::Next(n);
      if (n) return n;
    }
  }

  size_t BucketBytes() const { return Buckets() * sizeof(Node*); }

 private:
  void MaybeShrink() {
    // Shrink below 1/8 full (Redis: 10%); never below 4 buckets.
    if (mask_ + 1 > 4 && size_ * 8 < mask_ + 1) {
      size_t want = 4;
      while (want < size_) want *= 2;
      Resize(want);
    }
  }

  void Resize(size_t nb) {
    Node** fresh = static_cast<Node**>(std::calloc(nb, sizeof(Node*)));
    if (!fresh) throw std::bad_alloc();
    if (buckets_) {
      for (size_t b = 0; b <= mask_; b++) {
        for (Node* n = buckets_[b]; n;) {
          Node* next = Traits::Next(n);
          Node*& head = fresh[HashBytes(Traits::Key(n)) & (nb - 1)];
          Traits::Next(n) = head;
          head = n;
          n = next;
        }
      }
      std::free(buckets_);
    }
    buckets_ = fresh;
    mask_ = nb - 1;
    max_chain_ = 0;
    for (size_t b = 0; b < nb; b++) NoteChain(buckets_[b]);
  }

  // Raises max_chain_ to the length of the chain starting at `head`. max_chain_ is an
  // upper bound of every chain's length: removals leave it (Random stays uniform, only
  // slower), a resize recomputes it.
  void NoteChain(Node* head) {
    uint32_t len = 0;
    for (Node* n = head; n; n = Traits::Next(n)) len++;
    if (len > max_chain_) max_chain_ = len;
  }

  Node** buckets_ = nullptr;
  uint64_t mask_ = 0;
  size_t size_ = 0;
  size_t key_bytes_ = 0;
  uint32_t max_chain_ = 0;
};

}  // namespace ferrite::mod::sets
