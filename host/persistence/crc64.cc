#include "host/persistence/crc64.h"

#include <array>

namespace ferrite::host::persist {

namespace {

// 0xad93d23594c935a9 bit-reversed: the table form of the reflected algorithm.
constexpr uint64_t kPolyReflected = 0x95ac9329ac4bc9b5ULL;

// Slicing-by-8 tables: RDB files of several GB are checksummed on the save path.
struct Tables {
  std::array<std::array<uint64_t, 256>, 8> t{};
  Tables() {
    for (uint64_t i = 0; i < 256; i++) {
      uint64_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPolyReflected : c >> 1;
      t[0][i] = c;
    }
    for (int s = 1; s < 8; s++)
      for (int i = 0; i < 256; i++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};

const Tables& T() {
  static const Tables tables;
  return tables;
}

}  // namespace

uint64_t Crc64(uint64_t crc, const void* data, size_t len) {
  const auto& t = T().t;
  const auto* p = static_cast<const uint8_t*>(data);
  while (len >= 8) {
    uint64_t v = crc ^ (uint64_t(p[0]) | uint64_t(p[1]) << 8 | uint64_t(p[2]) << 16 |
                        uint64_t(p[3]) << 24 | uint64_t(p[4]) << 32 | uint64_t(p[5]) << 40 |
                        uint64_t(p[6]) << 48 | uint64_t(p[7]) << 56);
    crc = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^ t[5][(v >> 16) & 0xff] ^
          t[4][(v >> 24) & 0xff] ^ t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^
          t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
    p += 8;
    len -= 8;
  }
  while (len--) crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace ferrite::host::persist
