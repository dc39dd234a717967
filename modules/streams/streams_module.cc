// The streams module: entry points, options, and the command table.
#include <map>
#include <memory>
#include <mutex>

#include "streams_internal.h"

namespace ferrite::mod::streams {
namespace {

using namespace sdk::flags;
using sdk::Api;
using sdk::CommandSpec;
using sdk::Guarded;

constexpr uint32_t SKIP_PROPAGATE = FERRITE_CMD_SKIP_PROPAGATE;

int RegisterOption(ferrite_plugin* p, const char* name, int64_t def, int64_t lo, int64_t hi,
                   int64_t* storage) {
  ferrite_option_desc o{};
  o.struct_size = sizeof o;
  o.name = name;
  o.default_value = def;
  o.min_value = lo;
  o.max_value = hi;
  o.storage = storage;
  return Api().register_option(p, &o);
}

// XREADGROUP, XCLAIM and XAUTOCLAIM propagate their effects (XCLAIM / XGROUP SETID /
// XGROUP CREATECONSUMER), never themselves.
// clang-format off
constexpr sdk::SubcommandSpec kXGroupSubs[] = {  // Redis 7.0's arity and flags
  {"CREATE",         -5, WRITE | DENYOOM},
  {"CREATECONSUMER",  5, WRITE | DENYOOM},
  {"DELCONSUMER",     5, WRITE},
  {"DESTROY",         4, WRITE},
  {"SETID",          -5, WRITE},
  {"HELP",            2, LOADING | STALE},
};
constexpr sdk::SubcommandSpec kXInfoSubs[] = {
  {"CONSUMERS", 4, READONLY},
  {"GROUPS",    3, READONLY},
  {"STREAM",   -3, READONLY},
  {"HELP",      2, LOADING | STALE},
};

const CommandSpec kCommands[] = {
  {"XADD",       -5, WRITE | DENYOOM | FAST,    1, 1, 1, Guarded<CmdXAdd>,       "stream"},
  {"XLEN",        2, READONLY | FAST,           1, 1, 1, Guarded<CmdXLen>,       "stream"},
  {"XRANGE",     -4, READONLY,                  1, 1, 1, Guarded<CmdXRange>,     "stream"},
  {"XREVRANGE",  -4, READONLY,                  1, 1, 1, Guarded<CmdXRevRange>,  "stream"},
  {"XDEL",       -3, WRITE | FAST,              1, 1, 1, Guarded<CmdXDel>,       "stream"},
  {"XTRIM",      -4, WRITE,                     1, 1, 1, Guarded<CmdXTrim>,      "stream"},
  {"XSETID",     -3, WRITE | DENYOOM | FAST,    1, 1, 1, Guarded<CmdXSetId>,     "stream"},
  {"XREAD",      -4, READONLY | BLOCKING,       0, 0, 0, Guarded<CmdXRead>,      "stream", XReadGetKeys},
  {"XREADGROUP", -7, WRITE | BLOCKING | SKIP_PROPAGATE, 0, 0, 0, Guarded<CmdXReadGroup>, "stream", XReadGetKeys},
  {"XGROUP",     -2, WRITE | DENYOOM,           0, 0, 0, Guarded<CmdXGroup>,     "stream", XGroupGetKeys, "", sdk::Subcommands(kXGroupSubs)},
  {"XACK",       -4, WRITE | FAST,              1, 1, 1, Guarded<CmdXAck>,       "stream"},
  {"XPENDING",   -3, READONLY,                  1, 1, 1, Guarded<CmdXPending>,   "stream"},
  {"XCLAIM",     -6, WRITE | FAST | SKIP_PROPAGATE, 1, 1, 1, Guarded<CmdXClaim>, "stream"},
  {"XAUTOCLAIM", -6, WRITE | FAST | SKIP_PROPAGATE, 1, 1, 1, Guarded<CmdXAutoClaim>, "stream"},
  {"XINFO",      -2, READONLY,                  0, 0, 0, Guarded<CmdXInfo>,      "stream", XInfoGetKeys,  "", sdk::Subcommands(kXInfoSubs)},
  {"XDELEX",     -5, WRITE | FAST,              1, 1, 1, Guarded<CmdXDelEx>,     "stream"},
  {"XACKDEL",    -6, WRITE | FAST,              1, 1, 1, Guarded<CmdXAckDel>,    "stream"},
};
// clang-format on

// Unload gets no handle to the state, so each load's State is owned here until then.
std::mutex g_states_mu;
std::map<ferrite_plugin*, std::unique_ptr<State>> g_states;

int Load(ferrite_plugin* p) {
  if (!FERRITE_HAS_API(&Api(), key_resized)) {
    sdk::Log(p, FERRITE_LOG_ERROR,
             "streams needs a host with SDK ABI 1.5 (ctx_block_woken_key, key_resized)");
    return FERRITE_ERR;
  }
  State* st = nullptr;
  {
    std::lock_guard lk(g_states_mu);
    auto& slot = g_states[p];
    slot = std::make_unique<State>();
    st = slot.get();
  }
  Api().set_plugin_state(p, st);
  ferrite_type_desc d = TypeDesc();
  st->type = Api().register_type(p, &d);
  if (!st->type) return FERRITE_ERR;
  if (RegisterOption(p, "stream-node-max-bytes", 4096, 0, INT64_MAX, &st->node_max_bytes) ||
      RegisterOption(p, "stream-node-max-entries", 100, 0, INT64_MAX, &st->node_max_entries))
    return FERRITE_ERR;
  return sdk::RegisterAll(p, kCommands);
}

void Unload(ferrite_plugin* p) {
  std::lock_guard lk(g_states_mu);
  g_states.erase(p);
}

}  // namespace
}  // namespace ferrite::mod::streams

FERRITE_DEFINE_PLUGIN("streams", 1, ferrite::mod::streams::Load, ferrite::mod::streams::Unload)
