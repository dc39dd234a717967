// Cmd* handlers of the strings module: each parses its arguments, runs the Op* layer
// (string_ops.h) against the keyspace and replies. The table in strings_module.cc
// wraps each one in sdk::Guarded.
#pragma once

#include <optional>
#include <string_view>

#include "ferrite/module.hpp"

namespace ferrite::mod::strings {

using sdk::Ctx;

// Reads a key that must hold a string: nullopt for a missing key; false after a
// WRONGTYPE reply (string_edit_commands.cc).
bool ReadStringOrReply(const Ctx& ctx, const sdk::Key& k, std::optional<std::string_view>* cur);

#define FERRITE_STRINGS_HANDLER(name) int name(Ctx ctx, int argc, const ferrite_slice* argv)

// string_commands.cc: reads and whole-value writes
FERRITE_STRINGS_HANDLER(CmdGet);
FERRITE_STRINGS_HANDLER(CmdSet);
FERRITE_STRINGS_HANDLER(CmdSetNx);
FERRITE_STRINGS_HANDLER(CmdSetEx);
FERRITE_STRINGS_HANDLER(CmdPSetEx);
FERRITE_STRINGS_HANDLER(CmdGetSet);
FERRITE_STRINGS_HANDLER(CmdGetDel);
FERRITE_STRINGS_HANDLER(CmdGetEx);
FERRITE_STRINGS_HANDLER(CmdMGet);
FERRITE_STRINGS_HANDLER(CmdMSet);
FERRITE_STRINGS_HANDLER(CmdMSetNx);
FERRITE_STRINGS_HANDLER(CmdMSetEx);
// MSETEX's keys: argv[2], argv[4], ... numkeys of them.
int GetKeysMSetEx(int argc, const ferrite_slice* argv, int* out, int cap);

// string_cas_commands.cc: Redis 8.4's compare-and-set companions
FERRITE_STRINGS_HANDLER(CmdDigest);
FERRITE_STRINGS_HANDLER(CmdDelEx);

// string_edit_commands.cc: in-place edits, counters, ranges, LCS
FERRITE_STRINGS_HANDLER(CmdAppend);
FERRITE_STRINGS_HANDLER(CmdStrLen);
FERRITE_STRINGS_HANDLER(CmdIncr);
FERRITE_STRINGS_HANDLER(CmdDecr);
FERRITE_STRINGS_HANDLER(CmdIncrBy);
FERRITE_STRINGS_HANDLER(CmdDecrBy);
FERRITE_STRINGS_HANDLER(CmdIncrByFloat);
FERRITE_STRINGS_HANDLER(CmdGetRange);
FERRITE_STRINGS_HANDLER(CmdSetRange);
FERRITE_STRINGS_HANDLER(CmdLcs);

// bitmap_commands.cc: bitmaps (strings addressed by bit)
FERRITE_STRINGS_HANDLER(CmdSetBit);
FERRITE_STRINGS_HANDLER(CmdGetBit);
FERRITE_STRINGS_HANDLER(CmdBitCount);
FERRITE_STRINGS_HANDLER(CmdBitPos);
FERRITE_STRINGS_HANDLER(CmdBitOp);
FERRITE_STRINGS_HANDLER(CmdBitField);
FERRITE_STRINGS_HANDLER(CmdBitFieldRo);

#undef FERRITE_STRINGS_HANDLER

}  // namespace ferrite::mod::strings
