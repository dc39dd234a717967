// Handlers of the generic keyspace commands (DEL, EXPIRE, SCAN, RENAME, OBJECT, ...).
// Each Cmd* parses its arguments, calls an Op* that touches the keyspace through the
// host API, and replies. The table that registers them is in keys_module.cc.
#pragma once

#include "ferrite/module.hpp"

namespace ferrite::mod::keys {

using sdk::Ctx;

// existence, deletion, renaming, copying, introspection
int CmdDel(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdUnlink(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdExists(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdTouch(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdType(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdRename(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdRenameNx(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdCopy(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdMove(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdObject(Ctx ctx, int argc, const ferrite_slice* argv);

// expiry
int CmdExpire(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdPExpire(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdExpireAt(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdPExpireAt(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdTtl(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdPTtl(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdExpireTime(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdPExpireTime(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdPersist(Ctx ctx, int argc, const ferrite_slice* argv);

// commands over a whole db (flagged ALL_KEYS)
int CmdKeys(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdScan(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdRandomKey(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdDbSize(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdFlushDb(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdFlushAll(Ctx ctx, int argc, const ferrite_slice* argv);

// OBJECT's key is argv[2] when there is one (OBJECT HELP has none).
int ObjectGetKeys(int argc, const ferrite_slice* argv, int* out, int cap);

// Emits a keyspace event in `db`, which may differ from the client's (MOVE's
// move_to, COPY ... DB's copy_to).
void NotifyInDb(const Ctx& ctx, int db, const char* event, std::string_view key);

}  // namespace ferrite::mod::keys
