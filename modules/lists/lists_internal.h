// Shared between the lists module's files: plugin state, key helpers and handlers.
#pragma once

#include <string_view>

#include "ferrite/module.hpp"
#include "list_value.h"

namespace ferrite::mod::lists {

using sdk::Ctx;
using sdk::Key;

// One per loaded plugin handle (the same .so may be loaded into several hosts).
struct State {
  const ferrite_type* type = nullptr;
  int64_t fill = -2;           // list-max-listpack-size
  int64_t compress_depth = 0;  // list-compress-depth (accepted; nodes are never compressed)
};

inline State& St(const Ctx& ctx) { return *ctx.State<State>(); }

// An opened key that holds a list (or nothing).
struct ListKey {
  Key key;
  ListValue* list = nullptr;  // null when the key is missing
};

enum class Open { kOk, kWrongType };

// Opens `name`; replies WRONGTYPE (and returns kWrongType) if it holds another type.
Open OpenList(const Ctx& ctx, std::string_view name, int mode, ListKey* out);
// Returns the list at `lk`, creating an empty one if the key is missing.
ListValue* CreateList(const Ctx& ctx, ListKey* lk);

// Redis' timeout argument (seconds, fractional): returns false after replying the error.
bool ParseTimeout(const Ctx& ctx, std::string_view arg, int64_t* ms);
// "LEFT" / "RIGHT"; false if neither.
bool ParseEnd(std::string_view arg, End* end);
// LMPOP / BLMPOP arguments from argv[first] (numkeys) on: `numkeys key... LEFT|RIGHT
// [COUNT n]`. Keys are argv[first + 1 .. keys_end). Returns false after replying the error.
struct MPopArgs {
  int keys_end = 0;
  End end = End::kHead;
  int64_t count = 1;
};
bool ParseMPopArgs(const Ctx& ctx, int argc, const ferrite_slice* argv, int first, MPopArgs* out);
inline std::string_view EndWord(End e) { return e == End::kHead ? "LEFT" : "RIGHT"; }
inline const char* PopEvent(End e) { return e == End::kHead ? "lpop" : "rpop"; }
inline const char* PushEvent(End e) { return e == End::kHead ? "lpush" : "rpush"; }

// Shared bodies used by both the plain and the blocking forms.
// Pops one element from src and pushes it to dst; src must be a non-empty list.
// Replies with the element. Returns FERRITE_OK, or replies WRONGTYPE for dst.
int MoveOne(const Ctx& ctx, ListKey* src, std::string_view dst_name, End from, End to);
// Pops up to `count` elements from the list at lk and replies [key, [elements]].
void PopManyReply(const Ctx& ctx, ListKey* lk, End end, int64_t count);

// Handlers (list_commands.cc)
int CmdPackedThreshold(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLPush(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdRPush(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLPushX(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdRPushX(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLPop(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdRPop(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLLen(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLRange(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLIndex(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLSet(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLInsert(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLRem(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLTrim(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLPos(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdRPopLPush(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLMove(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdLMPop(Ctx ctx, int argc, const ferrite_slice* argv);

// SORT / SORT_RO (list_sort.cc)
int CmdSort(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSortRo(Ctx ctx, int argc, const ferrite_slice* argv);
int SortGetKeys(int argc, const ferrite_slice* argv, int* out, int cap);

// Blocking handlers (list_blocking.cc)
int CmdBLPop(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdBRPop(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdBRPopLPush(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdBLMove(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdBLMPop(Ctx ctx, int argc, const ferrite_slice* argv);
int LMPopGetKeys(int argc, const ferrite_slice* argv, int* out, int cap);
int BLMPopGetKeys(int argc, const ferrite_slice* argv, int* out, int cap);

// Type callbacks (list_persist.cc)
ferrite_type_desc TypeDesc();

}  // namespace ferrite::mod::lists
