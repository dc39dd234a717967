// The per-call state behind the SDK's opaque ferrite_ctx and ferrite_key handles.
#pragma once

#include <string>
#include <vector>

#include "ferrite/module.h"
#include "host/client.h"
#include "host/host.h"
#include "host/keyspace.h"
#include "host/registry.h"

struct ferrite_ctx {
  ferrite::host::Host* host;
  ferrite::host::Client* client;
  const ferrite::host::Command* cmd;
  const ferrite_reply_sink* sink;
  void* st;
  int argc;
  const ferrite_slice* argv;
  bool dirty = false;
  bool propagate_overridden = false;
  // What to propagate instead of the command itself, each with the db it ran in (a
  // SELECT inside MULTI or a script changes it between entries).
  std::vector<std::pair<int, std::vector<std::string>>> propagated;
  bool nested = false;       // inside EXEC / a script: all shards are held, no blocking
  bool blocked = false;
  std::vector<ferrite_key*> open_keys;
  ferrite_ctx* parent = nullptr;  // the caller's context for call()
};

struct ferrite_key {
  ferrite_ctx* ctx;
  int db;
  int si;
  ferrite::host::Table* table;
  uint64_t hash;
  std::string name;
  ferrite::host::Entry* e;
  int mode;
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
int RunHandler(Host* h, Client* c, const Command* cmd, int argc, const ferrite_slice* argv,
               const ferrite_reply_sink* sink, void* st, bool nested, ferrite_ctx* parent);
void CloseAllKeys(ferrite_ctx* ctx);
// Time-stamp counter cycles per microsecond (Command::usec accumulates cycles).
double CyclesPerUs();
// Host commands (server_commands.cc) are registered at construction.
void RegisterHostCommands(Host* h);

}  // namespace ferrite::host
