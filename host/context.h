// The per-call state behind the SDK's opaque ferrite_ctx and ferrite_key handles.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ferrite/module.h"
#include "host/client.h"
#include "host/host.h"
#include "host/keyspace.h"
#include "host/registry.h"

struct ferrite_key {
  // Not an aggregate on purpose: a ctx's inline key slots are left uninitialised until
  // a key is opened in them (no zeroing of name_buf per command).
  ferrite_key() {}
  ferrite_ctx* ctx;
  int db;
  int si;
  ferrite::host::Table* table;
  uint64_t hash;
  std::string_view name;  // into name_buf, or name_heap for long names
  ferrite::host::Entry* e;
  int mode;
  char name_buf[48];
  std::string name_heap;
};

struct ferrite_ctx {
  ferrite::host::Host* host;
  ferrite::host::Client* client;
  const ferrite::host::Command* cmd;
  const ferrite_reply_sink* sink;
  void* st;
  int argc;
  const ferrite_slice* argv;
  bool dirty = false;
  bool script_wrote = false;  // a script (this ctx) called a WRITE command: Redis' WRITE_DIRTY
  bool script_allow_oom = false;  // the running script declared allow-oom
  bool script_no_writes = false;  // ... declared no-writes or runs as EVAL_RO/FCALL_RO
  bool propagate_overridden = false;
  // A script that wrote was stopped by the shutdown: what it did is not propagated (as
  // Redis never propagates an unfinished script), and the final save is skipped.
  bool drop_effects = false;
  // propagate_to was called: the effects go out although the call changed no key.
  bool forced = false;
  // What to propagate instead of the command itself, each with the db it ran in (a
  // SELECT inside MULTI or a script changes it between entries) and its targets.
  std::vector<ferrite::host::PropagatedCmd> propagated{};
  bool nested = false;       // inside EXEC / a script: all shards are held, no blocking
  bool blocked = false;
  // Error replies this command sent itself (not its nested calls'): Redis' failed_calls.
  uint32_t errors = 0;
  ferrite_ctx* parent = nullptr;  // the caller's context for call()
  // Open keys. Most commands open one or two: those live in key_slots (no allocation per
  // command); any more are heap-allocated and listed in open_keys. See api.cc OpenKeyDb.
  static constexpr int kKeySlots = 2;
  ferrite_key key_slots[kKeySlots]{};
  uint8_t slots_used = 0;  // bit i: key_slots[i] is open
  std::vector<ferrite_key*> open_keys{};
};

namespace ferrite::host {

// The built-in string type.
const ferrite_type* StringTypePtr();
// The host's own API table (api.cc).
const ferrite_host_api* HostApi();
// Capturing reply sink (call(), harness): builds a ferrite_call_reply tree.
const ferrite_reply_sink* CaptureSink();
void* NewCaptureState();
ferrite_call_reply* TakeCapture(void* st);  // caller owns; state reusable afterwards
void FreeCaptureState(void* st);
// Replays a captured reply into a sink.
void ReplayReply(const ferrite_call_reply* r, const ferrite_reply_sink* sink, void* st);
// Runs a resolved command with locks already held (EXEC bodies, scripts, blocked
// retries do their own locking). Returns the handler status.
// `errors` (optional) receives how many error replies the handler itself sent.
int RunHandler(Host* h, Client* c, const Command* cmd, int argc, const ferrite_slice* argv,
               const ferrite_reply_sink* sink, void* st, bool nested, ferrite_ctx* parent,
               uint32_t* errors = nullptr);
void CloseAllKeys(ferrite_ctx* ctx);
// Counts one error reply (total_error_replies, INFO errorstats and, with a ctx, the
// command's failed_calls) without sending it: Redis' afterErrorReply.
void CountErrorReply(Host* h, ferrite_ctx* ctx, ferrite_error_code code, std::string_view detail);
// Sends a handler's error reply and counts it. Every host command's errors go here.
int SendError(ferrite_ctx* c, ferrite_error_code code, std::string_view detail);
// Time-stamp counter cycles per microsecond (Command::usec accumulates cycles).
double CyclesPerUs();
// Host commands (server_commands.cc) are registered at construction.
void RegisterHostCommands(Host* h);

}  // namespace ferrite::host
