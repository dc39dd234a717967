// SWAPDB and LOLWUT: host commands that need the keyspace's tables (SWAPDB) or the
// server's version (LOLWUT).
#include <strings.h>

#include <string>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/server_commands.h"

namespace ferrite::host {

namespace {

std::string_view SV(const ferrite_slice& s) { return {s.ptr, s.len}; }

int Error(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  SendError(c, code, msg);
  return FERRITE_OK;
}

// getIntFromObjectOrReply with a custom message: a long long that fits an int.
bool ParseDbIndex(std::string_view s, int* out) {
  int64_t v = 0;
  if (!sdk::ParseInt64(s, &v) || v < INT32_MIN || v > INT32_MAX) return false;
  *out = static_cast<int>(v);
  return true;
}

// SWAPDB index1 index2 (every shard is held: FERRITE_CMD_ALL_KEYS). As Redis' WATCH
// touches every watched key that exists in either db, each entry of both dbs gets a
// new version: a WATCH on such a key fails its EXEC, one on a key missing from both
// does not. Clients blocked on keys of either db re-run their command: what they wait
// for may be there now.
int CmdSwapDb(ferrite_ctx* c, int, const ferrite_slice* argv) {
  int a = 0, b = 0;
  if (!ParseDbIndex(SV(argv[1]), &a)) return Error(c, "ERR invalid first DB index");
  if (!ParseDbIndex(SV(argv[2]), &b)) return Error(c, "ERR invalid second DB index");
  Keyspace& ks = c->host->keyspace();
  if (a < 0 || a >= ks.num_dbs() || b < 0 || b >= ks.num_dbs())
    return Error(c, "ERR DB index is out of range");
  if (a != b) {
    for (int si = 0; si < ks.num_shards(); si++) {
      Shard& sh = ks.shard(si);
      for (int db : {a, b})
        sh.dbs[db].ForEach([&](Entry* e) { e->version = ks.NextVersion(si); });
      sh.dbs[a].Swap(sh.dbs[b]);
    }
    c->host->SignalDbFlushed(a);
    c->host->SignalDbFlushed(b);
    if (c->host->tracking().Active()) c->host->tracking().InvalidateAll();
  }
  c->dirty = true;  // propagated as sent, even for a == b (Redis counts it dirty too)
  c->sink->simple(c->st, "OK", 2);
  return FERRITE_OK;
}

// LOLWUT [VERSION v]: Redis 7.0 draws art only for versions 5 and 6; for its own
// version (the default) it prints just the version line, as Ferrite does for every
// version, as a verbatim "txt" reply.
int CmdLolwut(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  if (argc >= 3 && strncasecmp(argv[1].ptr, "version", argv[1].len) == 0 && argv[1].len == 7) {
    int64_t v = 0;
    if (!sdk::ParseInt64(SV(argv[2]), &v)) return Error(c, "", FERRITE_E_NOT_INTEGER);
  }
  std::string text = std::string("Redis ver. ") + kRedisCompatVersion + "\n";
  c->sink->verbatim(c->st, "txt", text.data(), text.size());
  return FERRITE_OK;
}

}  // namespace

void RegisterSwapDbCommands(Host* h) {
  using namespace sdk::flags;
  // clang-format off
  AddHostCommand(h, "SWAPDB",  3, WRITE | FAST | ALL_KEYS, 0, 0, 0, CmdSwapDb, "server", "Swaps two Redis databases");
  AddHostCommand(h, "LOLWUT", -1, READONLY | FAST,         0, 0, 0, CmdLolwut, "server", "Display some computer art and the Redis version");
  // clang-format on
}

}  // namespace ferrite::host
