// RDB constants (redis/redis src/rdb.h, version 10 as written by Redis 7.0, plus what
// Redis 7.4's version 12 added for hash field TTLs) and the primitive encodings shared by
// the writer and the reader.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ferrite::host::persist {

inline constexpr int kRdbVersion = 10;
// Versions we load: up to Redis 7.4 (12). Newer files may hold opcodes we do not know.
inline constexpr int kRdbMinLoadVersion = 1, kRdbMaxLoadVersion = 12;

enum RdbType : int {
  kTypeString = 0, kTypeList = 1, kTypeSet = 2, kTypeZset = 3, kTypeHash = 4,
  kTypeZset2 = 5, kTypeModule = 6, kTypeModule2 = 7,
  kTypeHashZipmap = 9, kTypeListZiplist = 10, kTypeSetIntset = 11, kTypeZsetZiplist = 12,
  kTypeHashZiplist = 13, kTypeListQuicklist = 14, kTypeStreamListpacks = 15,
  kTypeHashListpack = 16, kTypeZsetListpack = 17, kTypeListQuicklist2 = 18,
  kTypeStreamListpacks2 = 19, kTypeSetListpack = 20, kTypeStreamListpacks3 = 21,
  // Redis 7.4 GA, hashes with field TTLs (22 and 23 were 7.4 release candidates' forms).
  kTypeHashMetadata = 24, kTypeHashListpackEx = 25,
};

// Redis' EB_EXPIRE_TIME_MAX: a larger hash field expiry in a file is corruption.
inline constexpr int64_t kFieldExpireMaxMs = (int64_t{1} << 48) - 1;

enum RdbOpcode : uint8_t {
  kOpSlotInfo = 244,  // Redis 7.4 cluster mode: slot id, keys, expiring keys (skipped)
  kOpFunction2 = 245, kOpFunction = 246, kOpModuleAux = 247, kOpIdle = 248, kOpFreq = 249,
  kOpAux = 250, kOpResizeDb = 251, kOpExpireMs = 252, kOpExpireSec = 253, kOpSelectDb = 254,
  kOpEof = 255,
};

// Length encoding: the two top bits of the first byte.
inline constexpr uint8_t kLen6 = 0, kLen14 = 1, kLen32 = 0x80, kLen64 = 0x81, kLenEncVal = 3;
// Special string encodings (kLenEncVal).
inline constexpr int kEncInt8 = 0, kEncInt16 = 1, kEncInt32 = 2, kEncLzf = 3;

// Quicklist 2 node containers.
inline constexpr uint64_t kQuicklistPlain = 1, kQuicklistPacked = 2;

// The AUX field that carries a key's memcached flags: written right after the key it
// belongs to. Redis ignores AUX fields it does not know, so the file stays loadable.
inline constexpr std::string_view kAuxMcFlags = "ferrite-mcflags";

// The header AUX field with the writer's CAS epoch (Keyspace::AdoptCasEpoch): a node
// that loads the file as its primary's dataset, or at startup, versions past it.
inline constexpr std::string_view kAuxCasEpoch = "ferrite-casepoch";

// The plain RDB type that carries each family's decoded element stream (module.h).
int PlainTypeOf(int rdb_type);
const char* TypeName(int rdb_type);

// Parses a decimal integer the way Redis' string2ll does (no leading zeros, no '+',
// no spaces, fits int64). Used to int-encode strings exactly when Redis would.
bool StrictInt64(std::string_view s, int64_t* out);

}  // namespace ferrite::host::persist
