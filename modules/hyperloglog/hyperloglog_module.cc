// The hyperloglog module: Redis' HyperLogLog commands on the host's string type, and
// the hll-sparse-max-bytes option.
#include <map>
#include <memory>
#include <mutex>

#include "hyperloglog_internal.h"

namespace ferrite::mod::hll {
namespace {

using namespace sdk::flags;
using sdk::Guarded;

// Arity, flags and key specs are Redis 7.0's (COMMAND INFO). PFCOUNT may write (the
// cached cardinality) although it is a read command, as in Redis: may-replicate.
// clang-format off
constexpr sdk::CommandSpec kCommands[] = {
  {"PFADD",      -2, WRITE | DENYOOM | FAST,   1,  1, 1, Guarded<CmdPfAdd>,      "hyperloglog"},
  {"PFCOUNT",    -2, READONLY | MAY_REPLICATE, 1, -1, 1, Guarded<CmdPfCount>,    "hyperloglog"},
  {"PFMERGE",    -2, WRITE | DENYOOM,          1, -1, 1, Guarded<CmdPfMerge>,    "hyperloglog"},
  {"PFDEBUG",     3, WRITE | DENYOOM | ADMIN,  2,  2, 1, Guarded<CmdPfDebug>,    "hyperloglog"},
  {"PFSELFTEST",  1, ADMIN,                    0,  0, 0, Guarded<CmdPfSelfTest>, "hyperloglog"},
};
// clang-format on

std::mutex g_mu;
std::map<ferrite_plugin*, std::unique_ptr<State>> g_states;

void Unload(ferrite_plugin* p) {
  std::lock_guard lock(g_mu);
  g_states.erase(p);
}

int Load(ferrite_plugin* p) {
  State* st = nullptr;
  {
    std::lock_guard lock(g_mu);
    auto& slot = g_states[p];
    slot = std::make_unique<State>();
    st = slot.get();
  }
  sdk::Api().set_plugin_state(p, st);
  ferrite_option_desc od{};
  od.struct_size = sizeof od;
  od.name = "hll-sparse-max-bytes";
  od.default_value = 3000;
  od.min_value = 0;
  od.max_value = INT64_MAX;
  od.storage = &st->sparse_max_bytes;
  // A failed load is undone by the host without calling Unload: drop the state here.
  if (sdk::Api().register_option(p, &od) != FERRITE_OK ||
      sdk::RegisterAll(p, kCommands) != FERRITE_OK) {
    Unload(p);
    return FERRITE_ERR;
  }
  return FERRITE_OK;
}

}  // namespace

std::span<const sdk::CommandSpec> HllCommandTable() { return kCommands; }

}  // namespace ferrite::mod::hll

FERRITE_DEFINE_PLUGIN("hyperloglog", 1, ferrite::mod::hll::Load, ferrite::mod::hll::Unload)
