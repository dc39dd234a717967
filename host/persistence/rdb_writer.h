// Writes the keyspace as a Redis RDB version 10 file, the way redis-server 7.0 does:
// AUX fields, a FUNCTION2 record per function library, SELECTDB + RESIZEDB per
// non-empty db, EXPIRETIME_MS, int-encoded and LZF-compressed strings, module values in
// the plain form their save callback writes, and the CRC-64 trailer. Memcached flags follow their key as an AUX field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/io.h"

namespace ferrite::host {
class Host;
struct Entry;
}

namespace ferrite::host::persist {

// Buffered output with a running CRC-64. Writes to `fd`, or keeps everything in
// memory when fd < 0 (tests, DEBUG RELOAD). No locks, no logging: safe in a fork child.
class RdbOutput {
 public:
  explicit RdbOutput(int fd = -1, bool compress = true);
  void Put(const void* p, size_t n);
  void Byte(uint8_t b) { Put(&b, 1); }
  void Len(uint64_t v);
  // A string as Redis' rdbSaveRawString: int-encoded when it is a canonical integer
  // that fits 32 bits, LZF when longer than 20 bytes and compression gains >= 4 bytes.
  void String(std::string_view s);
  void Double(double v);  // 8 bytes, little endian IEEE 754
  void Le64(uint64_t v);
  // Writes EOF and the checksum (0 when !checksum), then flushes.
  bool Finish(bool checksum);
  bool Flush();
  bool failed() const { return err_ != 0; }
  int error() const { return err_; }
  uint64_t written() const { return written_ + buf_.size(); }
  const std::string& memory() const { return buf_; }

 private:
  int fd_;
  bool compress_;
  std::string buf_;
  std::string lzf_;
  uint64_t crc_ = 0;
  uint64_t written_ = 0;
  int err_ = 0;
};

// The ferrite_io handed to a type's save callback.
class RdbValueWriter : public ferrite_io {
 public:
  explicit RdbValueWriter(RdbOutput& out) : out_(out) {}
  void WriteLen(uint64_t v) override { out_.Len(v); }
  void WriteString(const char* s, size_t n) override { out_.String({s, n}); }
  void WriteDouble(double v) override { out_.Double(v); }
  bool ReadLen(uint64_t*) override { return false; }
  bool ReadString(std::string*) override { return false; }
  bool ReadDouble(double*) override { return false; }

 private:
  RdbOutput& out_;
};

// rdbSaveObjectType + [key] + rdbSaveObject: the value's RDB type byte, the key when
// given (a file record; DUMP payloads have none), and the value in the form its type
// saves. The type must have a save callback.
void WriteValue(RdbOutput& out, const Entry& e, std::optional<std::string_view> key);

struct RdbSaveOptions {
  bool checksum = true;
  bool aof_base = false;
  int64_t now_ms = 0;  // keys that expired before this are left out
  // false: a hash with field TTLs (Redis 7.4's RDB type 24, which redis-server < 7.4
  // cannot load: it exits on the unknown type) is written as a plain hash (type 4) of
  // its fields still live at now_ms, without their TTLs. For a replica that did not
  // announce `capa ferrite-hfe`: its primary sends HDEL when each field expires.
  bool field_ttls = true;
  int64_t key_delay_us = 0;  // rdb-key-save-delay: a sleep per key written (tests only)
  // The function libraries' code (DumpLibraries, taken at the fork point), written
  // before the dbs. Left empty for a replica that filters functions out.
  std::vector<std::string> libraries;
  bool keys = true;  // false: no db at all (REPLCONF rdb-filter-only)
};

// Serializes every db. The caller makes the keyspace stable: it holds every shard
// lock, or it is a fork child (whose copy nobody else touches). Returns false and sets
// errno-style `out.error()` on a write failure.
bool WriteRdb(Host& h, RdbOutput& out, const RdbSaveOptions& opt);

}  // namespace ferrite::host::persist
