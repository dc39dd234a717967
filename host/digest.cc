#include "host/digest.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "host/host.h"
#include "host/io.h"

namespace ferrite::host {

namespace {

// SHA-1 (FIPS 180-4), for the digest only.
class Sha1 {
 public:
  void Update(const void* data, size_t len) {
    auto* p = static_cast<const uint8_t*>(data);
    total_ += len;
    while (len > 0) {
      size_t take = std::min(len, sizeof buf_ - n_);
      std::memcpy(buf_ + n_, p, take);
      n_ += take, p += take, len -= take;
      if (n_ == sizeof buf_) Block(buf_), n_ = 0;
    }
  }
  void Final(uint8_t out[20]) {
    uint64_t bits = total_ * 8;
    uint8_t pad = 0x80;
    Update(&pad, 1);
    pad = 0;
    while (n_ != 56) Update(&pad, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    Update(len, 8);
    for (int i = 0; i < 5; i++)
      for (int j = 0; j < 4; j++) out[4 * i + j] = static_cast<uint8_t>(h_[i] >> (24 - 8 * j));
  }

 private:
  static uint32_t Rol(uint32_t v, int s) { return (v << s) | (v >> (32 - s)); }
  void Block(const uint8_t* b) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
      w[i] = (uint32_t{b[4 * i]} << 24) | (uint32_t{b[4 * i + 1]} << 16) |
             (uint32_t{b[4 * i + 2]} << 8) | b[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = Rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h_[0], bb = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int i = 0; i < 80; i++) {
      uint32_t f, k;
      if (i < 20) f = (bb & c) | (~bb & d), k = 0x5A827999;
      else if (i < 40) f = bb ^ c ^ d, k = 0x6ED9EBA1;
      else if (i < 60) f = (bb & c) | (bb & d) | (c & d), k = 0x8F1BBCDC;
      else f = bb ^ c ^ d, k = 0xCA62C1D6;
      uint32_t t = Rol(a, 5) + f + e + k + w[i];
      e = d, d = c, c = Rol(bb, 30), bb = a, a = t;
    }
    h_[0] += a, h_[1] += bb, h_[2] += c, h_[3] += d, h_[4] += e;
  }
  uint32_t h_[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  uint8_t buf_[64];
  size_t n_ = 0;
  uint64_t total_ = 0;
};

using Digest = uint8_t[20];

void XorDigest(Digest d, const void* p, size_t len) {
  Sha1 s;
  s.Update(p, len);
  uint8_t h[20];
  s.Final(h);
  for (int i = 0; i < 20; i++) d[i] ^= h[i];
}

// digest = SHA1(digest xor SHA1(data)): order-preserving.
void MixDigest(Digest d, const void* p, size_t len) {
  XorDigest(d, p, len);
  Sha1 s;
  s.Update(d, 20);
  s.Final(d);
}

// What a type's save callback writes, in order.
class CaptureIo : public ferrite_io {
 public:
  struct Item {
    std::string s;
    double d = 0;
    bool is_double = false;
  };
  std::vector<Item> items;
  void WriteLen(uint64_t) override {}
  void WriteString(const char* s, size_t n) override { items.push_back({std::string(s, n)}); }
  void WriteDouble(double v) override { items.push_back({{}, v, true}); }
  bool ReadLen(uint64_t*) override { return false; }
  bool ReadString(std::string*) override { return false; }
  bool ReadDouble(double*) override { return false; }
};

// Redis' object type numbers (OBJ_*), hashed into each value's digest.
enum : uint32_t { kObjString = 0, kObjList = 1, kObjSet = 2, kObjZset = 3, kObjHash = 4,
                  kObjStream = 6 };

void PairsDigest(Digest d, const std::vector<CaptureIo::Item>& it, bool scored) {
  for (size_t i = 0; i + 1 < it.size(); i += 2) {
    Digest ele = {0};
    MixDigest(ele, it[i].s.data(), it[i].s.size());
    if (scored) {
      char buf[128];
      int n = snprintf(buf, sizeof buf, "%.17g", it[i + 1].d);
      MixDigest(ele, buf, static_cast<size_t>(n));
    } else {
      MixDigest(ele, it[i + 1].s.data(), it[i + 1].s.size());
    }
    XorDigest(d, ele, 20);
  }
}

// Redis' xorObjectDigest. Module values are read through their save callback, which
// writes Redis' plain RDB forms: list (1) and set (2) as strings, zset2 (5) as member /
// score pairs, hash (4) as field / value pairs. Other forms (streams, 7.4 hash field
// TTLs) contribute their type only: redis-server 7.0 has no equivalent to compare with.
void ObjectDigest(Table& t, Entry* e, Digest d) {
  int rdb_type = -1;
  uint32_t type = kObjString;
  CaptureIo io;
  if (e->kind == ValueKind::kModule) {
    const ferrite_type_desc& desc = e->mod_type()->desc;
    rdb_type = desc.rdb_type_of ? desc.rdb_type_of(e->mod.ptr) : desc.rdb_type;
    switch (rdb_type) {
      case 1: type = kObjList; break;
      case 2: type = kObjSet; break;
      case 5: type = kObjZset; break;
      case 4: case 24: type = kObjHash; break;
      default: type = kObjStream; break;
    }
    if (desc.save && (rdb_type == 1 || rdb_type == 2 || rdb_type == 4 || rdb_type == 5))
      desc.save(&io, e->mod.ptr);
  }
  uint32_t aux = htonl(type);
  MixDigest(d, &aux, sizeof aux);
  if (e->kind == ValueKind::kString) {
    std::string_view v = e->string_value();
    MixDigest(d, v.data(), v.size());
  } else if (rdb_type == 1) {
    for (auto& i : io.items) MixDigest(d, i.s.data(), i.s.size());
  } else if (rdb_type == 2) {
    for (auto& i : io.items) XorDigest(d, i.s.data(), i.s.size());
  } else if (rdb_type == 5 || rdb_type == 4) {
    PairsDigest(d, io.items, rdb_type == 5);
  }
  if (t.ExpireOf(e) >= 0) XorDigest(d, "!!expire!!", 10);
}

std::string Hex(const Digest d) {
  static const char* kHex = "0123456789abcdef";
  std::string s(40, '0');
  for (int i = 0; i < 20; i++) s[2 * i] = kHex[d[i] >> 4], s[2 * i + 1] = kHex[d[i] & 15];
  return s;
}

}  // namespace

std::string DatasetDigest(Host& h) {
  Digest final = {0};
  Keyspace& ks = h.keyspace();
  for (int db = 0; db < ks.num_dbs(); db++) {
    bool empty = true;
    for (int s = 0; s < ks.num_shards() && empty; s++) empty = ks.shard(s).dbs[db].size() == 0;
    if (empty) continue;
    uint32_t aux = htonl(static_cast<uint32_t>(db));
    MixDigest(final, &aux, sizeof aux);
    for (int s = 0; s < ks.num_shards(); s++) {
      Table& t = ks.shard(s).dbs[db];
      t.ForEach([&](Entry* e) {
        Digest d = {0};
        std::string_view k = e->key();
        MixDigest(d, k.data(), k.size());
        ObjectDigest(t, e, d);
        XorDigest(final, d, 20);
      });
    }
  }
  return Hex(final);
}

std::string ValueDigest(Host& h, int db, std::string_view key) {
  Digest d = {0};
  Keyspace& ks = h.keyspace();
  uint64_t hash = HashKey(key);
  Table& t = ks.shard(ks.ShardIndex(hash)).dbs[db];
  if (Entry* e = t.Find(key, hash)) ObjectDigest(t, e, d);
  return Hex(d);
}

}  // namespace ferrite::host
