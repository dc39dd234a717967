#include "intset.h"

#include <cstring>

namespace ferrite::mod::sets::intset {

uint32_t WidthFor(int64_t v) {
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}

int64_t Get(const uint8_t* data, uint32_t width, size_t i) {
  const uint8_t* p = data + i * width;
  if (width == 2) {
    int16_t x;
    std::memcpy(&x, p, 2);
    return x;
  }
  if (width == 4) {
    int32_t x;
    std::memcpy(&x, p, 4);
    return x;
  }
  int64_t x;
  std::memcpy(&x, p, 8);
  return x;
}

void Put(uint8_t* data, uint32_t width, size_t i, int64_t v) {
  uint8_t* p = data + i * width;
  if (width == 2) {
    auto x = static_cast<int16_t>(v);
    std::memcpy(p, &x, 2);
  } else if (width == 4) {
    auto x = static_cast<int32_t>(v);
    std::memcpy(p, &x, 4);
  } else {
    std::memcpy(p, &v, 8);
  }
}

size_t Search(const uint8_t* data, uint32_t width, size_t len, int64_t v, bool* found) {
  size_t lo = 0, hi = len;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int64_t x = Get(data, width, mid);
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

void Widen(uint8_t* data, uint32_t from, uint32_t to, size_t len) {
  for (size_t i = len; i-- > 0;) Put(data, to, i, Get(data, from, i));
}

void Insert(uint8_t* data, uint32_t width, size_t len, int64_t v, size_t at) {
  std::memmove(data + (at + 1) * width, data + at * width, (len - at) * width);
  Put(data, width, at, v);
}

void Erase(uint8_t* data, uint32_t width, size_t len, size_t at) {
  std::memmove(data + at * width, data + (at + 1) * width, (len - at - 1) * width);
}

}  // namespace ferrite::mod::sets::intset
