// The sets module: the "set" value type and its commands.
#include <mutex>
#include <utility>
#include <vector>

#include "sets_internal.h"

namespace ferrite::mod::sets {

using namespace sdk::flags;
using sdk::CommandSpec;
using sdk::Guarded;

namespace {
// Plugin handle -> its state. Several hosts may load this .so in one process (test
// harnesses), and the type callbacks get no context, so they read the latest state.
std::mutex g_mu;
std::vector<std::pair<ferrite_plugin*, SetsState*>> g_states;

int Load(ferrite_plugin* p);
void Unload(ferrite_plugin* p);
}  // namespace

const SetsState* CurrentState() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_states.empty() ? nullptr : g_states.back().second;
}

// clang-format off
const CommandSpec kCommands[] = {
  {"SADD",        -3, WRITE | DENYOOM | FAST, 1,  1, 1, Guarded<CmdSAdd>,        "set"},
  {"SREM",        -3, WRITE | FAST,           1,  1, 1, Guarded<CmdSRem>,        "set"},
  {"SCARD",        2, READONLY | FAST,        1,  1, 1, Guarded<CmdSCard>,       "set"},
  {"SISMEMBER",    3, READONLY | FAST,        1,  1, 1, Guarded<CmdSIsMember>,   "set"},
  {"SMISMEMBER",  -3, READONLY | FAST,        1,  1, 1, Guarded<CmdSMIsMember>,  "set"},
  {"SMEMBERS",     2, READONLY,               1,  1, 1, Guarded<CmdSMembers>,    "set"},
  {"SPOP",        -2, WRITE | FAST,           1,  1, 1, Guarded<CmdSPop>,        "set"},
  {"SRANDMEMBER", -2, READONLY,               1,  1, 1, Guarded<CmdSRandMember>, "set"},
  {"SMOVE",        4, WRITE | FAST,           1,  2, 1, Guarded<CmdSMove>,       "set"},
  {"SSCAN",       -3, READONLY,               1,  1, 1, Guarded<CmdSScan>,       "set"},
  {"SINTER",      -2, READONLY,               1, -1, 1, Guarded<CmdSInter>,      "set"},
  {"SINTERSTORE", -3, WRITE | DENYOOM,        1, -1, 1, Guarded<CmdSInterStore>, "set"},
  {"SINTERCARD",  -3, READONLY,               0,  0, 0, Guarded<CmdSInterCard>,  "set",
   GetKeysSInterCard},
  {"SUNION",      -2, READONLY,               1, -1, 1, Guarded<CmdSUnion>,      "set"},
  {"SUNIONSTORE", -3, WRITE | DENYOOM,        1, -1, 1, Guarded<CmdSUnionStore>, "set"},
  {"SDIFF",       -2, READONLY,               1, -1, 1, Guarded<CmdSDiff>,       "set"},
  {"SDIFFSTORE",  -3, WRITE | DENYOOM,        1, -1, 1, Guarded<CmdSDiffStore>,  "set"},
};
// clang-format on

namespace {
int Load(ferrite_plugin* p) {
  const auto& api = sdk::Api();
  auto* st = new SetsState();
  ferrite_type_desc td = SetTypeDesc();
  st->type = api.register_type(p, &td);
  if (!st->type) {
    sdk::Log(p, FERRITE_LOG_ERROR, "sets: a type named 'set' is already registered");
    delete st;
    return FERRITE_ERR;
  }
  ferrite_option_desc od{};
  od.struct_size = sizeof od;
  od.name = "set-max-intset-entries";
  od.default_value = 512;
  od.min_value = 0;
  od.max_value = INT64_MAX;
  od.storage = &st->max_intset_entries;
  if (api.register_option(p, &od) != FERRITE_OK) {
    delete st;
    return FERRITE_ERR;
  }
  api.set_plugin_state(p, st);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_states.emplace_back(p, st);
  }
  return sdk::RegisterAll(p, kCommands);
}

void Unload(ferrite_plugin* p) {
  std::lock_guard<std::mutex> lock(g_mu);
  for (auto it = g_states.begin(); it != g_states.end(); ++it) {
    if (it->first == p) {
      delete it->second;
      g_states.erase(it);
      return;
    }
  }
}
}  // namespace

}  // namespace ferrite::mod::sets

FERRITE_DEFINE_PLUGIN("sets", 1, ferrite::mod::sets::Load, ferrite::mod::sets::Unload)
