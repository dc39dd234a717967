#include "listpack.h"

#include <cstring>

#include "ferrite/module.hpp"

namespace ferrite::mod::streams {

namespace {

constexpr unsigned char kEof = 0xFF;

uint32_t Le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// Bytes of encoding + data of the element at p, given `avail` readable bytes; 0 when
// the encoding is invalid or does not fit.
size_t EncodedSize(const unsigned char* p, size_t avail) {
  if (avail < 1) return 0;
  unsigned char b = p[0];
  size_t n;
  if ((b & 0x80) == 0) n = 1;
  else if ((b & 0xC0) == 0x80) n = 1 + (b & 0x3F);
  else if ((b & 0xE0) == 0xC0) n = 2;
  else if ((b & 0xF0) == 0xE0) {
    if (avail < 2) return 0;
    n = 2 + ((size_t(b & 0x0F) << 8) | p[1]);
  } else if (b == 0xF1) n = 3;
  else if (b == 0xF2) n = 4;
  else if (b == 0xF3) n = 5;
  else if (b == 0xF4) n = 9;
  else if (b == 0xF0) {
    if (avail < 5) return 0;
    n = 5 + size_t(Le32(p + 1));
  } else {
    return 0;  // 0xF5..0xFE unused, 0xFF is the end marker
  }
  return n <= avail ? n : 0;
}

size_t BacklenSize(size_t l) {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

// Decodes the element at p (already bounds-checked).
void Decode(const unsigned char* p, LpElem* e) {
  unsigned char b = p[0];
  e->is_int = true;
  uint64_t u;
  int bits;
  if ((b & 0x80) == 0) {
    e->ival = b & 0x7F;
    return;
  } else if ((b & 0xC0) == 0x80) {
    e->is_int = false;
    e->sval = {reinterpret_cast<const char*>(p + 1), size_t(b & 0x3F)};
    return;
  } else if ((b & 0xE0) == 0xC0) {
    u = (uint64_t(b & 0x1F) << 8) | p[1];
    bits = 13;
  } else if ((b & 0xF0) == 0xE0) {
    e->is_int = false;
    e->sval = {reinterpret_cast<const char*>(p + 2), (size_t(b & 0x0F) << 8) | p[1]};
    return;
  } else if (b == 0xF0) {
    e->is_int = false;
    e->sval = {reinterpret_cast<const char*>(p + 5), size_t(Le32(p + 1))};
    return;
  } else {
    int n = b == 0xF1 ? 2 : b == 0xF2 ? 3 : b == 0xF3 ? 4 : 8;
    u = 0;
    for (int i = 0; i < n; i++) u |= uint64_t(p[1 + i]) << (8 * i);
    bits = 8 * n;
  }
  if (bits < 64 && (u >> (bits - 1)) & 1) u |= ~uint64_t(0) << bits;  // sign-extend
  e->ival = static_cast<int64_t>(u);
}

}  // namespace

void LpElem::AppendTo(std::string* out) const {
  if (is_int) out->append(std::to_string(ival));
  else out->append(sval);
}

void Listpack::Init() {
  b_.assign(kHeader, '\0');
  b_.push_back(static_cast<char>(kEof));
  SetHeader();
}

void Listpack::SetHeader() {
  auto* p = reinterpret_cast<unsigned char*>(b_.data());
  uint32_t total = static_cast<uint32_t>(b_.size());
  for (int i = 0; i < 4; i++) p[i] = static_cast<unsigned char>(total >> (8 * i));
}

size_t Listpack::EncodeInt(int64_t v, unsigned char* out) {
  if (v >= 0 && v <= 127) {
    out[0] = static_cast<unsigned char>(v);
    return 1;
  }
  if (v >= -4096 && v <= 4095) {
    uint64_t u = v < 0 ? (uint64_t(1) << 13) + v : uint64_t(v);
    out[0] = static_cast<unsigned char>((u >> 8) | 0xC0);
    out[1] = static_cast<unsigned char>(u & 0xFF);
    return 2;
  }
  int n;
  unsigned char tag;
  if (v >= -32768 && v <= 32767) n = 2, tag = 0xF1;
  else if (v >= -8388608 && v <= 8388607) n = 3, tag = 0xF2;
  else if (v >= INT32_MIN && v <= INT32_MAX) n = 4, tag = 0xF3;
  else n = 8, tag = 0xF4;
  uint64_t u = static_cast<uint64_t>(v);
  out[0] = tag;
  for (int i = 0; i < n; i++) out[1 + i] = static_cast<unsigned char>(u >> (8 * i));
  return 1 + n;
}

size_t Listpack::EncodeBacklen(size_t l, unsigned char* out) {
  size_t n = BacklenSize(l);
  // Most significant group first, without the continuation bit; the others carry it.
  for (size_t i = 0; i < n; i++) {
    unsigned char g = static_cast<unsigned char>((l >> (7 * (n - 1 - i))) & 127);
    out[i] = i == 0 ? g : g | 128;
  }
  return n;
}

void Listpack::AppendInt(int64_t v) {
  unsigned char buf[16];
  size_t n = EncodeInt(v, buf);
  n += EncodeBacklen(n, buf + n);
  b_.insert(b_.size() - 1, reinterpret_cast<const char*>(buf), n);
  auto* p = reinterpret_cast<unsigned char*>(b_.data());
  uint16_t count = static_cast<uint16_t>(p[4] | p[5] << 8);
  if (count != UINT16_MAX) count++;
  p[4] = static_cast<unsigned char>(count);
  p[5] = static_cast<unsigned char>(count >> 8);
  SetHeader();
}

void Listpack::AppendString(std::string_view s) {
  int64_t v;
  if (sdk::ParseInt64(s, &v)) return AppendInt(v);
  unsigned char hdr[5];
  size_t h;
  size_t len = s.size();
  if (len < 64) {
    hdr[0] = static_cast<unsigned char>(0x80 | len);
    h = 1;
  } else if (len < 4096) {
    hdr[0] = static_cast<unsigned char>(0xE0 | (len >> 8));
    hdr[1] = static_cast<unsigned char>(len & 0xFF);
    h = 2;
  } else {
    hdr[0] = 0xF0;
    for (int i = 0; i < 4; i++) hdr[1 + i] = static_cast<unsigned char>(len >> (8 * i));
    h = 5;
  }
  unsigned char back[5];
  size_t bl = EncodeBacklen(h + len, back);
  std::string el;
  el.reserve(h + len + bl);
  el.append(reinterpret_cast<const char*>(hdr), h);
  el.append(s);
  el.append(reinterpret_cast<const char*>(back), bl);
  b_.insert(b_.size() - 1, el);
  auto* p = reinterpret_cast<unsigned char*>(b_.data());
  uint16_t count = static_cast<uint16_t>(p[4] | p[5] << 8);
  if (count != UINT16_MAX) count++;
  p[4] = static_cast<unsigned char>(count);
  p[5] = static_cast<unsigned char>(count >> 8);
  SetHeader();
}

size_t Listpack::Read(size_t off, LpElem* e) const {
  const auto* p = reinterpret_cast<const unsigned char*>(b_.data()) + off;
  size_t enc = EncodedSize(p, b_.size() - off);
  Decode(p, e);
  e->size = enc + BacklenSize(enc);
  size_t next = off + e->size;
  return next < b_.size() && static_cast<unsigned char>(b_[next]) != kEof ? next : 0;
}

int64_t Listpack::IntAt(size_t off) const {
  LpElem e;
  Read(off, &e);
  if (e.is_int) return e.ival;
  int64_t v = 0;
  sdk::ParseInt64(e.sval, &v);  // Redis tolerates integers stored as strings
  return v;
}

void Listpack::ReplaceInt(size_t off, int64_t v) {
  LpElem old;
  Read(off, &old);
  unsigned char buf[16];
  size_t n = EncodeInt(v, buf);
  n += EncodeBacklen(n, buf + n);
  b_.replace(off, old.size, reinterpret_cast<const char*>(buf), n);
  SetHeader();
}

int64_t Listpack::Validate(std::string_view bytes) {
  const auto* lp = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t size = bytes.size();
  if (size < kHeader + 1 || size > UINT32_MAX) return -1;
  if (Le32(lp) != size || lp[size - 1] != kEof) return -1;
  uint16_t hdr_count = static_cast<uint16_t>(lp[4] | lp[5] << 8);
  size_t off = kHeader;
  int64_t count = 0;
  while (off < size - 1) {
    size_t enc = EncodedSize(lp + off, size - 1 - off);
    if (enc == 0) return -1;
    size_t bl = BacklenSize(enc);
    if (off + enc + bl > size - 1) return -1;
    // The back-length must decode (reading backwards) to the encoded size.
    const unsigned char* q = lp + off + enc + bl - 1;
    uint64_t val = 0, shift = 0;
    size_t used = 0;
    for (;;) {
      val |= uint64_t(q[0] & 127) << shift;
      used++;
      if (!(q[0] & 128)) break;
      shift += 7;
      q--;
      if (used >= bl) return -1;
    }
    if (val != enc || used != bl) return -1;
    off += enc + bl;
    count++;
  }
  if (off != size - 1) return -1;
  if (hdr_count != UINT16_MAX && hdr_count != count) return -1;
  return count;
}

}  // namespace ferrite::mod::streams
