// Handlers of the pub/sub commands and the keyspace-event bridge. Each Cmd* parses its
// arguments, calls the Registry (the Op layer: pure data, see registry.h) and replies.
// The table that registers them is in pubsub_module.cc.
#pragma once

#include "ferrite/module.hpp"
#include "registry.h"

namespace ferrite::mod::pubsub {

using sdk::Ctx;

// The module's state, handed back by the host to every handler (ctx_plugin_state), to
// the close hook and to the keyspace-event callback.
struct State {
  Registry registry;
};

// Delivers through the host: conn_push queues a push on the subscriber's own thread.
// Given the publishing command's context, a message for the publisher itself (a RESP3
// client subscribed to the channel it publishes to) is written straight into its own
// reply instead, ahead of PUBLISH's count, as Redis does.
class HostPushSink : public PushSink {
 public:
  HostPushSink() = default;
  explicit HostPushSink(ferrite_ctx* publisher);
  bool Push(ConnId id, const std::string_view* parts, int n) override;

 private:
  ferrite_ctx* self_ctx_ = nullptr;
  ConnId self_id_ = 0;
};

int CmdSubscribe(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdPSubscribe(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSSubscribe(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdUnsubscribe(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdPUnsubscribe(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSUnsubscribe(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdPublish(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSPublish(Ctx ctx, int argc, const ferrite_slice* argv);
int CmdPubsub(Ctx ctx, int argc, const ferrite_slice* argv);

// Run by the host on the connection's own thread when it closes.
void OnConnClose(void* state, ferrite_conn_id id);
// Run by the host on the connection's thread when it sends RESET (newer hosts).
void OnConnReset(void* state, ferrite_conn_id id);
// The host's view of a connection's subscriptions (register_subscription_lister, SDK
// 1.16): ACL SETUSER disconnects the subscribers whose channels the new rules refuse.
void ListSubscriptions(void* state, ferrite_conn_id id, ferrite_sub_visit_fn visit,
                       void* visit_udata);
// Keyspace events → __keyspace@<db>__:<key> / __keyevent@<db>__:<event>.
void OnKeyspaceEvent(void* state, int db, uint32_t type_class, const char* event,
                     ferrite_slice key);

}  // namespace ferrite::mod::pubsub
