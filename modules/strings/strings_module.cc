// The strings module: Redis' string commands on the host's built-in string type, plus
// the hidden MC.* commands the memcached protocol plugins call (mc_commands.cc).
#include "strings_module.h"

#include "mc_commands.h"
#include "string_commands.h"

namespace ferrite::mod::strings {
namespace {

using namespace sdk::flags;
using sdk::Guarded;

// Arity, flags and key specs are Redis 7.0's (COMMAND INFO); MSETEX, DIGEST and DELEX
// are Redis 8.4's.
// clang-format off
constexpr sdk::CommandSpec kCommands[] = {
  {"GET",          2, READONLY | FAST,          1,  1, 1, Guarded<CmdGet>,         "string"},
  {"SET",         -3, WRITE | DENYOOM,          1,  1, 1, Guarded<CmdSet>,         "string"},
  {"SETNX",        3, WRITE | DENYOOM | FAST,   1,  1, 1, Guarded<CmdSetNx>,       "string"},
  {"SETEX",        4, WRITE | DENYOOM,          1,  1, 1, Guarded<CmdSetEx>,       "string"},
  {"PSETEX",       4, WRITE | DENYOOM,          1,  1, 1, Guarded<CmdPSetEx>,      "string"},
  {"GETSET",       3, WRITE | DENYOOM | FAST,   1,  1, 1, Guarded<CmdGetSet>,      "string"},
  {"GETDEL",       2, WRITE | FAST,             1,  1, 1, Guarded<CmdGetDel>,      "string"},
  {"GETEX",       -2, WRITE | FAST,             1,  1, 1, Guarded<CmdGetEx>,       "string"},
  {"MGET",        -2, READONLY | FAST,          1, -1, 1, Guarded<CmdMGet>,        "string"},
  {"MSET",        -3, WRITE | DENYOOM,          1, -1, 2, Guarded<CmdMSet>,        "string"},
  {"MSETNX",      -3, WRITE | DENYOOM,          1, -1, 2, Guarded<CmdMSetNx>,      "string"},
  {"MSETEX",      -4, WRITE | DENYOOM,          0,  0, 0, Guarded<CmdMSetEx>,      "string", GetKeysMSetEx,
   "Atomically sets multiple string keys with a shared expiration in a single operation."},
  {"DIGEST",       2, READONLY | FAST,          1,  1, 1, Guarded<CmdDigest>,      "string", nullptr,
   "Returns the hash digest of a string value as a hexadecimal string."},
  {"DELEX",       -2, WRITE | FAST,             1,  1, 1, Guarded<CmdDelEx>,       "string", nullptr,
   "Conditionally removes the specified key based on value or digest comparison."},
  {"APPEND",       3, WRITE | DENYOOM | FAST,   1,  1, 1, Guarded<CmdAppend>,      "string"},
  {"STRLEN",       2, READONLY | FAST,          1,  1, 1, Guarded<CmdStrLen>,      "string"},
  {"INCR",         2, WRITE | DENYOOM | FAST,   1,  1, 1, Guarded<CmdIncr>,        "string"},
  {"DECR",         2, WRITE | DENYOOM | FAST,   1,  1, 1, Guarded<CmdDecr>,        "string"},
  {"INCRBY",       3, WRITE | DENYOOM | FAST,   1,  1, 1, Guarded<CmdIncrBy>,      "string"},
  {"DECRBY",       3, WRITE | DENYOOM | FAST,   1,  1, 1, Guarded<CmdDecrBy>,      "string"},
  {"INCRBYFLOAT",  3, WRITE | DENYOOM | FAST,   1,  1, 1, Guarded<CmdIncrByFloat>, "string"},
  {"GETRANGE",     4, READONLY,                 1,  1, 1, Guarded<CmdGetRange>,    "string"},
  {"SUBSTR",       4, READONLY,                 1,  1, 1, Guarded<CmdGetRange>,    "string"},
  {"SETRANGE",     4, WRITE | DENYOOM,          1,  1, 1, Guarded<CmdSetRange>,    "string"},
  {"LCS",         -3, READONLY,                 1,  2, 1, Guarded<CmdLcs>,         "string"},
  {"SETBIT",       4, WRITE | DENYOOM,          1,  1, 1, Guarded<CmdSetBit>,      "bitmap"},
  {"GETBIT",       3, READONLY | FAST,          1,  1, 1, Guarded<CmdGetBit>,      "bitmap"},
  {"BITCOUNT",    -2, READONLY,                 1,  1, 1, Guarded<CmdBitCount>,    "bitmap"},
  {"BITPOS",      -3, READONLY,                 1,  1, 1, Guarded<CmdBitPos>,      "bitmap"},
  {"BITOP",       -4, WRITE | DENYOOM,          2, -1, 1, Guarded<CmdBitOp>,       "bitmap"},
  {"BITFIELD",    -2, WRITE | DENYOOM,          1,  1, 1, Guarded<CmdBitField>,    "bitmap"},
  {"BITFIELD_RO", -2, READONLY | FAST,          1,  1, 1, Guarded<CmdBitFieldRo>,  "bitmap"},
};
// clang-format on

int Load(ferrite_plugin* p) {
  if (sdk::RegisterAll(p, kCommands) != FERRITE_OK) return FERRITE_ERR;
  return RegisterMcCommands(p);
}

void Unload(ferrite_plugin* p) { UnregisterMcState(p); }

}  // namespace

std::span<const sdk::CommandSpec> StringCommandTable() { return kCommands; }

}  // namespace ferrite::mod::strings

FERRITE_DEFINE_PLUGIN("strings", 1, ferrite::mod::strings::Load,
                      ferrite::mod::strings::Unload)
