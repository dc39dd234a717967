#include "intset.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace ferrite::mod::sets {

namespace {
uint32_t WidthFor(int64_t v) {
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}
int64_t Read(const uint8_t* p, uint32_t w) {
  if (w == 2) {
    int16_t x;
    std::memcpy(&x, p, 2);
    return x;
  }
  if (w == 4) {
    int32_t x;
    std::memcpy(&x, p, 4);
    return x;
  }
  int64_t x;
  std::memcpy(&x, p, 8);
  return x;
}
void Write(uint8_t* p, uint32_t w, int64_t v) {
  if (w == 2) {
    int16_t x = static_cast<int16_t>(v);
    std::memcpy(p, &x, 2);
  } else if (w == 4) {
    int32_t x = static_cast<int32_t>(v);
    std::memcpy(p, &x, 4);
  } else {
    std::memcpy(p, &v, 8);
  }
}
}  // namespace

IntSet& IntSet::operator=(IntSet&& o) noexcept {
  if (this != &o) {
    std::free(blob_);
    blob_ = o.blob_;
    o.blob_ = nullptr;
  }
  return *this;
}

IntSet::~IntSet() { std::free(blob_); }

size_t IntSet::Len() const { return blob_ ? H()->len : 0; }
int IntSet::Width() const { return blob_ ? static_cast<int>(H()->width) : 0; }
size_t IntSet::Bytes() const { return blob_ ? sizeof(Header) + H()->len * H()->width : 0; }

int64_t IntSet::Get(size_t i) const { return Read(Data() + i * H()->width, H()->width); }

void IntSet::Set(size_t i, int64_t v) { Write(Data() + i * H()->width, H()->width, v); }

size_t IntSet::Search(int64_t v, bool* found) const {
  size_t lo = 0, hi = Len();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int64_t x = Get(mid);
    if (x == v) {
      *found = true;
      return mid;
    }
    if (x < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *found = false;
  return lo;
}

bool IntSet::Contains(int64_t v) const {
  if (!blob_ || WidthFor(v) > H()->width) return false;
  bool found;
  Search(v, &found);
  return found;
}

// Reallocates to hold `len` elements of `width`, re-encoding existing ones when the
// width grows (back to front so nothing is overwritten before it is read).
void IntSet::Grow(uint32_t width, uint32_t len) {
  uint32_t old_w = blob_ ? H()->width : width;
  uint32_t old_len = blob_ ? H()->len : 0;
  auto* p = static_cast<uint8_t*>(std::realloc(blob_, sizeof(Header) + size_t{width} * len));
  if (!p) throw std::bad_alloc();
  blob_ = p;
  if (old_w != width) {
    for (size_t i = old_len; i-- > 0;) {
      int64_t v = Read(Data() + i * old_w, old_w);
      Write(Data() + i * width, width, v);
    }
  }
  H()->width = width;
  H()->len = old_len;
}

bool IntSet::Add(int64_t v) {
  uint32_t w = WidthFor(v);
  uint32_t cur = blob_ ? H()->width : 0;
  size_t n = Len();
  if (w > cur) {
    // Upgrade: a value that needs a wider encoding is either below or above all others.
    Grow(w, static_cast<uint32_t>(n + 1));
    if (v < 0) {
      std::memmove(Data() + w, Data(), n * w);
      Set(0, v);
    } else {
      Set(n, v);
    }
    H()->len = static_cast<uint32_t>(n + 1);
    return true;
  }
  bool found;
  size_t at = Search(v, &found);
  if (found) return false;
  Grow(cur, static_cast<uint32_t>(n + 1));
  std::memmove(Data() + (at + 1) * cur, Data() + at * cur, (n - at) * cur);
  Set(at, v);
  H()->len = static_cast<uint32_t>(n + 1);
  return true;
}

void IntSet::RemoveAt(size_t i) {
  uint32_t w = H()->width;
  size_t n = Len();
  std::memmove(Data() + i * w, Data() + (i + 1) * w, (n - i - 1) * w);
  H()->len = static_cast<uint32_t>(n - 1);
  auto* p = static_cast<uint8_t*>(std::realloc(blob_, sizeof(Header) + size_t{w} * (n - 1)));
  if (p) blob_ = p;
}

bool IntSet::Remove(int64_t v) {
  if (!Contains(v)) return false;
  bool found;
  RemoveAt(Search(v, &found));
  return true;
}

IntSet IntSet::Clone() const {
  IntSet c;
  if (blob_) {
    c.blob_ = static_cast<uint8_t*>(std::malloc(Bytes()));
    if (!c.blob_) throw std::bad_alloc();
    std::memcpy(c.blob_, blob_, Bytes());
  }
  return c;
}

}  // namespace ferrite::mod::sets
