// A sorted array of integers stored at the narrowest width that fits them all (2, 4 or
// 8 bytes), in one allocation: Redis' intset, the encoding of small all-integer sets.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferrite::mod::sets {

class IntSet {
 public:
  IntSet() = default;
  IntSet(const IntSet&) = delete;
  IntSet& operator=(const IntSet&) = delete;
  IntSet(IntSet&& o) noexcept : blob_(o.blob_) { o.blob_ = nullptr; }
  IntSet& operator=(IntSet&& o) noexcept;
  ~IntSet();

  size_t Len() const;
  int64_t Get(size_t i) const;
  bool Contains(int64_t v) const;
  bool Add(int64_t v);     // false if already present
  bool Remove(int64_t v);  // false if absent
  void RemoveAt(size_t i);
  size_t Bytes() const;    // allocation size
  IntSet Clone() const;
  int Width() const;       // 2, 4 or 8 (0 when never allocated)

 private:
  struct Header {
    uint32_t width;
    uint32_t len;
  };
  Header* H() const { return reinterpret_cast<Header*>(blob_); }
  uint8_t* Data() const { return blob_ + sizeof(Header); }
  // Index of v, or of the insertion point (found=false).
  size_t Search(int64_t v, bool* found) const;
  void Set(size_t i, int64_t v);
  void Grow(uint32_t width, uint32_t len);

  uint8_t* blob_ = nullptr;
};

}  // namespace ferrite::mod::sets
