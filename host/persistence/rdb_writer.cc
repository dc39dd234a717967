#include "host/persistence/rdb_writer.h"

#include <unistd.h>

#include <cerrno>

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

void WriteEntry(RdbOutput& out, Entry* e, int64_t expire_ms) {
  if (expire_ms >= 0) {
    out.Byte(kOpExpireMs);
    out.Le64(static_cast<uint64_t>(expire_ms));
  }
  WriteValue(out, *e, e->key());
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
  for (int db = 0; db < ks.num_dbs(); db++) {
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
        WriteEntry(out, e, expire_ms);
        if (opt.key_delay_us > 0) usleep(static_cast<useconds_t>(opt.key_delay_us));
      });
  }
  return out.Finish(opt.checksum) && !out.failed();
}

}  // namespace ferrite::host::persist
