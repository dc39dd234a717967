// The generic keyspace module (keys.so): DEL, EXPIRE & co, SCAN, RENAME, COPY, MOVE,
// OBJECT, FLUSHDB ... It keeps no state of its own: everything it reads or changes is
// host-owned key metadata or whole-db operations of the host API.
#include "key_commands.h"

namespace ferrite::mod::keys {
namespace {

using namespace sdk::flags;
using sdk::Guarded;

int Load(ferrite_plugin* p);
void Unload(ferrite_plugin*) {}

// Key specs: RENAME/RENAMENX/COPY lock source and target (1..2). MOVE and COPY ... DB
// open the key in another db under the same lock: shards hold every db, keyed by hash.
// OBJECT's key spec is a callback because OBJECT HELP has no key.
// clang-format off
constexpr sdk::SubcommandSpec kObjectSubs[] = {  // Redis 7.0's arity and flags
  {"ENCODING", 3, READONLY},
  {"FREQ",     3, READONLY},
  {"IDLETIME", 3, READONLY},
  {"REFCOUNT", 3, READONLY},
  {"HELP",     2, LOADING | STALE},
};

const sdk::CommandSpec kCommands[] = {
  {"DEL",         -2, WRITE,                      1, -1, 1, Guarded<CmdDel>},
  {"UNLINK",      -2, WRITE | FAST,               1, -1, 1, Guarded<CmdUnlink>},
  {"EXISTS",      -2, READONLY | FAST,            1, -1, 1, Guarded<CmdExists>},
  {"TOUCH",       -2, READONLY | FAST,            1, -1, 1, Guarded<CmdTouch>},
  {"TYPE",         2, READONLY | FAST,            1,  1, 1, Guarded<CmdType>},
  {"EXPIRE",      -3, WRITE | FAST,               1,  1, 1, Guarded<CmdExpire>},
  {"PEXPIRE",     -3, WRITE | FAST,               1,  1, 1, Guarded<CmdPExpire>},
  {"EXPIREAT",    -3, WRITE | FAST,               1,  1, 1, Guarded<CmdExpireAt>},
  {"PEXPIREAT",   -3, WRITE | FAST,               1,  1, 1, Guarded<CmdPExpireAt>},
  {"PERSIST",      2, WRITE | FAST,               1,  1, 1, Guarded<CmdPersist>},
  {"TTL",          2, READONLY | FAST,            1,  1, 1, Guarded<CmdTtl>},
  {"PTTL",         2, READONLY | FAST,            1,  1, 1, Guarded<CmdPTtl>},
  {"EXPIRETIME",   2, READONLY | FAST,            1,  1, 1, Guarded<CmdExpireTime>},
  {"PEXPIRETIME",  2, READONLY | FAST,            1,  1, 1, Guarded<CmdPExpireTime>},
  {"RENAME",       3, WRITE,                      1,  2, 1, Guarded<CmdRename>},
  {"RENAMENX",     3, WRITE | FAST,               1,  2, 1, Guarded<CmdRenameNx>},
  {"COPY",        -3, WRITE | DENYOOM,            1,  2, 1, Guarded<CmdCopy>},
  {"MOVE",         3, WRITE | FAST,               1,  1, 1, Guarded<CmdMove>},
  {"OBJECT",      -2, READONLY,                   2,  2, 1, Guarded<CmdObject>, "generic", ObjectGetKeys, "", sdk::Subcommands(kObjectSubs)},
  {"KEYS",         2, READONLY | ALL_KEYS,        0,  0, 0, Guarded<CmdKeys>},
  {"SCAN",        -2, READONLY | ALL_KEYS,        0,  0, 0, Guarded<CmdScan>},
  {"RANDOMKEY",    1, READONLY | ALL_KEYS,        0,  0, 0, Guarded<CmdRandomKey>},
  {"DBSIZE",       1, READONLY | FAST | ALL_KEYS, 0,  0, 0, Guarded<CmdDbSize>},
  {"FLUSHDB",     -1, WRITE | ALL_KEYS,           0,  0, 0, Guarded<CmdFlushDb>},
  {"FLUSHALL",    -1, WRITE | ALL_KEYS,           0,  0, 0, Guarded<CmdFlushAll>},
};
// clang-format on

int Load(ferrite_plugin* p) { return sdk::RegisterAll(p, kCommands); }

}  // namespace
}  // namespace ferrite::mod::keys

FERRITE_DEFINE_PLUGIN("keys", 1, ferrite::mod::keys::Load, ferrite::mod::keys::Unload)
