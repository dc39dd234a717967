// The `redis` table scripts call: redis.call/pcall and the helpers, plus the reduced
// table FUNCTION LOAD code sees (register_function, log, constants).
#include <lua.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine.h"
#include "sha1.h"

namespace ferrite::mod::scripting {

using sdk::Api;

namespace {

Engine* E(lua_State* L) { return static_cast<Engine*>(lua_touserdata(L, lua_upvalueindex(1))); }

// Raises {err = text}: the error handler then attaches source and line.
int RaiseError(lua_State* L, std::string_view text) {
  PushErrorTable(L, text);
  return lua_error(L);
}

// Lua numbers as arguments: integers in decimal, others "%.17g" like Redis 7.0.15.
std::string NumberArg(lua_Number n) {
  if (std::floor(n) == n && std::fabs(n) < 1e17) {
    char b[32];
    snprintf(b, sizeof b, "%lld", static_cast<long long>(n));
    return b;
  }
  char b[64];
  snprintf(b, sizeof b, "%.17g", n);  // Redis 7.0.15: "%.17g" (0.1 → 0.10000000000000001)
  return b;
}

int GenericCall(lua_State* L, bool raise) {
  Engine* e = E(L);
  Running* run = e->running();
  int argc = lua_gettop(L);
  if (!run) return RaiseError(L, "ERR redis.call is not available here");
  if (argc == 0)
    return RaiseError(L, "ERR Please specify at least one argument for this redis lib call");
  std::vector<std::string> args;
  args.reserve(argc);
  for (int i = 1; i <= argc; i++) {
    int t = lua_type(L, i);
    if (t == LUA_TNUMBER) {
      args.push_back(NumberArg(lua_tonumber(L, i)));
    } else if (t == LUA_TSTRING) {
      size_t n = 0;
      const char* s = lua_tolstring(L, i, &n);
      args.emplace_back(s, n);
    } else {
      return RaiseError(L, "ERR Lua redis lib command arguments must be strings or integers");
    }
  }
  bool is_write = e->IsWriteCommand(args[0]);
  if (is_write && run->spec.read_only)
    return RaiseError(L, "ERR Write commands are not allowed from read-only scripts.");
  std::vector<ferrite_slice> sl;
  sl.reserve(args.size());
  for (auto& a : args) sl.push_back({a.data(), a.size()});
  ferrite_call_reply* r = Api().call(run->ctx.get(), argc, sl.data());
  bool is_error = Api().call_reply_type(r) == FERRITE_REPLY_ERROR;
  if (is_write && !is_error) MarkWrote(e);
  PushCallReply(L, r, run->resp);
  Api().free_call_reply(r);
  if (is_error && raise) return lua_error(L);
  return 1;
}

int Call(lua_State* L) { return GenericCall(L, true); }
int PCall(lua_State* L) { return GenericCall(L, false); }

int Sha1hex(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseError(L, "ERR wrong number of arguments");
  size_t n = 0;
  const char* s = lua_tolstring(L, 1, &n);
  std::string h = Sha1Hex({s ? s : "", s ? n : 0});
  lua_pushlstring(L, h.data(), h.size());
  return 1;
}

int StatusReply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING)
    return RaiseError(L, "ERR wrong number or type of arguments");
  lua_newtable(L);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "ok");
  return 1;
}

// redis.error_reply: "-CODE msg" keeps its code, a bare message gets "ERR ".
int ErrorReply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING)
    return RaiseError(L, "ERR wrong number or type of arguments");
  size_t n = 0;
  const char* s = lua_tolstring(L, 1, &n);
  std::string msg(s, n);
  if (!msg.empty() && msg[0] == '-') {
    msg.erase(0, 1);
  } else if (msg.find(' ') == std::string::npos || msg.empty()) {
    msg = "ERR " + msg;
  }
  PushErrorTable(L, msg);
  return 1;
}

int SetResp(lua_State* L) {
  Engine* e = E(L);
  if (lua_gettop(L) != 1) return RaiseError(L, "ERR redis.setresp() requires one argument.");
  int v = static_cast<int>(lua_tonumber(L, 1));
  if (v != 2 && v != 3) return RaiseError(L, "ERR RESP version must be 2 or 3.");
  if (e->running()) e->running()->resp = v;
  return 0;
}

int Log(lua_State* L) {
  Engine* e = E(L);
  int argc = lua_gettop(L);
  if (argc < 2) return RaiseError(L, "ERR redis.log() requires two arguments or more.");
  if (!lua_isnumber(L, 1)) return RaiseError(L, "ERR First argument must be a number (log level).");
  int level = static_cast<int>(lua_tonumber(L, 1));
  if (level < 0 || level > 3) return RaiseError(L, "ERR Invalid debug level.");
  std::string msg;
  for (int i = 2; i <= argc; i++) {
    size_t n = 0;
    const char* s = lua_tolstring(L, i, &n);
    if (!s) continue;
    if (!msg.empty()) msg += ' ';
    msg.append(s, n);
  }
  static const ferrite_log_level kLevels[] = {FERRITE_LOG_DEBUG, FERRITE_LOG_DEBUG,
                                              FERRITE_LOG_INFO, FERRITE_LOG_WARN};
  if (e->current_ctx) Api().ctx_log(e->current_ctx, kLevels[level], msg.data(), msg.size());
  return 0;
}

int SetRepl(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseError(L, "ERR redis.set_repl() requires one argument.");
  int v = static_cast<int>(lua_tonumber(L, 1));
  if (v < 0 || v > 3) return RaiseError(L, "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
  return 0;  // effects replication is always on
}
int ReplicateCommands(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}
int Breakpoint(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}
int Noop(lua_State*) { return 0; }

bool ValidName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

const char* const kKnownFlags[] = {"no-writes", "allow-oom", "allow-stale", "no-cluster",
                                   "allow-cross-slot-keys"};

// redis.register_function(name, fn) or redis.register_function{function_name=, callback=,
// flags=, description=}.
int RegisterFunction(lua_State* L) {
  Engine* e = E(L);
  if (!e->pending) return luaL_error(L, "redis.register_function can only be called on FUNCTION LOAD command");
  Function f;
  int argc = lua_gettop(L);
  if (argc == 1 && lua_istable(L, 1)) {
    lua_getfield(L, 1, "function_name");
    lua_getfield(L, 1, "callback");
    lua_getfield(L, 1, "flags");
    lua_getfield(L, 1, "description");
    if (lua_isstring(L, -4)) f.name = lua_tostring(L, -4);
    if (!lua_isnil(L, -1)) {
      if (!lua_isstring(L, -1)) return RaiseError(L, "ERR description argument given to redis.register_function must be a string");
      f.has_description = true;
      f.description = lua_tostring(L, -1);
    }
    if (lua_istable(L, -2)) {
      for (int i = 1;; i++) {
        lua_rawgeti(L, -2, i);
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          break;
        }
        std::string flag = lua_isstring(L, -1) ? lua_tostring(L, -1) : "";
        lua_pop(L, 1);
        bool known = false;
        for (auto* k : kKnownFlags) known = known || flag == k;
        if (!known) return RaiseError(L, "ERR unknown flag given");
        f.flags.push_back(flag);
      }
    } else if (!lua_isnil(L, -2)) {
      return RaiseError(L, "ERR flags argument to redis.register_function must be a table representing function flags");
    }
    lua_pushvalue(L, -3);
  } else if (argc == 2) {
    if (lua_isstring(L, 1)) f.name = lua_tostring(L, 1);
    lua_pushvalue(L, 2);
  } else {
    return RaiseError(L, "ERR wrong number of arguments to redis.register_function");
  }
  if (!ValidName(f.name))
    return RaiseError(L, "ERR Function names can only contain letters, numbers, or underscores(_) and must be at least one character long");
  if (!lua_isfunction(L, -1))
    return RaiseError(L, "ERR callback argument given to redis.register_function must be a function");
  for (auto& p : *e->pending)
    if (p.name == f.name) return RaiseError(L, "ERR Function already exists in the library");
  f.ref = luaL_ref(L, LUA_REGISTRYINDEX);
  e->pending->push_back(std::move(f));
  return 0;
}

void SetFn(lua_State* L, Engine* e, const char* name, lua_CFunction fn) {
  lua_pushlightuserdata(L, e);
  lua_pushcclosure(L, fn, 1);
  lua_setfield(L, -2, name);
}

void SetConstants(lua_State* L) {
  struct {
    const char* n;
    int v;
  } consts[] = {{"LOG_DEBUG", 0}, {"LOG_VERBOSE", 1}, {"LOG_NOTICE", 2}, {"LOG_WARNING", 3},
                {"REPL_NONE", 0}, {"REPL_AOF", 1},    {"REPL_SLAVE", 2},  {"REPL_REPLICA", 2},
                {"REPL_ALL", 3}};
  for (auto& c : consts) {
    lua_pushnumber(L, c.v);
    lua_setfield(L, -2, c.n);
  }
  lua_pushstring(L, "7.0.15");
  lua_setfield(L, -2, "REDIS_VERSION");
  lua_pushnumber(L, 0x00070f);
  lua_setfield(L, -2, "REDIS_VERSION_NUM");
}

}  // namespace

void InstallRedisLib(lua_State* L, Engine* e) {
  lua_newtable(L);
  SetFn(L, e, "call", Call);
  SetFn(L, e, "pcall", PCall);
  SetFn(L, e, "sha1hex", Sha1hex);
  SetFn(L, e, "status_reply", StatusReply);
  SetFn(L, e, "error_reply", ErrorReply);
  SetFn(L, e, "setresp", SetResp);
  SetFn(L, e, "log", Log);
  SetFn(L, e, "set_repl", SetRepl);
  SetFn(L, e, "replicate_commands", ReplicateCommands);
  SetFn(L, e, "breakpoint", Breakpoint);
  SetFn(L, e, "debug", Noop);
  SetConstants(L);
  lua_setglobal(L, "redis");

  lua_newtable(L);
  SetFn(L, e, "register_function", RegisterFunction);
  SetFn(L, e, "log", Log);
  SetFn(L, e, "setresp", SetResp);
  SetConstants(L);
  e->refs.load_redis = luaL_ref(L, LUA_REGISTRYINDEX);
}

}  // namespace ferrite::mod::scripting
