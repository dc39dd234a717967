#include "zset_listpack.h"

#include <cmath>
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

size_t GetVarint(const uint8_t* p, uint64_t* v) {
  *v = 0;
  size_t i = 0;
  int shift = 0;
  for (;;) {
    uint8_t b = p[i++];
    *v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return i;
    shift += 7;
  }
}

size_t VarintLen(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

constexpr double kMaxExact = 9007199254740992.0;  // 2^53

// An integral score that round-trips through int64 is stored as (zigzag << 1) in a
// varint; otherwise the varint 1 is followed by the raw double. NOTE: -0 becomes 0,
// as in Redis' listpack (which stores it as the integer 0).
bool AsSmallInt(double s, int64_t* out) {
  if (!(s > -kMaxExact && s < kMaxExact) || s != std::floor(s)) return false;
  *out = static_cast<int64_t>(s);
  return true;
}

uint64_t ScoreTag(int64_t v) {
  uint64_t zz = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  return zz << 1;
}

size_t ScoreLen(double s) {
  int64_t v;
  return AsSmallInt(s, &v) ? VarintLen(ScoreTag(v)) : 1 + sizeof(double);
}

size_t PutScore(uint8_t* p, double s) {
  int64_t v;
  if (AsSmallInt(s, &v)) return PutVarint(p, ScoreTag(v));
  p[0] = 1;
  std::memcpy(p + 1, &s, sizeof(double));
  return 1 + sizeof(double);
}

size_t GetScore(const uint8_t* p, double* s) {
  uint64_t tag;
  size_t n = GetVarint(p, &tag);
  if (tag & 1) {
    std::memcpy(s, p + 1, sizeof(double));
    return 1 + sizeof(double);
  }
  uint64_t zz = tag >> 1;
  *s = static_cast<double>(static_cast<int64_t>((zz >> 1) ^ (0 - (zz & 1))));
  return n;
}
}  // namespace

ZPack::~ZPack() { std::free(blob_); }

void ZPack::Clear() {
  std::free(blob_);
  blob_ = nullptr;
}

// Exact-size allocation, as Redis' listpack: inserts memmove anyway.
void ZPack::Resize(size_t used) {
  if (used == 0 && (!blob_ || H()->count == 0)) {
    Clear();
    return;
  }
  bool fresh = blob_ == nullptr;
  auto* p = static_cast<uint8_t*>(std::realloc(blob_, sizeof(Header) + used));
  if (!p) throw std::bad_alloc();
  blob_ = p;
  if (fresh) H()->count = 0;
  H()->used = static_cast<uint32_t>(used);
}

ZPack::Entry ZPack::At(size_t offset) const {
  const uint8_t* p = Data() + offset;
  uint64_t len;
  size_t i = GetVarint(p, &len);
  Entry e;
  e.member = {reinterpret_cast<const char*>(p + i), len};
  size_t sl = GetScore(p + i + len, &e.score);
  e.offset = offset;
  e.next = offset + i + len + sl;
  return e;
}

bool ZPack::Find(std::string_view m, Entry* out, size_t* rank) const {
  size_t r = 0;
  for (size_t off = 0; off < Bytes(); r++) {
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

void ZPack::Insert(std::string_view m, double score) {
  size_t used = Bytes();
  size_t at = 0;
  while (at < used) {
    Entry e = At(at);
    if (Less(score, m, e.score, e.member)) break;
    at = e.next;
  }
  size_t n = VarintLen(m.size()) + m.size() + ScoreLen(score);
  Resize(used + n);
  uint8_t* d = Data();
  std::memmove(d + at + n, d + at, used - at);
  size_t h = PutVarint(d + at, m.size());
  if (!m.empty()) std::memcpy(d + at + h, m.data(), m.size());
  PutScore(d + at + h + m.size(), score);
  H()->count++;
}

void ZPack::Erase(const Entry& e) {
  size_t used = Bytes();
  uint8_t* d = Data();
  std::memmove(d + e.offset, d + e.next, used - e.next);
  H()->count--;
  Resize(used - (e.next - e.offset));
}

std::vector<size_t> ZPack::Offsets() const {
  std::vector<size_t> v;
  v.reserve(Size());
  for (size_t off = 0; off < Bytes(); off = At(off).next) v.push_back(off);
  return v;
}

void ZPack::CopyFrom(const ZPack& o) {
  Clear();
  if (!o.blob_) return;
  blob_ = static_cast<uint8_t*>(std::malloc(o.Capacity()));
  if (!blob_) throw std::bad_alloc();
  std::memcpy(blob_, o.blob_, o.Capacity());
}

}  // namespace ferrite::mod::zsets
