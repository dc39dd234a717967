#include "pubsub_commands.h"

#include <string>
#include <vector>

namespace ferrite::mod::pubsub {
namespace {

using sdk::Api;
using sdk::SV;

// Redis' reply word per kind, for confirmations.
struct Words {
  const char* subscribe;
  const char* unsubscribe;
};
constexpr Words kWords[3] = {{"subscribe", "unsubscribe"},
                             {"psubscribe", "punsubscribe"},
                             {"ssubscribe", "sunsubscribe"}};

// [word, name-or-null, count]: a push in RESP3 (an array in RESP2), written into the
// caller's own reply so it stays in order with the replies around it. Hosts without
// reply_push get an array (RESP3 clients then see *3 where Redis sends >3).
void ReplyConfirmation(const Ctx& ctx, const char* word, const std::string* name,
                       size_t count) {
  if (FERRITE_HAS_API(&Api(), reply_push)) Api().reply_push(ctx.get(), 3);
  else ctx.Array(3);
  ctx.Bulk(word);
  if (name) ctx.Bulk(*name);
  else ctx.Null();
  ctx.Int(static_cast<int64_t>(count));
}

void UpdateMode(const Ctx& ctx, const Registry& reg) {
  if (FERRITE_HAS_API(&Api(), ctx_set_subscription_counts)) {
    auto n = reg.Counts(ctx.ConnId());
    Api().ctx_set_subscription_counts(ctx.get(), n[0], n[1], n[2]);
  } else {
    Api().ctx_set_subscriptions(ctx.get(), reg.Total(ctx.ConnId()));
  }
}

void RegisterHooks(ConnId id, State* st) {
  Api().conn_on_close(id, OnConnClose, st);
  if (FERRITE_HAS_API(&Api(), conn_on_reset)) Api().conn_on_reset(id, OnConnReset, st);
}

int SubscribeGeneric(Ctx ctx, int argc, const ferrite_slice* argv, Kind kind) {
  State* st = ctx.State<State>();
  ConnId id = ctx.ConnId();
  for (int i = 1; i < argc; i++) {
    std::string name(SV(argv[i]));
    bool first = false;
    st->registry.Subscribe(id, kind, name, &first);
    // The hooks drop every subscription of the connection; one each per connection.
    if (first) RegisterHooks(id, st);
    ReplyConfirmation(ctx, kWords[static_cast<int>(kind)].subscribe, &name,
                      st->registry.CountFor(id, kind));
  }
  UpdateMode(ctx, st->registry);
  return FERRITE_OK;
}

// With no names: every subscription of that kind, or one reply with a null name when
// there is none (Redis' pubsubUnsubscribeAll*).
int UnsubscribeGeneric(Ctx ctx, int argc, const ferrite_slice* argv, Kind kind) {
  State* st = ctx.State<State>();
  ConnId id = ctx.ConnId();
  const char* word = kWords[static_cast<int>(kind)].unsubscribe;
  std::vector<std::string> names;
  if (argc > 1) {
    for (int i = 1; i < argc; i++) names.emplace_back(SV(argv[i]));
  } else {
    names = st->registry.SubscriptionsOf(id, kind);
    if (names.empty()) ReplyConfirmation(ctx, word, nullptr, st->registry.CountFor(id, kind));
  }
  for (const auto& name : names) {
    st->registry.Unsubscribe(id, kind, name);
    ReplyConfirmation(ctx, word, &name, st->registry.CountFor(id, kind));
  }
  UpdateMode(ctx, st->registry);
  return FERRITE_OK;
}

// PUBSUB CHANNELS / SHARDCHANNELS [pattern]
int PubsubChannels(const Ctx& ctx, int argc, const ferrite_slice* argv, Kind kind) {
  if (argc > 3) {
    return ctx.Error("ERR unknown subcommand or wrong number of arguments for '" +
                     std::string(SV(argv[1])) + "'. Try PUBSUB HELP.");
  }
  std::string pattern = argc == 3 ? std::string(SV(argv[2])) : std::string();
  return ctx.BulkArray(
      ctx.State<State>()->registry.Channels(kind, argc == 3 ? &pattern : nullptr));
}

// PUBSUB NUMSUB / SHARDNUMSUB [name ...]: a flat name, count list (an array in RESP3
// too, as Redis 7.0 replies).
int PubsubNumSub(const Ctx& ctx, int argc, const ferrite_slice* argv, Kind kind) {
  const Registry& reg = ctx.State<State>()->registry;
  ctx.Array(static_cast<size_t>(argc - 2) * 2);
  for (int i = 2; i < argc; i++) {
    ctx.Bulk(SV(argv[i]));
    ctx.Int(reg.NumSub(kind, SV(argv[i])));
  }
  return FERRITE_OK;
}

constexpr const char* kHelp[] = {
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: "
    "'*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
};

int PubsubArity(const Ctx& ctx, const char* sub) {
  return ctx.Error(std::string("ERR wrong number of arguments for 'pubsub|") + sub +
                   "' command");
}

}  // namespace

HostPushSink::HostPushSink(ferrite_ctx* publisher) {
  // NOTE: inside MULTI/EXEC or a script the reply being built is the transaction's or
  // the script's, not the client's stream: those deliveries stay posted.
  if (!FERRITE_HAS_API(&Api(), reply_push) || Api().ctx_in_script(publisher)) return;
  self_ctx_ = publisher;
  self_id_ = Api().ctx_conn_id(publisher);
}

bool HostPushSink::Push(ConnId id, const std::string_view* parts, int n) {
  if (self_ctx_ && id == self_id_) {
    Api().reply_push(self_ctx_, static_cast<size_t>(n));
    for (int i = 0; i < n; i++) Api().reply_bulk(self_ctx_, parts[i].data(), parts[i].size());
    return true;
  }
  ferrite_slice s[4];
  for (int i = 0; i < n && i < 4; i++) s[i] = sdk::SL(parts[i]);
  return Api().conn_push(id, n, s) == FERRITE_OK;
}

int CmdSubscribe(Ctx ctx, int argc, const ferrite_slice* argv) {
  return SubscribeGeneric(ctx, argc, argv, Kind::kChannel);
}
int CmdPSubscribe(Ctx ctx, int argc, const ferrite_slice* argv) {
  return SubscribeGeneric(ctx, argc, argv, Kind::kPattern);
}
int CmdSSubscribe(Ctx ctx, int argc, const ferrite_slice* argv) {
  return SubscribeGeneric(ctx, argc, argv, Kind::kShard);
}
int CmdUnsubscribe(Ctx ctx, int argc, const ferrite_slice* argv) {
  return UnsubscribeGeneric(ctx, argc, argv, Kind::kChannel);
}
int CmdPUnsubscribe(Ctx ctx, int argc, const ferrite_slice* argv) {
  return UnsubscribeGeneric(ctx, argc, argv, Kind::kPattern);
}
int CmdSUnsubscribe(Ctx ctx, int argc, const ferrite_slice* argv) {
  return UnsubscribeGeneric(ctx, argc, argv, Kind::kShard);
}

namespace {

// PUBLISH and SPUBLISH go to the replicas, not to the AOF, as in Redis 7.0 outside
// cluster mode (forceCommandPropagation(c, PROPAGATE_REPL)): a replica's subscribers
// get what is published on its primary. Inside MULTI/EXEC or a script they join its
// effects. A replica applying its primary's stream delivers them to its own subscribers.
int PublishGeneric(Ctx ctx, int argc, const ferrite_slice* argv, Kind kind) {
  HostPushSink sink(ctx.get());
  int64_t n = ctx.State<State>()->registry.Publish(kind, SV(argv[1]), SV(argv[2]), sink);
  if (FERRITE_HAS_API(&Api(), propagate_to))
    Api().propagate_to(ctx.get(), FERRITE_PROPAGATE_REPL, argc, argv);
  return ctx.Int(n);
}

}  // namespace

int CmdPublish(Ctx ctx, int argc, const ferrite_slice* argv) {
  return PublishGeneric(ctx, argc, argv, Kind::kChannel);
}

int CmdSPublish(Ctx ctx, int argc, const ferrite_slice* argv) {
  return PublishGeneric(ctx, argc, argv, Kind::kShard);
}

// PUBSUB is a container command in Redis 7.0; the host registers flat names, so the
// subcommand arity rules (and their error texts) live here.
int CmdPubsub(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto sub = SV(argv[1]);
  auto is = [&](std::string_view w) { return sdk::EqualsIgnoreCase(sub, w); };
  if (is("CHANNELS")) return PubsubChannels(ctx, argc, argv, Kind::kChannel);
  if (is("SHARDCHANNELS")) return PubsubChannels(ctx, argc, argv, Kind::kShard);
  if (is("NUMSUB")) return PubsubNumSub(ctx, argc, argv, Kind::kChannel);
  if (is("SHARDNUMSUB")) return PubsubNumSub(ctx, argc, argv, Kind::kShard);
  if (is("NUMPAT")) {
    if (argc != 2) return PubsubArity(ctx, "numpat");
    return ctx.Int(ctx.State<State>()->registry.NumPat());
  }
  if (is("HELP")) {
    if (argc != 2) return PubsubArity(ctx, "help");
    ctx.Array(std::size(kHelp));
    for (const char* line : kHelp) ctx.Simple(line);
    return FERRITE_OK;
  }
  return ctx.Error("ERR unknown subcommand '" + std::string(sub) + "'. Try PUBSUB HELP.");
}

void OnConnClose(void* state, ferrite_conn_id id) {
  static_cast<State*>(state)->registry.Drop(id);
}

void OnConnReset(void* state, ferrite_conn_id id) {
  static_cast<State*>(state)->registry.Clear(id);
}

static_assert(static_cast<int>(Kind::kChannel) == FERRITE_SUB_CHANNEL &&
              static_cast<int>(Kind::kPattern) == FERRITE_SUB_PATTERN &&
              static_cast<int>(Kind::kShard) == FERRITE_SUB_SHARD);

void ListSubscriptions(void* state, ferrite_conn_id id, ferrite_sub_visit_fn visit,
                       void* visit_udata) {
  static_cast<State*>(state)->registry.ForEachOf(id, [&](Kind kind, std::string_view name) {
    return visit(visit_udata, static_cast<ferrite_sub_kind>(kind), {name.data(), name.size()}) == 0;
  });
}

void OnKeyspaceEvent(void* state, int db, uint32_t type_class, const char* event,
                     ferrite_slice key) {
  auto* st = static_cast<State*>(state);
  HostPushSink sink;
  std::string prefix = "__key";
  std::string dbpart = "@" + std::to_string(db) + "__:";
  if (type_class & 1u) {  // K
    std::string channel = prefix + "space" + dbpart + std::string(SV(key));
    st->registry.Publish(Kind::kChannel, channel, event, sink);
  }
  if (type_class & 2u) {  // E
    std::string channel = prefix + "event" + dbpart + event;
    st->registry.Publish(Kind::kChannel, channel, SV(key), sink);
  }
}

}  // namespace ferrite::mod::pubsub
