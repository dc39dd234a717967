#include "zset_listpack.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "zset_skiplist.h"

namespace ferrite::mod::zsets {

namespace {
size_t PutVarint(uint8_t* p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  p[n++] = static_cast<uint8_t>(v);
  return n;
}
size_t VarintLen(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}
}  // namespace

ZPack::~ZPack() { std::free(buf_); }

ZPack::Entry ZPack::At(size_t offset) const {
  const uint8_t* p = buf_ + offset;
  uint64_t len = 0;
  int shift = 0;
  size_t i = 0;
  for (;;) {
    uint8_t b = p[i++];
    len |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) break;
    shift += 7;
  }
  Entry e;
  e.member = {reinterpret_cast<const char*>(p + i), len};
  std::memcpy(&e.score, p + i + len, sizeof(double));
  e.offset = offset;
  e.next = offset + i + len + sizeof(double);
  return e;
}

bool ZPack::Find(std::string_view m, Entry* out, size_t* rank) const {
  size_t r = 0;
  for (size_t off = 0; off < used_; r++) {
    Entry e = At(off);
    if (e.member == m) {
      *out = e;
      *rank = r;
      return true;
    }
    off = e.next;
  }
  return false;
}

void ZPack::Reserve(size_t need) {
  if (need <= cap_) return;
  size_t cap = cap_ ? cap_ : 16;
  while (cap < need) cap += cap / 2 + 16;
  auto* p = static_cast<uint8_t*>(std::realloc(buf_, cap));
  if (!p) throw std::bad_alloc();
  buf_ = p;
  cap_ = static_cast<uint32_t>(cap);
}

void ZPack::Insert(std::string_view m, double score) {
  size_t at = 0;
  while (at < used_) {
    Entry e = At(at);
    if (Less(score, m, e.score, e.member)) break;
    at = e.next;
  }
  size_t n = VarintLen(m.size()) + m.size() + sizeof(double);
  Reserve(used_ + n);
  std::memmove(buf_ + at + n, buf_ + at, used_ - at);
  size_t h = PutVarint(buf_ + at, m.size());
  if (!m.empty()) std::memcpy(buf_ + at + h, m.data(), m.size());
  std::memcpy(buf_ + at + h + m.size(), &score, sizeof(double));
  used_ += static_cast<uint32_t>(n);
  count_++;
}

void ZPack::Erase(const Entry& e) {
  std::memmove(buf_ + e.offset, buf_ + e.next, used_ - e.next);
  used_ -= static_cast<uint32_t>(e.next - e.offset);
  count_--;
  // Give memory back when mostly empty.
  if (cap_ > 64 && used_ < cap_ / 4) {
    auto* p = static_cast<uint8_t*>(std::realloc(buf_, used_ + 16));
    if (p) {
      buf_ = p;
      cap_ = used_ + 16;
    }
  }
}

std::vector<size_t> ZPack::Offsets() const {
  std::vector<size_t> v;
  v.reserve(count_);
  for (size_t off = 0; off < used_; off = At(off).next) v.push_back(off);
  return v;
}

void ZPack::CopyFrom(const ZPack& o) {
  std::free(buf_);
  buf_ = nullptr;
  used_ = cap_ = count_ = 0;
  if (o.used_) {
    Reserve(o.used_);
    std::memcpy(buf_, o.buf_, o.used_);
  }
  used_ = o.used_;
  count_ = o.count_;
}

}  // namespace ferrite::mod::zsets
