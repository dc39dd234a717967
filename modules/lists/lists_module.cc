// The lists module: entry points, options, and the command table.
#include "lists_internal.h"

#include <map>
#include <memory>
#include <mutex>

namespace ferrite::mod::lists {
namespace {

using namespace sdk::flags;
using sdk::Api;
using sdk::CommandSpec;
using sdk::Guarded;

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

// clang-format off
const CommandSpec kCommands[] = {
  {"LPUSH",      -3, WRITE | DENYOOM | FAST,                 1,  1, 1, Guarded<CmdLPush>,      "list"},
  {"RPUSH",      -3, WRITE | DENYOOM | FAST,                 1,  1, 1, Guarded<CmdRPush>,      "list"},
  {"LPUSHX",     -3, WRITE | DENYOOM | FAST,                 1,  1, 1, Guarded<CmdLPushX>,     "list"},
  {"RPUSHX",     -3, WRITE | DENYOOM | FAST,                 1,  1, 1, Guarded<CmdRPushX>,     "list"},
  {"LPOP",       -2, WRITE | FAST,                           1,  1, 1, Guarded<CmdLPop>,       "list"},
  {"RPOP",       -2, WRITE | FAST,                           1,  1, 1, Guarded<CmdRPop>,       "list"},
  {"LLEN",        2, READONLY | FAST,                        1,  1, 1, Guarded<CmdLLen>,       "list"},
  {"LRANGE",      4, READONLY,                               1,  1, 1, Guarded<CmdLRange>,     "list"},
  {"LINDEX",      3, READONLY,                               1,  1, 1, Guarded<CmdLIndex>,     "list"},
  {"LSET",        4, WRITE | DENYOOM,                        1,  1, 1, Guarded<CmdLSet>,       "list"},
  {"LINSERT",     5, WRITE | DENYOOM,                        1,  1, 1, Guarded<CmdLInsert>,    "list"},
  {"LREM",        4, WRITE,                                  1,  1, 1, Guarded<CmdLRem>,       "list"},
  {"LTRIM",       4, WRITE,                                  1,  1, 1, Guarded<CmdLTrim>,      "list"},
  {"LPOS",       -3, READONLY,                               1,  1, 1, Guarded<CmdLPos>,       "list"},
  {"RPOPLPUSH",   3, WRITE | DENYOOM,                        1,  2, 1, Guarded<CmdRPopLPush>,  "list"},
  {"LMOVE",       5, WRITE | DENYOOM,                        1,  2, 1, Guarded<CmdLMove>,      "list"},
  {"LMPOP",      -4, WRITE,                                  0,  0, 0, Guarded<CmdLMPop>,      "list", LMPopGetKeys},
  {"BLPOP",      -3, WRITE | NOSCRIPT | BLOCKING,            1, -2, 1, Guarded<CmdBLPop>,      "list"},
  {"BRPOP",      -3, WRITE | NOSCRIPT | BLOCKING,            1, -2, 1, Guarded<CmdBRPop>,      "list"},
  {"BRPOPLPUSH",  4, WRITE | DENYOOM | NOSCRIPT | BLOCKING,  1,  2, 1, Guarded<CmdBRPopLPush>, "list"},
  {"BLMOVE",      6, WRITE | DENYOOM | NOSCRIPT | BLOCKING,  1,  2, 1, Guarded<CmdBLMove>,   "list"},
  {"BLMPOP",     -5, WRITE | BLOCKING,                       0,  0, 0, Guarded<CmdBLMPop>,     "list", BLMPopGetKeys},
  // SORT reaches keys its BY/GET patterns name: every shard is locked (list_sort.cc).
  {"SORT",       -2, WRITE | DENYOOM | ALL_KEYS,             1,  1, 1, Guarded<CmdSort>,       "generic", SortGetKeys},
  {"SORT_RO",    -2, READONLY | ALL_KEYS,                    1,  1, 1, Guarded<CmdSortRo>,     "generic", SortGetKeys},
  // DEBUG QUICKLIST-PACKED-THRESHOLD's effect (the host parses and checks the size).
  {"LIST.PACKED-THRESHOLD", 2, HIDDEN | ADMIN | LOADING | STALE, 0, 0, 0, Guarded<CmdPackedThreshold>, "list"},
};
// clang-format on

// Unload gets no handle to the state, so each load's State is owned here until then
// (the harness loads the plugin once per test: a bare `new` leaked one per load).
std::mutex g_states_mu;
std::map<ferrite_plugin*, std::unique_ptr<State>> g_states;

int Load(ferrite_plugin* p) {
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
  if (RegisterOption(p, "list-max-listpack-size", -2, -5, INT32_MAX, &st->fill) ||
      RegisterOption(p, "list-compress-depth", 0, 0, INT32_MAX, &st->compress_depth))
    return FERRITE_ERR;
  return sdk::RegisterAll(p, kCommands);
}

void Unload(ferrite_plugin* p) {
  std::lock_guard lk(g_states_mu);
  g_states.erase(p);
}

}  // namespace
}  // namespace ferrite::mod::lists

FERRITE_DEFINE_PLUGIN("lists", 1, ferrite::mod::lists::Load, ferrite::mod::lists::Unload)
