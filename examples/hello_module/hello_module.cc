// hello: a small Ferrite module built out of tree, against the installed SDK only.
//
//   HELLO.SET key value        store a hellotype value (replaces a hellotype value)
//   HELLO.APPEND key value     append in place; returns the new length
//   HELLO.GET key              the text, or null
//   HELLO.BGET key timeout     like GET, but waits up to `timeout` seconds (0 = forever)
//                              for the key to be written
//   HELLO.INFO key             type, encoding, bytes, writes and version of the key
//   HELLO.EVENTS               how many keyspace events of each kind this module saw
//
// Option: hello-max-len (CONFIG GET/SET, [modules.hello] hello_max_len in ferrite.toml).
#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "ferrite/module.hpp"
#include "hello_value.h"

namespace hello {
namespace {

using ferrite::sdk::Api;
using ferrite::sdk::Ctx;
using ferrite::sdk::Key;
using ferrite::sdk::SV;

// Module state: the host hands it back to every handler (ctx_plugin_state), so the same
// .so could serve several hosts in one process. No globals besides the API table.
struct State {
  const ferrite_type* type = nullptr;
  int64_t max_len = 0;  // written by the host on CONFIG SET; read with atomic_ref
  std::mutex mu;        // guards events: the callback runs on every worker thread
  std::map<std::string, int64_t> events;
};

State& St(const Ctx& ctx) { return *ctx.State<State>(); }

int64_t MaxLen(State& st) {
  return std::atomic_ref<int64_t>(st.max_len).load(std::memory_order_relaxed);
}

// Opens `key` and checks it holds our type (or nothing). Replies WRONGTYPE otherwise.
bool OpenHello(const Ctx& ctx, std::string_view name, int mode, Key* key, HelloValue** v) {
  *key = ctx.Open(name, mode);
  *v = nullptr;
  if (!key->Exists()) return true;
  if (!key->Is(St(ctx).type)) {
    ctx.Error(FERRITE_E_WRONGTYPE);
    return false;
  }
  *v = key->Value<HelloValue>();
  return true;
}

int TooLong(const Ctx& ctx) { return ctx.Error("ERR value is longer than hello-max-len"); }

// ----------------------------------------------------------------------------------------
// Commands. Each one parses, touches the value, and replies exactly once.
// ----------------------------------------------------------------------------------------

int CmdSet(Ctx ctx, int, const ferrite_slice* argv) {
  std::string_view text = SV(argv[2]);
  if (static_cast<int64_t>(text.size()) > MaxLen(St(ctx))) return TooLong(ctx);
  Key key;
  HelloValue* old;
  if (!OpenHello(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &key, &old)) return FERRITE_OK;
  auto* v = new HelloValue{std::string(text), old ? old->writes + 1 : 1};
  // key_set_value frees the old value, bumps the version (WATCH), accounts memory and
  // wakes clients blocked on the key. Events are ours to emit.
  key.SetValue(St(ctx).type, v);
  ctx.Notify(FERRITE_NOTIFY_MODULE, "hello.set", SV(argv[1]));
  return ctx.Ok();  // propagated verbatim: HELLO.SET is deterministic
}

int CmdAppend(Ctx ctx, int, const ferrite_slice* argv) {
  Key key;
  HelloValue* v;
  if (!OpenHello(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &key, &v)) return FERRITE_OK;
  std::string_view more = SV(argv[2]);
  size_t now = v ? v->text.size() : 0;
  if (static_cast<int64_t>(now + more.size()) > MaxLen(St(ctx))) return TooLong(ctx);
  if (!v) {
    key.SetValue(St(ctx).type, new HelloValue{std::string(more), 1});
    ctx.Notify(FERRITE_NOTIFY_MODULE, "hello.append", SV(argv[1]));
    return ctx.Int(static_cast<int64_t>(more.size()));
  }
  v->text.append(more);
  v->writes++;
  // Changed in place: key_modified does what set_value would (version, memory, wake-up)
  // and emits the event.
  key.Modified(FERRITE_NOTIFY_MODULE, "hello.append");
  return ctx.Int(static_cast<int64_t>(v->text.size()));
}

int CmdGet(Ctx ctx, int, const ferrite_slice* argv) {
  Key key;
  HelloValue* v;
  if (!OpenHello(ctx, SV(argv[1]), FERRITE_KEY_READ, &key, &v)) return FERRITE_OK;
  return v ? ctx.Bulk(v->text) : ctx.Null();
}

// Written to be re-run from the start: when a write wakes the client, the host runs the
// whole command again (keeping the first deadline).
int CmdBGet(Ctx ctx, int, const ferrite_slice* argv) {
  double secs = 0;
  if (!ferrite::sdk::ParseDouble(SV(argv[2]), &secs))
    return ctx.Error("ERR timeout is not a float or out of range");
  if (secs < 0) return ctx.Error("ERR timeout is negative");
  Key key;
  HelloValue* v;
  if (!OpenHello(ctx, SV(argv[1]), FERRITE_KEY_READ, &key, &v)) return FERRITE_OK;
  if (v) return ctx.Bulk(v->text);
  auto timeout_ms = static_cast<int64_t>(std::ceil(secs * 1000));
  // Refused inside MULTI/EXEC and scripts: answer as a time-out would.
  if (Api().block_on_keys(ctx.get(), &argv[1], 1, timeout_ms, FERRITE_BLOCK_TIMEOUT_NULL) !=
      FERRITE_OK)
    return ctx.Null();
  return FERRITE_BLOCKED;
}

int CmdInfo(Ctx ctx, int, const ferrite_slice* argv) {
  Key key;
  HelloValue* v;
  if (!OpenHello(ctx, SV(argv[1]), FERRITE_KEY_READ | FERRITE_KEY_NOTOUCH, &key, &v))
    return FERRITE_OK;
  if (!v) return ctx.Null();
  // type_name was appended after ABI 1.0: a module built now may meet an older host.
  const char* type = FERRITE_HAS_API(&Api(), type_name) ? Api().type_name(key.Type()) : "?";
  ctx.Map(5);
  ctx.Bulk("type");
  ctx.Bulk(type);
  ctx.Bulk("encoding");
  ctx.Bulk(Api().key_encoding(key.get()));
  ctx.Bulk("bytes");
  ctx.Int(static_cast<int64_t>(TypeDesc().mem_usage(v)));
  ctx.Bulk("writes");
  ctx.Int(static_cast<int64_t>(v->writes));
  ctx.Bulk("version");
  return ctx.Int(static_cast<int64_t>(key.Version()));
}

int CmdEvents(Ctx ctx, int, const ferrite_slice*) {
  State& st = St(ctx);
  std::lock_guard lk(st.mu);
  ctx.Map(st.events.size());
  for (auto& [name, n] : st.events) {
    ctx.Bulk(name);
    ctx.Int(n);
  }
  return FERRITE_OK;
}

// Runs on the thread that made the change, with its shards locked: keep it short and
// never call back into the keyspace from here.
void OnEvent(void* udata, int, uint32_t, const char* event, ferrite_slice) {
  auto* st = static_cast<State*>(udata);
  std::lock_guard lk(st->mu);
  st->events[event]++;
}

// ----------------------------------------------------------------------------------------
// Registration
// ----------------------------------------------------------------------------------------

using namespace ferrite::sdk::flags;
using ferrite::sdk::CommandSpec;
using ferrite::sdk::Guarded;

// clang-format off
const CommandSpec kCommands[] = {
  {"HELLO.SET",    3, WRITE | DENYOOM | FAST, 1, 1, 1, Guarded<CmdSet>,    "hello"},
  {"HELLO.APPEND", 3, WRITE | DENYOOM,        1, 1, 1, Guarded<CmdAppend>, "hello"},
  {"HELLO.GET",    2, READONLY | FAST,        1, 1, 1, Guarded<CmdGet>,    "hello"},
  {"HELLO.BGET",   3, READONLY | BLOCKING,    1, 1, 1, Guarded<CmdBGet>,   "hello"},
  {"HELLO.INFO",   2, READONLY,               1, 1, 1, Guarded<CmdInfo>,   "hello"},
  {"HELLO.EVENTS", 1, READONLY | FAST,        0, 0, 0, Guarded<CmdEvents>, "hello"},
};
// clang-format on

// The SDK has no getter for a plugin's state outside a command context (see
// docs/sdk-requests.md), so Unload finds it here, keyed by the plugin handle.
std::mutex g_states_mu;
std::map<ferrite_plugin*, std::unique_ptr<State>> g_states;

// On FERRITE_ERR the host undoes every registration but does not call Unload: the state
// stays owned by the unique_ptr until everything succeeded.
int Load(ferrite_plugin* p) {
  auto st = std::make_unique<State>();
  ferrite_type_desc td = TypeDesc();
  st->type = Api().register_type(p, &td);
  if (!st->type) return FERRITE_ERR;  // a type named "hellotype" is already registered
  ferrite_option_desc od{};
  od.struct_size = sizeof od;
  od.name = "hello-max-len";
  od.default_value = 1 << 20;
  od.min_value = 0;
  od.max_value = INT32_MAX;
  od.storage = &st->max_len;
  if (Api().register_option(p, &od) != FERRITE_OK) return FERRITE_ERR;
  if (Api().subscribe_events(p, FERRITE_NOTIFY_GENERIC | FERRITE_NOTIFY_MODULE, OnEvent,
                             st.get()) != FERRITE_OK)
    return FERRITE_ERR;
  if (ferrite::sdk::RegisterAll(p, kCommands) != FERRITE_OK) return FERRITE_ERR;
  Api().set_plugin_state(p, st.get());
  {
    std::lock_guard lk(g_states_mu);
    g_states[p] = std::move(st);
  }
  ferrite::sdk::Log(p, FERRITE_LOG_INFO, "hello module ready");
  return FERRITE_OK;
}

// Runs after the host removed our commands, type, option and event subscription
// (MODULE UNLOAD, which the host refuses while the type is registered; and shutdown).
void Unload(ferrite_plugin* p) {
  std::lock_guard lk(g_states_mu);
  g_states.erase(p);
}

}  // namespace
}  // namespace hello

FERRITE_DEFINE_PLUGIN("hello", 1, hello::Load, hello::Unload)
