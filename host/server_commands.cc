// Host-owned commands that touch connection state: PING ECHO SELECT QUIT RESET HELLO
// AUTH TIME SHUTDOWN DEBUG and the transaction commands MULTI EXEC DISCARD WATCH
// UNWATCH. Administrative commands (INFO CONFIG COMMAND CLIENT MODULE) live in
// server_admin.cc.
#include <chrono>
#include <thread>

#include "ferrite/module.hpp"
#include "host/acl/acl.h"
#include "host/acl/gate.h"
#include "host/context.h"
#include "host/introspection.h"
#include "host/logging.h"
#include "host/server_commands.h"

namespace ferrite::host {

void ResetTransaction(Client* cl) {
  cl->in_multi = false;
  cl->multi_error = false;
  cl->queued.clear();
  cl->multi_mem.store(0, std::memory_order_relaxed);
  std::lock_guard lk(cl->watch_mu);
  cl->watched.clear();
}

using sdk::EqualsIgnoreCase;
using sdk::ParseInt64;
using sdk::SV;

namespace {

void Simple(ferrite_ctx* c, std::string_view s) { c->sink->simple(c->st, s.data(), s.size()); }
void Bulk(ferrite_ctx* c, std::string_view s) { c->sink->bulk(c->st, s.data(), s.size()); }
int Error(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  SendError(c, code, msg);
  return FERRITE_OK;
}

int CmdPing(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  if (argc > 2) return Error(c, "ping", FERRITE_E_ARITY);
  if (c->client->subscriptions > 0 && c->client->resp == 2) {
    c->sink->array(c->st, 2);
    Bulk(c, "pong");
    Bulk(c, argc == 2 ? SV(argv[1]) : std::string_view());
    return FERRITE_OK;
  }
  if (argc == 2) Bulk(c, SV(argv[1]));
  else Simple(c, "PONG");
  return FERRITE_OK;
}

int CmdEcho(ferrite_ctx* c, int, const ferrite_slice* argv) {
  Bulk(c, SV(argv[1]));
  return FERRITE_OK;
}

int CmdSelect(ferrite_ctx* c, int, const ferrite_slice* argv) {
  int64_t db;
  if (!ParseInt64(SV(argv[1]), &db)) return Error(c, "", FERRITE_E_NOT_INTEGER);
  if (db < 0 || db >= c->host->keyspace().num_dbs()) return Error(c, "ERR DB index is out of range");
  c->client->db = static_cast<int>(db);
  Simple(c, "OK");
  return FERRITE_OK;
}

int CmdQuit(ferrite_ctx* c, int, const ferrite_slice*) {
  Simple(c, "OK");
  c->client->close_mode = FERRITE_CONN_CLOSE_AFTER_REPLY;
  return FERRITE_OK;
}

int CmdReset(ferrite_ctx* c, int, const ferrite_slice*) {
  Client* cl = c->client;
  ResetTransaction(cl);
  c->host->tracking().Disable(cl);  // RESET turns tracking off, as in Redis
  for (auto& [fn, ud] : cl->reset_hooks) fn(ud, cl->id);
  cl->subscriptions = cl->sub_channels = cl->sub_patterns = cl->sub_shard = 0;
  cl->db = 0;
  cl->resp = 2;
  cl->name.clear();
  cl->no_evict = cl->no_touch = false;
  if (cl->monitor) {  // RESET leaves monitor mode, as in Redis
    c->host->introspection().monitors.Remove(cl);
    cl->monitor = false;
  }
  AclSetDefaultAuth(c->host, cl);  // Redis' clientSetDefaultAuth
  Simple(c, "RESET");
  return FERRITE_OK;
}

int CmdAuth(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  if (argc > 3) return Error(c, "", FERRITE_E_SYNTAX);
  std::string_view user = argc == 3 ? SV(argv[1]) : std::string_view("default");
  std::string_view pass = SV(argv[argc - 1]);
  if (argc == 2 && (c->host->acl().DefaultUser()->Get()->flags & acl::kUserNopass))
    return Error(c,
                 "ERR AUTH <password> called without any password configured for the default "
                 "user. Are you sure your configuration is correct?");
  if (!AclAuthenticate(c->host, c->client, user, pass, SV(argv[0])))
    return Error(c, "", FERRITE_E_WRONGPASS);
  Simple(c, "OK");
  return FERRITE_OK;
}

int CmdHello(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  Client* cl = c->client;
  int resp = cl->resp;
  int i = 1;
  if (argc >= 2) {
    int64_t v;
    if (!ParseInt64(SV(argv[1]), &v))
      return Error(c, "ERR Protocol version is not an integer or out of range");
    if (v < 2 || v > 3) return Error(c, "NOPROTO unsupported protocol version");
    resp = static_cast<int>(v);
    i = 2;
  }
  std::string_view setname;
  bool has_name = false;
  for (; i < argc; i++) {
    if (EqualsIgnoreCase(SV(argv[i]), "AUTH") && i + 2 < argc) {
      if (!AclAuthenticate(c->host, cl, SV(argv[i + 1]), SV(argv[i + 2]), SV(argv[0])))
        return Error(c, "", FERRITE_E_WRONGPASS);
      i += 2;
    } else if (EqualsIgnoreCase(SV(argv[i]), "SETNAME") && i + 1 < argc) {
      setname = SV(argv[i + 1]);
      has_name = true;
      i += 1;
    } else {
      std::string msg = "ERR Syntax error in HELLO option '" + std::string(SV(argv[i])) + "'";
      return Error(c, msg);
    }
  }
  if (c->host->auth_required && !cl->authenticated)
    return Error(c, "NOAUTH HELLO must be called with the client already authenticated, "
                    "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                    "authenticate the client and select the RESP protocol version at the same "
                    "time");
  if (has_name) {
    for (char ch : setname)
      if (ch < '!' || ch > '~')
        return Error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
    cl->name = setname;
  }
  cl->resp = resp;
  // Version fields report the Redis version whose behaviour Ferrite follows, as
  // clients gate features on it; INFO server has ferrite_version as well.
  c->sink->map(c->st, 7);
  Bulk(c, "server");
  Bulk(c, "redis");
  Bulk(c, "version");
  Bulk(c, kRedisCompatVersion);
  Bulk(c, "proto");
  c->sink->integer(c->st, resp);
  Bulk(c, "id");
  c->sink->integer(c->st, static_cast<int64_t>(cl->id));
  Bulk(c, "mode");
  Bulk(c, "standalone");
  Bulk(c, "role");
  Bulk(c, c->host->config().String("replication.role") == "replica" ? "replica" : "master");
  Bulk(c, "modules");
  c->sink->array(c->st, 0);
  return FERRITE_OK;
}

int CmdTime(ferrite_ctx* c, int, const ferrite_slice*) {
  int64_t us = c->host->clock().NowUs();
  c->sink->array(c->st, 2);
  Bulk(c, std::to_string(us / 1000000));
  Bulk(c, std::to_string(us % 1000000));
  return FERRITE_OK;
}

// ------------------------------- transactions ------------------------------------------

int CmdMulti(ferrite_ctx* c, int, const ferrite_slice*) {
  if (c->client->in_multi) return Error(c, "ERR MULTI calls can not be nested");
  c->client->in_multi = true;
  c->client->multi_error = false;
  c->client->queued.clear();
  c->client->multi_mem.store(0, std::memory_order_relaxed);
  Simple(c, "OK");
  return FERRITE_OK;
}

int CmdDiscard(ferrite_ctx* c, int, const ferrite_slice*) {
  if (!c->client->in_multi) return Error(c, "ERR DISCARD without MULTI");
  ResetTransaction(c->client);
  Simple(c, "OK");
  return FERRITE_OK;
}

// What WATCH remembers of a key: its version and its expiry ({0, -1} when missing).
std::pair<uint64_t, int64_t> WatchState(Host* h, int db, const std::string& key) {
  uint64_t hash = HashKey(key);
  Table& t = h->keyspace().shard(h->keyspace().ShardIndex(hash)).dbs[db];
  Entry* e = t.Find(key, hash);
  if (!e || t.ExpiredAt(e, h->clock().NowMs())) return {0, -1};
  return {e->version, t.ExpireOf(e)};
}

int CmdWatch(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  if (c->client->in_multi) return Error(c, "ERR WATCH inside MULTI is not allowed");
  for (int i = 1; i < argc; i++) {
    std::string key(SV(argv[i]));
    int db = c->client->db;
    bool dup = false;
    for (auto& w : c->client->watched) dup |= (w.db == db && w.key == key);
    if (dup) continue;
    auto [version, expire_at] = WatchState(c->host, db, key);
    WatchedKey w{db, key, version, expire_at, {}, 0};
    w.reg = c->host->key_watches().Watch(db, key, w.version == 0);
    w.changes = w.reg.changes();
    std::lock_guard lk(c->client->watch_mu);
    c->client->watched.push_back(std::move(w));
  }
  Simple(c, "OK");
  return FERRITE_OK;
}

int CmdUnwatch(ferrite_ctx* c, int, const ferrite_slice*) {
  std::lock_guard lk(c->client->watch_mu);
  c->client->watched.clear();
  Simple(c, "OK");
  return FERRITE_OK;
}

// EXEC holds the shards of every key its queued commands and its WATCHes name (every
// shard when one of them needs it: Host::PlanLocks), from the WATCH check to the end of
// the body: no client observes a partial transaction, and WATCHed versions cannot change
// between the check and the body.
int CmdExec(ferrite_ctx* c, int, const ferrite_slice*) {
  Client* cl = c->client;
  Host* h = c->host;
  if (!cl->in_multi) return Error(c, "ERR EXEC without MULTI");
  if (cl->multi_error) {
    ResetTransaction(cl);
    return Error(c, "", FERRITE_E_EXECABORT);
  }
  for (auto& w : cl->watched) {
    if (WatchState(h, w.db, w.key) != std::pair{w.version, w.expire_at} ||
        w.reg.changes() != w.changes) {
      ResetTransaction(cl);
      c->sink->null_array(c->st);
      return FERRITE_OK;
    }
  }
  auto queued = std::move(cl->queued);
  ResetTransaction(cl);
  c->sink->array(c->st, queued.size());
  std::vector<ferrite_slice> argv;
  for (auto& q : queued) {
    argv.clear();
    for (auto& a : q) argv.push_back({a.data(), a.size()});
    const Command* cmd = h->registry().Find(SV(argv[0]));
    if (!cmd) {
      Error(c, "ERR unknown command");
      continue;
    }
    int n = static_cast<int>(argv.size());
    const Subcommand* sub = cmd->FindSubcommand(n, argv.data());
    // Redis' execCommand re-checks: the rules may have changed since queueing.
    if (!AclUnrestricted(cl)) {
      std::string why;
      if (!AclAllowsCommand(h, cl, cmd, sub, n, argv.data(), AclGateSite::kExecBody, &why)) {
        Error(c, why);
        continue;
      }
    }
    uint64_t t0 = __builtin_ia32_rdtsc();
    uint32_t errors = 0;
    RunHandler(h, cl, cmd, n, argv.data(), c->sink, c->st, true, c, &errors);
    uint64_t cycles = __builtin_ia32_rdtsc() - t0;
    // Each command of the body is a call of its own (Redis' call() per queued command);
    // its errors make it failed, never the EXEC that carries them.
    StatsOf(cmd, sub).Count(cycles, true, errors > 0, h->LatencyTracking());
    RecordCall(h, cl, CallFlags(cmd, sub), n, argv.data(), cycles);
    if (h->tracking().Active() && cl->tracking.on && !cl->tracking.bcast &&
        (CallFlags(cmd, sub) & FERRITE_CMD_READONLY))
      h->tracking().RememberKeys(cl, cmd, n, argv.data());
  }
  return FERRITE_OK;
}

// ------------------------------- lifecycle ---------------------------------------------

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. Without NOW, a primary with lagging
// replicas waits for them (shutdown-timeout; replication's shutdown_wait.cc) with this
// client parked; SHUTDOWN ABORT cancels that wait.
int CmdShutdown(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  bool nosave = false, save = false, now = false, force = false, abort = false;
  for (int i = 1; i < argc; i++) {
    auto a = SV(argv[i]);
    if (EqualsIgnoreCase(a, "NOSAVE")) nosave = true;
    else if (EqualsIgnoreCase(a, "SAVE")) save = true;
    else if (EqualsIgnoreCase(a, "NOW")) now = true;
    else if (EqualsIgnoreCase(a, "FORCE")) force = true;
    else if (EqualsIgnoreCase(a, "ABORT")) abort = true;
    else return Error(c, "", FERRITE_E_SYNTAX);
  }
  if ((abort && (nosave || save || now || force)) || (nosave && save))
    return Error(c, "", FERRITE_E_SYNTAX);
  Host* h = c->host;
  if (abort) {
    if (h->replication().abort_shutdown && h->replication().abort_shutdown()) {
      c->sink->simple(c->st, "OK", 2);
      return FERRITE_OK;
    }
    return Error(c, "ERR No shutdown in progress.");
  }
  int save_mode = nosave ? 0 : save ? 1 : -1;
  // During a busy script only SHUTDOWN NOSAVE may stop the server (Redis: the save
  // could not see a consistent dataset).
  std::string_view busy_text;
  if (save_mode != 0 && h->ScriptBusy(&busy_text)) return Error(c, busy_text);
  Logger("host")->warn("user requested shutdown (client id={})", c->client->id);
  auto finish = [h, save_mode] {
    h->shutdown_save = save_mode;
    h->shutting_down = true;
    if (h->on_shutdown) h->on_shutdown();
  };
  if (!now && h->replication().defer_shutdown &&
      h->BlockClient(c->client, c->client->db, nullptr, 0, 0, FERRITE_BLOCK_TIMEOUT_NULL, argc,
                     argv) == FERRITE_OK) {
    if (h->replication().defer_shutdown(finish, c->client)) {
      c->blocked = true;
      return FERRITE_BLOCKED;
    }
    h->UnblockClient(c->client, false);
  }
  c->client->close_mode = FERRITE_CONN_CLOSE_NOW;
  finish();
  return FERRITE_OK;
}

}  // namespace

bool WatchDirty(Host* h, Client& cl) {
  struct Seen {
    int db;
    std::string key;
    uint64_t version;
    int64_t expire_at;
    bool changed;  // the registry counted a change (host/watch.h)
  };
  std::vector<Seen> seen;
  {
    std::lock_guard lk(cl.watch_mu);
    for (auto& w : cl.watched)
      seen.push_back({w.db, w.key, w.version, w.expire_at, w.reg.changes() != w.changes});
  }
  auto& ks = h->keyspace();
  for (auto& w : seen) {
    if (w.changed) return true;
    int shard = ks.ShardIndex(HashKey(w.key));
    // The caller may hold the shard already (CLIENT LIST from a script or inside EXEC).
    std::unique_lock lk(ks.shard(shard).mu, std::defer_lock);
    if (!LockSet::ThreadHolds(&ks, shard)) lk.lock();
    if (WatchState(h, w.db, w.key) != std::pair{w.version, w.expire_at}) return true;
  }
  return false;
}

int ReplyHelp(ferrite_ctx* c, std::string_view cmd_upper, std::initializer_list<const char*> lines) {
  c->sink->array(c->st, lines.size() + 3);
  std::string head = std::string(cmd_upper) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:";
  Simple(c, head);
  for (const char* l : lines) Simple(c, l);
  Simple(c, "HELP");
  Simple(c, "    Prints this help.");
  return FERRITE_OK;
}

int ReplyUnknownSubcommand(ferrite_ctx* c, std::string_view cmd_upper, std::string_view sub) {
  return Error(c, "ERR unknown subcommand '" + std::string(sub.substr(0, 128)) + "'. Try " +
                      std::string(cmd_upper) + " HELP.");
}

void AddHostCommand(Host* h, const char* name, int arity, uint32_t flags, int first, int last,
                    int step, ferrite_cmd_fn fn, const char* group, const char* summary,
                    sdk::SubcommandList subcommands, ferrite_getkeys_fn getkeys) {
  auto c = std::make_shared<Command>();
  c->name = name;
  c->arity = arity;
  c->flags = flags;
  c->first_key = first;
  c->last_key = last;
  c->key_step = step;
  c->handler = fn;
  c->getkeys = getkeys;
  c->group = group;
  c->summary = summary;
  c->owner = nullptr;
  std::vector<ferrite_subcommand_desc> subs;
  for (size_t i = 0; i < subcommands.count; i++) {
    const auto& sc = subcommands.items[i];
    subs.push_back({sizeof(ferrite_subcommand_desc), sc.name, sc.arity, sc.flags});
  }
  c->SetSubcommands(subs.data(), subs.size());
  h->registry().AddCommand(std::move(c));
}

void RegisterHostCommands(Host* h) {
  using namespace sdk::flags;
  constexpr uint32_t kConn = NOSCRIPT | LOADING | STALE | FAST;
  // clang-format off
  AddHostCommand(h, "PING",     -1, FAST | SUBSCRIBED_OK,                0, 0, 0, CmdPing,     "connection", "Ping the server");
  AddHostCommand(h, "ECHO",      2, FAST | LOADING | STALE,              0, 0, 0, CmdEcho,     "connection", "Echo the given string");
  AddHostCommand(h, "SELECT",    2, FAST | LOADING | STALE,              0, 0, 0, CmdSelect,   "connection", "Change the selected database");
  AddHostCommand(h, "QUIT",     -1, kConn | NOAUTH | SUBSCRIBED_OK | ALLOW_BUSY, 0, 0, 0, CmdQuit, "connection", "Close the connection");
  AddHostCommand(h, "RESET",     1, kConn | NOAUTH | SUBSCRIBED_OK | ALLOW_BUSY, 0, 0, 0, CmdReset, "connection", "Reset the connection");
  AddHostCommand(h, "AUTH",     -2, kConn | NOAUTH | ALLOW_BUSY,         0, 0, 0, CmdAuth,     "connection", "Authenticate to the server");
  AddHostCommand(h, "HELLO",    -1, kConn | NOAUTH | ALLOW_BUSY,         0, 0, 0, CmdHello,    "connection", "Handshake with the server");
  AddHostCommand(h, "TIME",      1, FAST | LOADING | STALE,              0, 0, 0, CmdTime,     "server",     "Return the server time");
  AddHostCommand(h, "MULTI",     1, kConn | ALLOW_BUSY,                  0, 0, 0, CmdMulti,    "transactions", "Start a transaction");
  AddHostCommand(h, "EXEC",      1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | FERRITE_CMD_SKIP_PROPAGATE, 0, 0, 0, CmdExec, "transactions", "Execute all queued commands");
  AddHostCommand(h, "DISCARD",   1, kConn | ALLOW_BUSY,                  0, 0, 0, CmdDiscard,  "transactions", "Discard all queued commands");
  AddHostCommand(h, "WATCH",    -2, kConn | ALLOW_BUSY,                  1, -1, 1, CmdWatch,   "transactions", "Watch keys for EXEC");
  AddHostCommand(h, "UNWATCH",   1, kConn | ALLOW_BUSY,                  0, 0, 0, CmdUnwatch,  "transactions", "Forget all watched keys");
  AddHostCommand(h, "SHUTDOWN", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY, 0, 0, 0, CmdShutdown, "server", "Stop the server");
  AddHostCommand(h, "DEBUG",    -2, ADMIN | NOSCRIPT | LOADING | STALE,  0, 0, 0, CmdDebug,    "server",     "Debugging commands");
  // clang-format on
  RegisterAdminCommands(h);
  RegisterClientCommand(h);
  RegisterAclCommands(h);
  RegisterMemoryCommand(h);
  RegisterSwapDbCommands(h);
  RegisterIntrospectionCommands(h);
  RegisterClusterCommands(h);
}

}  // namespace ferrite::host
