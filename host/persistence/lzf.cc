#include "host/persistence/lzf.h"

#include <cstdint>
#include <cstring>
#include <vector>

namespace ferrite::host::persist {

namespace {
constexpr size_t kMaxLit = 32;          // literal run: ctrl 0..31 = 1..32 bytes
constexpr size_t kMaxOff = 8192;        // back reference distance
constexpr size_t kMaxRef = 7 + 255 + 2; // back reference length
constexpr int kHashLog = 14;

inline uint32_t Hash3(const uint8_t* p) {
  uint32_t v = uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2];
  return (v * 2654435761u) >> (32 - kHashLog);
}
}  // namespace

size_t LzfCompress(const void* in_v, size_t in_len, void* out_v, size_t out_cap) {
  const auto* in = static_cast<const uint8_t*>(in_v);
  auto* out = static_cast<uint8_t*>(out_v);
  if (in_len == 0 || out_cap == 0) return 0;
  thread_local std::vector<uint32_t> htab;
  htab.assign(size_t{1} << kHashLog, UINT32_MAX);
  size_t ip = 0, op = 0;
  size_t lit_start = 0;  // literals pending since here
  auto flush_literals = [&](size_t end) -> bool {
    while (lit_start < end) {
      size_t n = std::min(end - lit_start, kMaxLit);
      if (op + 1 + n > out_cap) return false;
      out[op++] = static_cast<uint8_t>(n - 1);
      memcpy(out + op, in + lit_start, n);
      op += n;
      lit_start += n;
    }
    return true;
  };
  while (ip + 2 < in_len) {
    uint32_t h = Hash3(in + ip);
    uint32_t ref = htab[h];
    htab[h] = static_cast<uint32_t>(ip);
    if (ref != UINT32_MAX && ip - ref - 1 < kMaxOff && ref < ip &&
        memcmp(in + ref, in + ip, 3) == 0) {
      size_t max = std::min(kMaxRef, in_len - ip);
      size_t len = 3;
      while (len < max && in[ref + len] == in[ip + len]) len++;
      if (!flush_literals(ip)) return 0;
      size_t off = ip - ref - 1;
      size_t l = len - 2;
      if (l < 7) {
        if (op + 2 > out_cap) return 0;
        out[op++] = static_cast<uint8_t>((l << 5) | (off >> 8));
      } else {
        if (op + 3 > out_cap) return 0;
        out[op++] = static_cast<uint8_t>((7 << 5) | (off >> 8));
        out[op++] = static_cast<uint8_t>(l - 7);
      }
      out[op++] = static_cast<uint8_t>(off & 0xff);
      // Index the positions inside the match so later data can refer into it.
      for (size_t k = ip + 1; k < ip + len && k + 2 < in_len; k++)
        htab[Hash3(in + k)] = static_cast<uint32_t>(k);
      ip += len;
      lit_start = ip;
    } else {
      ip++;
    }
  }
  if (!flush_literals(in_len)) return 0;
  return op;
}

bool LzfDecompress(const void* in_v, size_t in_len, void* out_v, size_t out_len) {
  const auto* in = static_cast<const uint8_t*>(in_v);
  auto* out = static_cast<uint8_t*>(out_v);
  size_t ip = 0, op = 0;
  while (ip < in_len) {
    unsigned ctrl = in[ip++];
    if (ctrl < 32) {
      size_t n = ctrl + 1;
      if (ip + n > in_len || op + n > out_len) return false;
      memcpy(out + op, in + ip, n);
      ip += n;
      op += n;
      continue;
    }
    size_t len = ctrl >> 5;
    if (len == 7) {
      if (ip >= in_len) return false;
      len += in[ip++];
    }
    if (ip >= in_len) return false;
    size_t back = ((ctrl & 0x1f) << 8) + in[ip++] + 1;
    len += 2;
    if (back > op || op + len > out_len) return false;
    // Byte by byte: the source may overlap the destination (run-length style).
    for (size_t k = 0; k < len; k++, op++) out[op] = out[op - back];
  }
  return op == out_len;
}

}  // namespace ferrite::host::persist
