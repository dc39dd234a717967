// The sets module: the "set" value type and its commands.
#include <map>
#include <memory>
#include <mutex>

#include "sets_internal.h"

namespace ferrite::mod::sets {

using namespace sdk::flags;
using sdk::CommandSpec;
using sdk::Guarded;

namespace {
// Unload gets no handle to the state, so each load's state is owned here until then
// (test harnesses load the .so once per host, several in one process).
std::mutex g_mu;
std::map<ferrite_plugin*, std::unique_ptr<SetsState>> g_states;

int Load(ferrite_plugin* p);
void Unload(ferrite_plugin* p);
}  // namespace

size_t MaxIntSetEntries() {
  int64_t v = sdk::Api().config_int("set-max-intset-entries");
  return v < 0 ? 512 : static_cast<size_t>(v);
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
  SetsState* st = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto& slot = g_states[p];
    slot = std::make_unique<SetsState>();
    st = slot.get();
  }
  ferrite_type_desc td = SetTypeDesc();
  st->type = api.register_type(p, &td);
  ferrite_option_desc od{};
  od.struct_size = sizeof od;
  od.name = "set-max-intset-entries";
  od.default_value = 512;
  od.min_value = 0;
  od.max_value = INT64_MAX;
  od.storage = &st->max_intset_entries;
  int rc = FERRITE_ERR;
  if (!st->type) {
    sdk::Log(p, FERRITE_LOG_ERROR, "sets: a type named 'set' is already registered");
  } else if (api.register_option(p, &od) == FERRITE_OK) {
    api.set_plugin_state(p, st);
    rc = sdk::RegisterAll(p, kCommands);
  }
  // A failed load is undone by the host without calling Unload: drop the state here.
  if (rc != FERRITE_OK) Unload(p);
  return rc;
}

void Unload(ferrite_plugin* p) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_states.erase(p);
}
}  // namespace

}  // namespace ferrite::mod::sets

FERRITE_DEFINE_PLUGIN("sets", 1, ferrite::mod::sets::Load, ferrite::mod::sets::Unload)
