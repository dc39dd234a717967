#include "zset_listpack.h"

#include <cmath>
#include <cstring>

#include "zset_skiplist.h"

namespace ferrite::mod::zsets::zpack {

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

Entry At(const uint8_t* data, size_t offset) {
  const uint8_t* p = data + offset;
  uint64_t len;
  size_t i = GetVarint(p, &len);
  Entry e;
  e.member = {reinterpret_cast<const char*>(p + i), len};
  size_t sl = GetScore(p + i + len, &e.score);
  e.offset = offset;
  e.next = offset + i + len + sl;
  return e;
}

size_t Count(const uint8_t* data, size_t used) {
  size_t n = 0;
  for (size_t off = 0; off < used; n++) off = At(data, off).next;
  return n;
}

bool Find(const uint8_t* data, size_t used, std::string_view m, Entry* out, size_t* rank) {
  size_t r = 0;
  for (size_t off = 0; off < used; r++) {
    Entry e = At(data, off);
    if (e.member == m) {
      *out = e;
      *rank = r;
      return true;
    }
    off = e.next;
  }
  return false;
}

size_t EntrySize(std::string_view m, double score) {
  return VarintLen(m.size()) + m.size() + ScoreLen(score);
}

void Insert(uint8_t* data, size_t used, std::string_view m, double score) {
  size_t at = 0;
  while (at < used) {
    Entry e = At(data, at);
    if (Less(score, m, e.score, e.member)) break;
    at = e.next;
  }
  size_t n = EntrySize(m, score);
  std::memmove(data + at + n, data + at, used - at);
  size_t h = PutVarint(data + at, m.size());
  if (!m.empty()) std::memcpy(data + at + h, m.data(), m.size());
  PutScore(data + at + h + m.size(), score);
}

void Erase(uint8_t* data, size_t used, const Entry& e) {
  std::memmove(data + e.offset, data + e.next, used - e.next);
}

std::vector<size_t> Offsets(const uint8_t* data, size_t used) {
  std::vector<size_t> v;
  for (size_t off = 0; off < used; off = At(data, off).next) v.push_back(off);
  return v;
}

}  // namespace ferrite::mod::zsets::zpack
