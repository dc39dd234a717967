#include "host/persistence/rdb_compact.h"

#include <cstdint>
#include <cstring>

#include "host/persistence/rdb_format.h"

namespace ferrite::host::persist {

namespace {

uint64_t LoadLe(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

// Sign-extends the low `bits` of v.
int64_t SignExtend(uint64_t v, int bits) {
  if (bits == 64) return static_cast<int64_t>(v);
  uint64_t m = uint64_t{1} << (bits - 1);
  v &= (uint64_t{1} << bits) - 1;
  return static_cast<int64_t>((v ^ m) - m);
}

void PutLe(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; i++) s.push_back(static_cast<char>(v >> (8 * i)));
}

size_t BacklenSize(size_t l) {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

}  // namespace

bool DecodeZiplist(std::string_view zl, std::vector<std::string>* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(zl.data());
  size_t n = zl.size();
  if (n < 11 || LoadLe(p, 4) != n) return false;
  size_t i = 10;
  while (true) {
    if (i >= n) return false;
    if (p[i] == 0xFF) break;
    i += (p[i] == 0xFE) ? 5 : 1;  // prevlen
    if (i >= n) return false;
    uint8_t e = p[i];
    switch (e >> 6) {
      case 0: case 1: case 2: {
        size_t len, hdr;
        if ((e >> 6) == 0) {
          len = e & 0x3f;
          hdr = 1;
        } else if ((e >> 6) == 1) {
          if (i + 2 > n) return false;
          len = (size_t(e & 0x3f) << 8) | p[i + 1];
          hdr = 2;
        } else {
          if (i + 5 > n) return false;
          len = (size_t(p[i + 1]) << 24) | (size_t(p[i + 2]) << 16) | (size_t(p[i + 3]) << 8) |
                p[i + 4];
          hdr = 5;
        }
        if (i + hdr + len > n) return false;
        out->emplace_back(zl.substr(i + hdr, len));
        i += hdr + len;
        break;
      }
      default: {
        int64_t v;
        size_t w;
        if (e == 0xC0) w = 2;
        else if (e == 0xD0) w = 4;
        else if (e == 0xE0) w = 8;
        else if (e == 0xF0) w = 3;
        else if (e == 0xFE) w = 1;
        else if (e >= 0xF1 && e <= 0xFD) w = 0;
        else return false;
        if (i + 1 + w > n) return false;
        v = w ? SignExtend(LoadLe(p + i + 1, static_cast<int>(w)), static_cast<int>(w * 8))
              : int64_t(e & 0x0f) - 1;
        out->push_back(std::to_string(v));
        i += 1 + w;
      }
    }
  }
  return true;
}

bool DecodeListpack(std::string_view lp, std::vector<std::string>* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(lp.data());
  size_t n = lp.size();
  if (n < 7 || LoadLe(p, 4) != n) return false;
  size_t i = 6;
  while (true) {
    if (i >= n) return false;
    uint8_t e = p[i];
    if (e == 0xFF) break;
    size_t hdr = 0, len = 0;
    bool is_int = true;
    int64_t v = 0;
    if ((e & 0x80) == 0) {
      v = e & 0x7f;
      hdr = 1;
    } else if ((e & 0xC0) == 0x80) {
      is_int = false;
      hdr = 1;
      len = e & 0x3f;
    } else if ((e & 0xE0) == 0xC0) {
      if (i + 2 > n) return false;
      v = SignExtend((uint64_t(e & 0x1f) << 8) | p[i + 1], 13);
      hdr = 2;
    } else if ((e & 0xF0) == 0xE0) {
      if (i + 2 > n) return false;
      is_int = false;
      hdr = 2;
      len = (size_t(e & 0x0f) << 8) | p[i + 1];
    } else if (e == 0xF0) {
      if (i + 5 > n) return false;
      is_int = false;
      hdr = 5;
      len = LoadLe(p + i + 1, 4);
    } else if (e >= 0xF1 && e <= 0xF4) {
      static const int kWidth[] = {2, 3, 4, 8};
      int w = kWidth[e - 0xF1];
      if (i + 1 + w > n) return false;
      v = SignExtend(LoadLe(p + i + 1, w), w * 8);
      hdr = 1 + w;
    } else {
      return false;
    }
    if (i + hdr + len > n) return false;
    if (is_int) out->push_back(std::to_string(v));
    else out->emplace_back(lp.substr(i + hdr, len));
    i += hdr + len + BacklenSize(hdr + len);
  }
  return true;
}

bool DecodeIntset(std::string_view is, std::vector<std::string>* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(is.data());
  if (is.size() < 8) return false;
  uint64_t enc = LoadLe(p, 4), count = LoadLe(p + 4, 4);
  if (enc != 2 && enc != 4 && enc != 8) return false;
  if (8 + count * enc != is.size()) return false;
  for (uint64_t k = 0; k < count; k++)
    out->push_back(std::to_string(
        SignExtend(LoadLe(p + 8 + k * enc, static_cast<int>(enc)), static_cast<int>(enc * 8))));
  return true;
}

bool DecodeZipmap(std::string_view zm, std::vector<std::string>* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(zm.data());
  size_t n = zm.size(), i = 1;
  auto read_len = [&](size_t* len) {
    if (i >= n) return false;
    if (p[i] < 254) {
      *len = p[i++];
      return true;
    }
    if (p[i] == 254 && i + 5 <= n) {
      *len = LoadLe(p + i + 1, 4);
      i += 5;
      return true;
    }
    return false;
  };
  if (n < 2) return false;
  while (true) {
    if (i >= n) return false;
    if (p[i] == 0xFF) break;
    size_t klen, vlen;
    if (!read_len(&klen) || i + klen > n) return false;
    out->emplace_back(zm.substr(i, klen));
    i += klen;
    if (!read_len(&vlen) || i + 1 > n) return false;
    size_t free_bytes = p[i++];
    if (i + vlen + free_bytes > n) return false;
    out->emplace_back(zm.substr(i, vlen));
    i += vlen + free_bytes;
  }
  return true;
}

std::string EncodeListpackForTest(const std::vector<std::string>& items) {
  std::string body;
  for (auto& s : items) {
    std::string e;
    int64_t v;
    if (StrictInt64(s, &v)) {
      if (v >= 0 && v <= 127) {
        e.push_back(static_cast<char>(v));
      } else if (v >= -4096 && v <= 4095) {
        uint64_t u = static_cast<uint64_t>(v) & 0x1fff;
        e.push_back(static_cast<char>(0xC0 | (u >> 8)));
        e.push_back(static_cast<char>(u & 0xff));
      } else {
        e.push_back(static_cast<char>(0xF4));
        PutLe(e, static_cast<uint64_t>(v), 8);
      }
    } else if (s.size() < 64) {
      e.push_back(static_cast<char>(0x80 | s.size()));
      e += s;
    } else if (s.size() < 4096) {
      e.push_back(static_cast<char>(0xE0 | (s.size() >> 8)));
      e.push_back(static_cast<char>(s.size() & 0xff));
      e += s;
    } else {
      e.push_back(static_cast<char>(0xF0));
      PutLe(e, s.size(), 4);
      e += s;
    }
    size_t l = e.size();
    body += e;
    // backlen: big-endian-ish 7-bit groups; only its size matters to the decoder.
    for (size_t k = 0; k < BacklenSize(l); k++) body.push_back(static_cast<char>(l & 0x7f));
  }
  std::string lp;
  PutLe(lp, 6 + body.size() + 1, 4);
  PutLe(lp, items.size() < 65535 ? items.size() : 65535, 2);
  lp += body;
  lp.push_back(static_cast<char>(0xFF));
  return lp;
}

std::string EncodeZiplistForTest(const std::vector<std::string>& items) {
  std::string body;
  size_t prev = 0;
  for (auto& s : items) {
    std::string e;
    if (prev < 254) {
      e.push_back(static_cast<char>(prev));
    } else {
      e.push_back(static_cast<char>(0xFE));
      PutLe(e, prev, 4);
    }
    int64_t v;
    if (StrictInt64(s, &v)) {
      if (v >= 0 && v <= 12) {
        e.push_back(static_cast<char>(0xF1 + v));
      } else {
        e.push_back(static_cast<char>(0xE0));
        PutLe(e, static_cast<uint64_t>(v), 8);
      }
    } else if (s.size() < 64) {
      e.push_back(static_cast<char>(s.size()));
      e += s;
    } else if (s.size() < 16384) {
      e.push_back(static_cast<char>(0x40 | (s.size() >> 8)));
      e.push_back(static_cast<char>(s.size() & 0xff));
      e += s;
    } else {
      e.push_back(static_cast<char>(0x80));
      for (int k = 3; k >= 0; k--) e.push_back(static_cast<char>(s.size() >> (8 * k)));
      e += s;
    }
    prev = e.size();
    body += e;
  }
  std::string zl;
  PutLe(zl, 10 + body.size() + 1, 4);
  PutLe(zl, 0, 4);  // zltail: unused by the decoder
  PutLe(zl, items.size(), 2);
  zl += body;
  zl.push_back(static_cast<char>(0xFF));
  return zl;
}

std::string EncodeIntsetForTest(const std::vector<int64_t>& values) {
  std::string s;
  PutLe(s, 8, 4);
  PutLe(s, values.size(), 4);
  for (int64_t v : values) PutLe(s, static_cast<uint64_t>(v), 8);
  return s;
}

}  // namespace ferrite::host::persist
