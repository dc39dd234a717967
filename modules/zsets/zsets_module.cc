// The zsets module: the "zset" value type and its commands.
#include <map>
#include <memory>
#include <mutex>

#include "zsets_internal.h"

namespace ferrite::mod::zsets {

using namespace sdk::flags;
using sdk::CommandSpec;
using sdk::Guarded;

namespace {
// Unload gets no handle to the state, so each load's state is owned here until then
// (test harnesses load the .so once per host, several in one process).
std::mutex g_mu;
std::map<ferrite_plugin*, std::unique_ptr<ZSetsState>> g_states;

size_t LimitOr(const char* name, size_t def) {
  int64_t v = sdk::Api().config_int(name);
  return v < 0 ? def : static_cast<size_t>(v);
}
}  // namespace

ZLimits LoadLimits() {
  ZLimits d;
  return {LimitOr("zset-max-listpack-entries", d.max_entries),
          LimitOr("zset-max-listpack-value", d.max_value)};
}

// clang-format off
const CommandSpec kCommands[] = {
  {"ZADD",             -4, WRITE | DENYOOM | FAST,              1,  1, 1, Guarded<CmdZAdd>,             "sorted-set"},
  {"ZINCRBY",           4, WRITE | DENYOOM | FAST,              1,  1, 1, Guarded<CmdZIncrBy>,          "sorted-set"},
  {"ZREM",             -3, WRITE | FAST,                        1,  1, 1, Guarded<CmdZRem>,             "sorted-set"},
  {"ZCARD",             2, READONLY | FAST,                     1,  1, 1, Guarded<CmdZCard>,            "sorted-set"},
  {"ZSCORE",            3, READONLY | FAST,                     1,  1, 1, Guarded<CmdZScore>,           "sorted-set"},
  {"ZMSCORE",          -3, READONLY | FAST,                     1,  1, 1, Guarded<CmdZMScore>,          "sorted-set"},
  {"ZRANK",            -3, READONLY | FAST,                     1,  1, 1, Guarded<CmdZRank>,            "sorted-set"},
  {"ZREVRANK",         -3, READONLY | FAST,                     1,  1, 1, Guarded<CmdZRevRank>,         "sorted-set"},
  {"ZCOUNT",            4, READONLY | FAST,                     1,  1, 1, Guarded<CmdZCount>,           "sorted-set"},
  {"ZLEXCOUNT",         4, READONLY | FAST,                     1,  1, 1, Guarded<CmdZLexCount>,        "sorted-set"},
  {"ZSCAN",            -3, READONLY,                            1,  1, 1, Guarded<CmdZScan>,            "sorted-set"},
  {"ZRANDMEMBER",      -2, READONLY,                            1,  1, 1, Guarded<CmdZRandMember>,      "sorted-set"},
  {"ZRANGE",           -4, READONLY,                            1,  1, 1, Guarded<CmdZRange>,           "sorted-set"},
  {"ZRANGESTORE",      -5, WRITE | DENYOOM,                     1,  2, 1, Guarded<CmdZRangeStore>,      "sorted-set"},
  {"ZREVRANGE",        -4, READONLY,                            1,  1, 1, Guarded<CmdZRevRange>,        "sorted-set"},
  {"ZRANGEBYSCORE",    -4, READONLY,                            1,  1, 1, Guarded<CmdZRangeByScore>,    "sorted-set"},
  {"ZREVRANGEBYSCORE", -4, READONLY,                            1,  1, 1, Guarded<CmdZRevRangeByScore>, "sorted-set"},
  {"ZRANGEBYLEX",      -4, READONLY,                            1,  1, 1, Guarded<CmdZRangeByLex>,      "sorted-set"},
  {"ZREVRANGEBYLEX",   -4, READONLY,                            1,  1, 1, Guarded<CmdZRevRangeByLex>,   "sorted-set"},
  {"ZREMRANGEBYRANK",   4, WRITE,                               1,  1, 1, Guarded<CmdZRemRangeByRank>,  "sorted-set"},
  {"ZREMRANGEBYSCORE",  4, WRITE,                               1,  1, 1, Guarded<CmdZRemRangeByScore>, "sorted-set"},
  {"ZREMRANGEBYLEX",    4, WRITE,                               1,  1, 1, Guarded<CmdZRemRangeByLex>,   "sorted-set"},
  {"ZPOPMIN",          -2, WRITE | FAST,                        1,  1, 1, Guarded<CmdZPopMin>,          "sorted-set"},
  {"ZPOPMAX",          -2, WRITE | FAST,                        1,  1, 1, Guarded<CmdZPopMax>,          "sorted-set"},
  {"ZMPOP",            -4, WRITE,                               0,  0, 0, Guarded<CmdZMPop>,            "sorted-set", GetKeysNumKeys},
  {"BZPOPMIN",         -3, WRITE | FAST | NOSCRIPT | BLOCKING,  1, -2, 1, Guarded<CmdBZPopMin>,         "sorted-set"},
  {"BZPOPMAX",         -3, WRITE | FAST | NOSCRIPT | BLOCKING,  1, -2, 1, Guarded<CmdBZPopMax>,         "sorted-set"},
  {"BZMPOP",           -5, WRITE | BLOCKING,                    0,  0, 0, Guarded<CmdBZMPop>,           "sorted-set", GetKeysBZMPop},
  {"ZUNION",           -3, READONLY,                            0,  0, 0, Guarded<CmdZUnion>,           "sorted-set", GetKeysNumKeys},
  {"ZINTER",           -3, READONLY,                            0,  0, 0, Guarded<CmdZInter>,           "sorted-set", GetKeysNumKeys},
  {"ZDIFF",            -3, READONLY,                            0,  0, 0, Guarded<CmdZDiff>,            "sorted-set", GetKeysNumKeys},
  {"ZINTERCARD",       -3, READONLY,                            0,  0, 0, Guarded<CmdZInterCard>,       "sorted-set", GetKeysNumKeys},
  {"ZUNIONSTORE",      -4, WRITE | DENYOOM,                     0,  0, 0, Guarded<CmdZUnionStore>,      "sorted-set", GetKeysZStore},
  {"ZINTERSTORE",      -4, WRITE | DENYOOM,                     0,  0, 0, Guarded<CmdZInterStore>,      "sorted-set", GetKeysZStore},
  {"ZDIFFSTORE",       -4, WRITE | DENYOOM,                     0,  0, 0, Guarded<CmdZDiffStore>,       "sorted-set", GetKeysZStore},
  {"GEOADD",           -5, WRITE | DENYOOM,                     1,  1, 1, Guarded<CmdGeoAdd>,           "geo"},
  {"GEODIST",          -4, READONLY,                            1,  1, 1, Guarded<CmdGeoDist>,          "geo"},
  {"GEOHASH",          -2, READONLY,                            1,  1, 1, Guarded<CmdGeoHash>,          "geo"},
  {"GEOPOS",           -2, READONLY,                            1,  1, 1, Guarded<CmdGeoPos>,           "geo"},
  {"GEORADIUS",        -6, WRITE | DENYOOM,                     1,  1, 1, Guarded<CmdGeoRadius>,        "geo", GetKeysGeoRadius},
  {"GEORADIUS_RO",     -6, READONLY,                            1,  1, 1, Guarded<CmdGeoRadiusRo>,      "geo"},
  {"GEORADIUSBYMEMBER", -5, WRITE | DENYOOM,                    1,  1, 1, Guarded<CmdGeoRadiusByMember>, "geo", GetKeysGeoRadius},
  {"GEORADIUSBYMEMBER_RO", -5, READONLY,                        1,  1, 1, Guarded<CmdGeoRadiusByMemberRo>, "geo"},
  {"GEOSEARCH",        -7, READONLY,                            1,  1, 1, Guarded<CmdGeoSearch>,        "geo"},
  {"GEOSEARCHSTORE",   -8, WRITE | DENYOOM,                     1,  2, 1, Guarded<CmdGeoSearchStore>,   "geo"},
};
// clang-format on

namespace {
int RegisterOption(ferrite_plugin* p, const char* name, int64_t def, int64_t* storage) {
  ferrite_option_desc od{};
  od.struct_size = sizeof od;
  od.name = name;
  od.default_value = def;
  od.min_value = 0;
  od.max_value = INT64_MAX;
  od.storage = storage;
  return sdk::Api().register_option(p, &od);
}

void Unload(ferrite_plugin* p) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_states.erase(p);
}

int Load(ferrite_plugin* p) {
  const auto& api = sdk::Api();
  ZSetsState* st = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto& slot = g_states[p];
    slot = std::make_unique<ZSetsState>();
    st = slot.get();
  }
  ferrite_type_desc td = ZSetTypeDesc();
  st->type = api.register_type(p, &td);
  if (!st->type ||
      RegisterOption(p, "zset-max-listpack-entries", 128, &st->max_listpack_entries) != FERRITE_OK ||
      RegisterOption(p, "zset-max-listpack-value", 64, &st->max_listpack_value) != FERRITE_OK) {
    sdk::Log(p, FERRITE_LOG_ERROR, "zsets: registering the zset type or its options failed");
    Unload(p);
    return FERRITE_ERR;
  }
  api.set_plugin_state(p, st);
  int rc = sdk::RegisterAll(p, kCommands);
  // A failed load is undone by the host without calling Unload: drop the state here.
  if (rc != FERRITE_OK) Unload(p);
  return rc;
}
}  // namespace

}  // namespace ferrite::mod::zsets

FERRITE_DEFINE_PLUGIN("zsets", 1, ferrite::mod::zsets::Load, ferrite::mod::zsets::Unload)
