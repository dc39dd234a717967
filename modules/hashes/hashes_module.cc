// The hashes module: entry points, options, and the command table.
#include "hashes_internal.h"

#include <map>
#include <memory>
#include <mutex>

namespace ferrite::mod::hashes {
namespace {

using namespace sdk::flags;
using sdk::Api;
using sdk::CommandSpec;
using sdk::Guarded;

int RegisterOption(ferrite_plugin* p, const char* name, int64_t def, int64_t* storage) {
  ferrite_option_desc o{};
  o.struct_size = sizeof o;
  o.name = name;
  o.default_value = def;
  o.min_value = 0;
  o.max_value = INT32_MAX;
  o.storage = storage;
  return Api().register_option(p, &o);
}

// clang-format off
const CommandSpec kCommands[] = {
  {"HSET",          -4, WRITE | DENYOOM | FAST, 1, 1, 1, Guarded<CmdHSet>,         "hash"},
  {"HMSET",         -4, WRITE | DENYOOM | FAST, 1, 1, 1, Guarded<CmdHMSet>,        "hash"},
  {"HSETNX",         4, WRITE | DENYOOM | FAST, 1, 1, 1, Guarded<CmdHSetNx>,       "hash"},
  {"HGET",           3, READONLY | FAST,        1, 1, 1, Guarded<CmdHGet>,         "hash"},
  {"HMGET",         -3, READONLY | FAST,        1, 1, 1, Guarded<CmdHMGet>,        "hash"},
  {"HDEL",          -3, WRITE | FAST,           1, 1, 1, Guarded<CmdHDel>,         "hash"},
  {"HLEN",           2, READONLY | FAST,        1, 1, 1, Guarded<CmdHLen>,         "hash"},
  {"HSTRLEN",        3, READONLY | FAST,        1, 1, 1, Guarded<CmdHStrLen>,      "hash"},
  {"HEXISTS",        3, READONLY | FAST,        1, 1, 1, Guarded<CmdHExists>,      "hash"},
  {"HKEYS",          2, READONLY,               1, 1, 1, Guarded<CmdHKeys>,        "hash"},
  {"HVALS",          2, READONLY,               1, 1, 1, Guarded<CmdHVals>,        "hash"},
  {"HGETALL",        2, READONLY,               1, 1, 1, Guarded<CmdHGetAll>,      "hash"},
  {"HINCRBY",        4, WRITE | DENYOOM | FAST, 1, 1, 1, Guarded<CmdHIncrBy>,      "hash"},
  {"HINCRBYFLOAT",   4, WRITE | DENYOOM | FAST, 1, 1, 1, Guarded<CmdHIncrByFloat>, "hash"},
  {"HRANDFIELD",    -2, READONLY,               1, 1, 1, Guarded<CmdHRandField>,   "hash"},
  {"HSCAN",         -3, READONLY,               1, 1, 1, Guarded<CmdHScan>,        "hash"},
  {"HEXPIRE",       -6, WRITE | FAST,           1, 1, 1, Guarded<CmdHExpire>,      "hash"},
  {"HPEXPIRE",      -6, WRITE | FAST,           1, 1, 1, Guarded<CmdHPExpire>,     "hash"},
  {"HEXPIREAT",     -6, WRITE | FAST,           1, 1, 1, Guarded<CmdHExpireAt>,    "hash"},
  {"HPEXPIREAT",    -6, WRITE | FAST,           1, 1, 1, Guarded<CmdHPExpireAt>,   "hash"},
  {"HTTL",          -5, READONLY | FAST,        1, 1, 1, Guarded<CmdHTtl>,         "hash"},
  {"HPTTL",         -5, READONLY | FAST,        1, 1, 1, Guarded<CmdHPTtl>,        "hash"},
  {"HEXPIRETIME",   -5, READONLY | FAST,        1, 1, 1, Guarded<CmdHExpireTime>,  "hash"},
  {"HPEXPIRETIME",  -5, READONLY | FAST,        1, 1, 1, Guarded<CmdHPExpireTime>, "hash"},
  {"HPERSIST",      -5, WRITE | FAST,           1, 1, 1, Guarded<CmdHPersist>,     "hash"},
  {"HGETDEL",       -5, WRITE | FAST,           1, 1, 1, Guarded<CmdHGetDel>,      "hash", nullptr,
   "Returns the value of a field and deletes it from the hash."},
  {"HGETEX",        -5, WRITE | FAST,           1, 1, 1, Guarded<CmdHGetEx>,       "hash", nullptr,
   "Get the value of one or more fields of a given hash key, and optionally set their "
   "expiration."},
  {"HSETEX",        -6, WRITE | DENYOOM | FAST, 1, 1, 1, Guarded<CmdHSetEx>,       "hash", nullptr,
   "Set the value of one or more fields of a given hash key, and optionally set their "
   "expiration."},
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
  if (RegisterOption(p, "hash-max-listpack-entries", 512, &st->max_entries) ||
      RegisterOption(p, "hash-max-listpack-value", 64, &st->max_value))
    return FERRITE_ERR;
  return sdk::RegisterAll(p, kCommands);
}

void Unload(ferrite_plugin* p) {
  std::lock_guard lk(g_states_mu);
  g_states.erase(p);
}

}  // namespace
}  // namespace ferrite::mod::hashes

FERRITE_DEFINE_PLUGIN("hashes", 1, ferrite::mod::hashes::Load, ferrite::mod::hashes::Unload)
