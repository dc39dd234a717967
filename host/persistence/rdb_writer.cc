#include "host/persistence/rdb_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "host/context.h"
#include "host/host.h"
#include "host/persistence/crc64.h"
#include "host/persistence/lzf.h"
#include "host/persistence/rdb_format.h"
#include "host/server_commands.h"

namespace ferrite::host::persist {

namespace {
constexpr size_t kFlushAt = 1 << 20;
}

RdbOutput::RdbOutput(int fd, bool compress) : fd_(fd), compress_(compress) {
  if (fd_ >= 0) buf_.reserve(kFlushAt + 4096);
}

void RdbOutput::Put(const void* p, size_t n) {
  crc_ = Crc64(crc_, p, n);
  buf_.append(static_cast<const char*>(p), n);
  if (fd_ >= 0 && buf_.size() >= kFlushAt) Flush();
}

bool RdbOutput::Flush() {
  if (fd_ < 0 || err_) return err_ == 0;
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t w = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      err_ = errno;
      return false;
    }
    off += static_cast<size_t>(w);
  }
  written_ += buf_.size();
  buf_.clear();
  return true;
}

void RdbOutput::Len(uint64_t v) {
  uint8_t b[9];
  if (v < (1 << 6)) {
    b[0] = static_cast<uint8_t>(v);
    Put(b, 1);
  } else if (v < (1 << 14)) {
    b[0] = static_cast<uint8_t>((v >> 8) | 0x40);
    b[1] = static_cast<uint8_t>(v);
    Put(b, 2);
  } else if (v <= UINT32_MAX) {
    b[0] = kLen32;
    for (int i = 0; i < 4; i++) b[1 + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
    Put(b, 5);
  } else {
    b[0] = kLen64;
    for (int i = 0; i < 8; i++) b[1 + i] = static_cast<uint8_t>(v >> (56 - 8 * i));
    Put(b, 9);
  }
}

void RdbOutput::Le64(uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = static_cast<uint8_t>(v >> (8 * i));
  Put(b, 8);
}

void RdbOutput::Double(double v) {
  uint64_t bits;
  memcpy(&bits, &v, 8);
  Le64(bits);
}

void RdbOutput::String(std::string_view s) {
  int64_t iv;
  if (s.size() <= 11 && StrictInt64(s, &iv)) {
    uint8_t b[5];
    if (iv >= INT8_MIN && iv <= INT8_MAX) {
      b[0] = 0xC0 | kEncInt8;
      b[1] = static_cast<uint8_t>(iv);
      return Put(b, 2);
    }
    if (iv >= INT16_MIN && iv <= INT16_MAX) {
      b[0] = 0xC0 | kEncInt16;
      b[1] = static_cast<uint8_t>(iv);
      b[2] = static_cast<uint8_t>(iv >> 8);
      return Put(b, 3);
    }
    if (iv >= INT32_MIN && iv <= INT32_MAX) {
      b[0] = 0xC0 | kEncInt32;
      for (int i = 0; i < 4; i++) b[1 + i] = static_cast<uint8_t>(iv >> (8 * i));
      return Put(b, 5);
    }
  }
  if (compress_ && s.size() > 20) {
    lzf_.resize(s.size() - 4);
    size_t c = LzfCompress(s.data(), s.size(), lzf_.data(), lzf_.size());
    if (c > 0) {
      Byte(0xC0 | kEncLzf);
      Len(c);
      Len(s.size());
      return Put(lzf_.data(), c);
    }
  }
  Len(s.size());
  Put(s.data(), s.size());
}

bool RdbOutput::Finish(bool checksum) {
  Byte(kOpEof);
  uint64_t crc = checksum ? crc_ : 0;
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = static_cast<uint8_t>(crc >> (8 * i));
  buf_.append(reinterpret_cast<char*>(b), 8);
  return Flush();
}

void WriteValue(RdbOutput& out, const Entry& e, std::optional<std::string_view> key) {
  if (e.kind == ValueKind::kString) {
    out.Byte(kTypeString);
    if (key) out.String(*key);
    out.String(e.string_value());
    return;
  }
  const ferrite_type_desc& d = e.mod_type()->desc;
  // A per-value type byte: a hash with field TTLs is Redis 7.4's HASH_METADATA (24),
  // one without stays HASH (4) so older Redis versions still load the file.
  out.Byte(static_cast<uint8_t>(d.rdb_type_of ? d.rdb_type_of(e.mod.ptr) : d.rdb_type));
  if (key) out.String(*key);
  RdbValueWriter io(out);
  d.save(&io, e.mod.ptr);
}

namespace {

void Aux(RdbOutput& out, std::string_view k, std::string_view v) {
  out.Byte(kOpAux);
  out.String(k);
  out.String(v);
}

// Records what a type's save callback writes, so the host can rewrite the value's form.
class CapturingIo : public ferrite_io {
 public:
  struct Token {
    enum Kind { kLen, kString, kDouble } kind;
    uint64_t len = 0;
    std::string str;
    double dbl = 0;
  };
  void WriteLen(uint64_t v) override { tokens.push_back({Token::kLen, v, {}, 0}); }
  void WriteString(const char* s, size_t n) override {
    tokens.push_back({Token::kString, 0, std::string(s, n), 0});
  }
  void WriteDouble(double v) override { tokens.push_back({Token::kDouble, 0, {}, v}); }
  bool ReadLen(uint64_t*) override { return false; }
  bool ReadString(std::string*) override { return false; }
  bool ReadDouble(double*) override { return false; }
  std::vector<Token> tokens;
};

// A type-24 hash (<min expire as 8 bytes> <count> then <ttl> <field> <value> per field,
// ttl 0 or expire - min + 1) as a type-4 hash of the fields live at now_ms. Returns
// false when no field is live (the key is left out: Redis loads no empty hash).
bool WritePlainHash(RdbOutput& out, const Entry& e, int64_t now_ms) {
  CapturingIo io;
  e.mod_type()->desc.save(&io, e.mod.ptr);
  const auto& t = io.tokens;
  using T = CapturingIo::Token;
  if (t.size() < 2 || t[0].kind != T::kDouble || t[1].kind != T::kLen ||
      t.size() != 2 + 3 * t[1].len)
    return false;  // not the form this rewrite knows: leave the key out rather than guess
  int64_t min;
  memcpy(&min, &t[0].dbl, sizeof min);
  std::vector<size_t> live;  // token index of each live field
  for (size_t i = 2; i + 2 < t.size(); i += 3) {
    uint64_t ttl = t[i].len;
    if (ttl != 0 && min + static_cast<int64_t>(ttl) - 1 <= now_ms) continue;
    live.push_back(i + 1);
  }
  if (live.empty()) return false;
  out.Byte(kTypeHash);
  out.String(e.key());
  out.Len(live.size());
  for (size_t i : live) {
    out.String(t[i].str);
    out.String(t[i + 1].str);
  }
  return true;
}

void WriteEntry(RdbOutput& out, Entry* e, int64_t expire_ms, const RdbSaveOptions& opt) {
  const bool plain_hash = !opt.field_ttls && e->kind == ValueKind::kModule &&
                          e->mod_type()->desc.rdb_type_of &&
                          e->mod_type()->desc.rdb_type_of(e->mod.ptr) == kTypeHashMetadata;
  if (plain_hash) {
    // The expire opcode goes first: build the value aside and keep it only if it has a
    // live field.
    RdbOutput value(-1, true);
    if (!WritePlainHash(value, *e, opt.now_ms)) return;
    if (expire_ms >= 0) {
      out.Byte(kOpExpireMs);
      out.Le64(static_cast<uint64_t>(expire_ms));
    }
    out.Put(value.memory().data(), value.memory().size());
  } else {
    if (expire_ms >= 0) {
      out.Byte(kOpExpireMs);
      out.Le64(static_cast<uint64_t>(expire_ms));
    }
    WriteValue(out, *e, e->key());
  }
  if (e->flags() != 0) Aux(out, kAuxMcFlags, std::to_string(e->flags()));
}

}  // namespace

bool WriteRdb(Host& h, RdbOutput& out, const RdbSaveOptions& opt) {
  out.Put("REDIS0010", 9);
  Aux(out, "redis-ver", kRedisCompatVersion);
  Aux(out, "redis-bits", "64");
  Aux(out, "ctime", std::to_string(opt.now_ms / 1000));
  Aux(out, "used-mem", std::to_string(h.keyspace().used_bytes.load()));
  Aux(out, "aof-base", opt.aof_base ? "1" : "0");
  Keyspace& ks = h.keyspace();
  Aux(out, kAuxCasEpoch, std::to_string(ks.cas_epoch()));
  for (auto& code : opt.libraries) {
    out.Byte(kOpFunction2);
    out.String(code);
  }
  for (int db = 0; opt.keys && db < ks.num_dbs(); db++) {
    uint64_t keys = 0, expires = 0;
    for (int s = 0; s < ks.num_shards(); s++) {
      keys += ks.shard(s).dbs[db].size();
      expires += ks.shard(s).dbs[db].volatile_size();
    }
    if (keys == 0) continue;
    out.Byte(kOpSelectDb);
    out.Len(static_cast<uint64_t>(db));
    out.Byte(kOpResizeDb);
    out.Len(keys);
    out.Len(expires);
    for (int s = 0; s < ks.num_shards() && !out.failed(); s++)
      ks.shard(s).dbs[db].ForEach([&, &t = ks.shard(s).dbs[db]](Entry* e) {
        int64_t expire_ms = t.ExpireOf(e);
        if (expire_ms >= 0 && expire_ms <= opt.now_ms) return;
        if (e->kind == ValueKind::kModule && !e->mod_type()->desc.save) return;
        WriteEntry(out, e, expire_ms, opt);
        if (opt.key_delay_us > 0) usleep(static_cast<useconds_t>(opt.key_delay_us));
      });
  }
  return out.Finish(opt.checksum) && !out.failed();
}

}  // namespace ferrite::host::persist
