// The pub/sub module (pubsub.so): SUBSCRIBE & co, PUBLISH, PUBSUB, the shard variants,
// and keyspace notifications (host events → __keyspace@/__keyevent@ channels).
// Its state is a Registry (registry.h) owned per plugin handle, so several test hosts
// in one process each have their own.
#include <map>
#include <memory>
#include <mutex>

#include "pubsub_commands.h"

namespace ferrite::mod::pubsub {
namespace {

using namespace sdk::flags;
using sdk::Guarded;

// Unload receives only the plugin handle: map it back to the state Load created.
std::mutex g_states_mu;
std::map<ferrite_plugin*, std::unique_ptr<State>> g_states;

constexpr uint32_t kAllEventClasses =
    FERRITE_NOTIFY_GENERIC | FERRITE_NOTIFY_STRING | FERRITE_NOTIFY_LIST | FERRITE_NOTIFY_SET |
    FERRITE_NOTIFY_HASH | FERRITE_NOTIFY_ZSET | FERRITE_NOTIFY_EXPIRED |
    FERRITE_NOTIFY_EVICTED | FERRITE_NOTIFY_STREAM | FERRITE_NOTIFY_KEY_MISS |
    FERRITE_NOTIFY_NEW | FERRITE_NOTIFY_MODULE;

constexpr uint32_t kSub = PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK;
// A message reaches the replicas too (Redis' may_replicate: CLIENT PAUSE WRITE holds it).
constexpr uint32_t kPublish = PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE;

// No command here declares keys: channels are not keys, and declaring SSUBSCRIBE's
// shard channels as Redis does would only make the host lock keyspace shards for
// nothing (there is no cluster mode whose slot checks would need them).
// clang-format off
constexpr sdk::SubcommandSpec kPubsubSubs[] = {  // Redis 7.0's arity and flags
  {"CHANNELS",      -2, PUBSUB | LOADING | STALE},
  {"SHARDCHANNELS", -2, PUBSUB | LOADING | STALE},
  {"NUMSUB",        -2, PUBSUB | LOADING | STALE},
  {"SHARDNUMSUB",   -2, PUBSUB | LOADING | STALE},
  {"NUMPAT",         2, PUBSUB | LOADING | STALE},
  {"HELP",           2, LOADING | STALE},
};

const sdk::CommandSpec kCommands[] = {
  {"SUBSCRIBE",    -2, kSub,                          0, 0, 0, Guarded<CmdSubscribe>,    "pubsub"},
  {"PSUBSCRIBE",   -2, kSub,                          0, 0, 0, Guarded<CmdPSubscribe>,   "pubsub"},
  {"SSUBSCRIBE",   -2, kSub,                          0, 0, 0, Guarded<CmdSSubscribe>,   "pubsub"},
  {"UNSUBSCRIBE",  -1, kSub,                          0, 0, 0, Guarded<CmdUnsubscribe>,  "pubsub"},
  {"PUNSUBSCRIBE", -1, kSub,                          0, 0, 0, Guarded<CmdPUnsubscribe>, "pubsub"},
  {"SUNSUBSCRIBE", -1, kSub,                          0, 0, 0, Guarded<CmdSUnsubscribe>, "pubsub"},
  {"PUBLISH",       3, kPublish,                      0, 0, 0, Guarded<CmdPublish>,      "pubsub"},
  {"SPUBLISH",      3, kPublish,                      0, 0, 0, Guarded<CmdSPublish>,     "pubsub"},
  {"PUBSUB",       -2, PUBSUB | LOADING | STALE,      0, 0, 0, Guarded<CmdPubsub>,       "pubsub", nullptr, "", sdk::Subcommands(kPubsubSubs)},
};
// clang-format on

int Load(ferrite_plugin* p) {
  auto st = std::make_unique<State>();
  State* raw = st.get();
  {
    std::lock_guard lk(g_states_mu);
    g_states[p] = std::move(st);
  }
  sdk::Api().set_plugin_state(p, raw);
  if (sdk::RegisterAll(p, kCommands) != FERRITE_OK) return FERRITE_ERR;
  if (FERRITE_HAS_API(&sdk::Api(), register_subscription_lister) &&
      sdk::Api().register_subscription_lister(p, ListSubscriptions, raw) != FERRITE_OK)
    return FERRITE_ERR;
  return sdk::Api().subscribe_events(p, kAllEventClasses, OnKeyspaceEvent, raw);
}

// NOTE: close hooks of still-open subscribers point at this state and this .so. At
// shutdown (and in the harness) the host drops clients before unloading plugins; a
// run-time MODULE UNLOAD of pubsub with live subscribers is not supported (the SDK
// has no way to cancel a conn_on_close hook; see docs/pubsub.md).
void Unload(ferrite_plugin* p) {
  std::lock_guard lk(g_states_mu);
  g_states.erase(p);
}

}  // namespace
}  // namespace ferrite::mod::pubsub

FERRITE_DEFINE_PLUGIN("pubsub", 1, ferrite::mod::pubsub::Load, ferrite::mod::pubsub::Unload)
