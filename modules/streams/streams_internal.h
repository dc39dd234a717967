// Shared between the streams module's files: plugin state, key helpers, reply helpers
// and the handlers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ferrite/module.hpp"
#include "stream_value.h"

namespace ferrite::mod::streams {

using sdk::Ctx;
using sdk::Key;

// One per loaded plugin handle (the same .so may be loaded into several hosts).
struct State {
  const ferrite_type* type = nullptr;
  int64_t node_max_bytes = 4096;   // stream-node-max-bytes
  int64_t node_max_entries = 100;  // stream-node-max-entries
  NodeLimits Limits() const { return {node_max_bytes, node_max_entries}; }
};

inline State& St(const Ctx& ctx) { return *ctx.State<State>(); }

// An opened key that holds a stream (or nothing).
struct StreamKey {
  Key key;
  Stream* s = nullptr;  // null when the key is missing
};

enum class Open { kOk, kWrongType };

// Opens `name`; replies WRONGTYPE (and returns kWrongType) if it holds another type.
Open OpenStream(const Ctx& ctx, std::string_view name, int mode, StreamKey* out);
// The stream at `sk`, created empty if the key is missing.
Stream* CreateStream(const Ctx& ctx, StreamKey* sk);

// Replies ERR <Invalid stream ID ...> and returns false when `s` is not an ID.
bool ParseIDOrReply(const Ctx& ctx, std::string_view s, StreamID* id, uint64_t missing_seq,
                    IdParse mode, bool* seq_given = nullptr);
// A range bound with an optional "(" (exclusive) prefix (streamParseIntervalIDOrReply).
bool ParseIntervalIDOrReply(const Ctx& ctx, std::string_view s, StreamID* id, bool* exclude,
                            uint64_t missing_seq);
// Redis' getLongLongFromObjectOrReply: false after replying `msg` (or the default).
bool ParseLongLongOrReply(const Ctx& ctx, std::string_view s, int64_t* v,
                          const char* msg = nullptr);

void ReplyID(const Ctx& ctx, const StreamID& id);
// [id, [field, value, ...]]
void ReplyEntry(const Ctx& ctx, const EntryRef& e);
// Every live entry in [start, end] (at most count, 0 = all) as an array of entries.
size_t ReplyRange(const Ctx& ctx, const Stream& s, const StreamID& start, const StreamID& end,
                  size_t count, bool rev);
// Entries one at a time, without the array header; false if the entry is gone.
bool ReplyOneEntry(const Ctx& ctx, const Stream& s, const StreamID& id);

// "ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <CMD> HELP."
int ReplySubcommandError(const Ctx& ctx, std::string_view cmd, std::string_view sub);
int ReplyHelp(const Ctx& ctx, std::string_view cmd, const std::vector<std::string>& lines);

// XCLAIM-form propagation of one PEL entry (streamPropagateXCLAIM) and XGROUP SETID
// (streamPropagateGroupID) / CREATECONSUMER.
void PropagateClaim(const Ctx& ctx, std::string_view key, std::string_view group,
                    const Group& g, const StreamID& id, const Nack& nack);
void PropagateGroupId(const Ctx& ctx, std::string_view key, std::string_view group,
                      const Group& g);
void PropagateConsumerCreation(const Ctx& ctx, std::string_view key, std::string_view group,
                               std::string_view consumer);

// Handlers (stream_commands.cc)
int CmdXAdd(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXLen(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXRange(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXRevRange(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXDel(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXTrim(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXSetId(Ctx ctx, int argc, const ferrite_slice* argv);




// Beyond 7.0: Redis 8.2's reference-aware deletes (stream_delex.cc)
int CmdXDelEx(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXAckDel(Ctx ctx, int argc, const ferrite_slice* argv);

// XREAD / XREADGROUP and blocking (stream_read.cc)
int CmdXRead(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXReadGroup(Ctx ctx, int argc, const ferrite_slice* argv);
int XReadGetKeys(int argc, const ferrite_slice* argv, int* out, int cap);

// Consumer groups (stream_groups.cc)
int CmdXGroup(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXAck(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXPending(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXClaim(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdXAutoClaim(Ctx ctx, int argc, const ferrite_slice* argv);
int XGroupGetKeys(int argc, const ferrite_slice* argv, int* out, int cap);

// XINFO (stream_info.cc)
int CmdXInfo(Ctx ctx, int argc, const ferrite_slice* argv);
int XInfoGetKeys(int argc, const ferrite_slice* argv, int* out, int cap);

// Type callbacks (stream_persist.cc)
ferrite_type_desc TypeDesc();

}  // namespace ferrite::mod::streams
