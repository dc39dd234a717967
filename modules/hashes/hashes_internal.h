// Shared between the hashes module's files: plugin state, key helpers and handlers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ferrite/module.hpp"
#include "hash_value.h"

namespace ferrite::mod::hashes {

using sdk::Ctx;
using sdk::Key;

// One per loaded plugin handle.
struct State {
  const ferrite_type* type = nullptr;
  int64_t max_entries = 128;  // hash-max-listpack-entries
  int64_t max_value = 64;     // hash-max-listpack-value
  Limits limits() const { return Limits{max_entries, max_value}; }
};

inline State& St(const Ctx& ctx) { return *ctx.State<State>(); }

struct HashKey {
  Key key;
  HashValue* hash = nullptr;          // null when the key is missing (or fully expired)
  HashValue view;                     // backs `hash` when the host holds a packed block
  std::vector<std::string> expired;   // fields dropped by lazy expiry on open
};

enum class Open { kOk, kWrongType };

// Opens `name`, replying WRONGTYPE if it holds another type. Fields whose TTL has passed
// are deleted first (propagated as HDEL, event "hexpired"); a hash left empty is gone.
Open OpenHash(const Ctx& ctx, std::string_view name, int mode, HashKey* out);
HashValue* CreateHash(const Ctx& ctx, HashKey* hk);
// After editing hk->hash: hands the host the settled representation (a packed block
// when possible, see hash_value.h), then key_modified with `event` (class hash).
void Modified(const Ctx& ctx, HashKey* hk, const char* event);
// Write commands that are propagated verbatim call this once they changed something:
// when lazy expiry already propagated an HDEL, the command must follow it explicitly.
void PropagateSelf(const Ctx& ctx, const HashKey& hk, int argc, const ferrite_slice* argv);

// hash_commands.cc
int CmdHSet(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHMSet(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHSetNx(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHGet(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHMGet(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHDel(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHLen(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHStrLen(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHExists(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHKeys(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHVals(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHGetAll(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHIncrBy(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHIncrByFloat(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHRandField(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHScan(Ctx ctx, int argc, const ferrite_slice* argv);

// hash_expire.cc (Redis 7.4 field TTLs)
enum class FieldTtl { kEx, kPx, kExAt, kPxAt };
// An EX/PX/EXAT/PXAT argument as an absolute time in ms, with Redis' field-TTL limits
// and errors (`cmd` names the command in "invalid expire time in '<cmd>' command");
// false after replying the error. 0 and past times are accepted (they delete).
bool ParseFieldExpireTime(const Ctx& ctx, std::string_view arg, FieldTtl kind,
                          std::string_view cmd, int64_t* at_ms);
int CmdHExpire(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHPExpire(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHExpireAt(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHPExpireAt(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHTtl(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHPTtl(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHExpireTime(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHPExpireTime(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHPersist(Ctx ctx, int argc, const ferrite_slice* argv);

// hash_getex_commands.cc (Redis 8.0)
int CmdHGetDel(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHGetEx(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdHSetEx(Ctx ctx, int argc, const ferrite_slice* argv);

// hash_persist.cc
ferrite_type_desc TypeDesc();

}  // namespace ferrite::mod::hashes
