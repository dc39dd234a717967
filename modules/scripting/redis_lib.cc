// The `redis` table scripts call: redis.call/pcall and the helpers, plus the reduced
// table FUNCTION LOAD code sees (register_function, log, constants).
#include <lua.hpp>

#include <cmath>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include <strings.h>

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

// Redis' luaArgsToRedisArgv: the call's arguments as strings, or the error text.
const char* ArgsFromLua(lua_State* L, std::vector<std::string>* args) {
  int argc = lua_gettop(L);
  if (argc == 0) return "ERR Please specify at least one argument for this redis lib call";
  args->reserve(argc);
  for (int i = 1; i <= argc; i++) {
    int t = lua_type(L, i);
    if (t == LUA_TNUMBER) {
      args->push_back(NumberArg(lua_tonumber(L, i)));
    } else if (t == LUA_TSTRING) {
      size_t n = 0;
      const char* s = lua_tolstring(L, i, &n);
      args->emplace_back(s, n);
    } else {
      return "ERR Lua redis lib command arguments must be strings or integers";
    }
  }
  return nullptr;
}

std::vector<ferrite_slice> Slices(const std::vector<std::string>& args) {
  std::vector<ferrite_slice> sl;
  sl.reserve(args.size());
  for (auto& a : args) sl.push_back({a.data(), a.size()});
  return sl;
}

int GenericCall(lua_State* L, bool raise) {
  Engine* e = E(L);
  Running* run = e->running();
  int argc = lua_gettop(L);
  if (!run) return RaiseError(L, "ERR redis.call is not available here");
  // What Redis' luaRedisGenericCommand refuses itself (arguments, then scriptCall's
  // checks) raises from redis.call; redis.pcall returns it as an error table.
  auto fail = [&](std::string_view text) {
    if (raise) return RaiseError(L, text);
    PushErrorTable(L, text);
    return 1;
  };
  std::vector<std::string> args;
  if (const char* err = ArgsFromLua(L, &args)) return fail(err);
  bool is_write = e->IsWriteCommand(args[0]);
  // Hosts of ABI 1.10 refuse it themselves (FERRITE_SCRIPT_NO_WRITES), counting it as
  // the command's rejected call.
  if (is_write && run->spec.read_only && !FERRITE_HAS_API(&Api(), ctx_acl_check_cmd))
    return fail("ERR Write commands are not allowed from read-only scripts.");
  std::vector<ferrite_slice> sl = Slices(args);
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

// redis.acl_check_cmd(cmd, args...): whether the script's caller may run that command
// with those arguments (Redis 7.0; an unknown command raises).
int AclCheckCmd(lua_State* L) {
  Running* run = E(L)->running();
  if (!run)
    return RaiseError(L, "ERR redis.acl_check_cmd can only be called inside a script invocation");
  std::vector<std::string> args;
  if (const char* err = ArgsFromLua(L, &args)) return RaiseError(L, err);
  std::vector<ferrite_slice> sl = Slices(args);
  int allowed = FERRITE_HAS_API(&Api(), ctx_acl_check_cmd)
                    ? Api().ctx_acl_check_cmd(run->ctx.get(), static_cast<int>(sl.size()), sl.data())
                    : 1;
  if (allowed < 0) return RaiseError(L, "ERR Invalid command passed to redis.acl_check_cmd()");
  lua_pushboolean(L, allowed);
  return 1;
}

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

// The flags table of the named form: every entry a known flag (any case). Stored in
// Redis' order, each once, as FUNCTION LIST shows them. Leaves the stack as it was.
bool ReadFlags(lua_State* L, int table, std::vector<std::string>* out) {
  bool seen[std::size(kKnownFlags)] = {};
  for (int i = 1;; i++) {
    lua_rawgeti(L, table, i);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    bool found = false;
    if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
      const char* flag = lua_tostring(L, -1);
      for (size_t k = 0; k < std::size(kKnownFlags) && !found; k++)
        if (strcasecmp(flag, kKnownFlags[k]) == 0) found = seen[k] = true;
    }
    lua_pop(L, 1);
    if (!found) return false;
  }
  for (size_t k = 0; k < std::size(kKnownFlags); k++)
    if (seen[k]) out->push_back(kKnownFlags[k]);
  return true;
}

// redis.register_function{function_name=, callback=, flags=, description=}: the keys in
// any case, each checked as Redis' luaRegisterFunctionReadNamedArgs checks them (same
// texts). Pushes the callback on success.
const char* ReadNamedArgs(lua_State* L, Function* f) {
  if (!lua_istable(L, 1))
    return "ERR calling redis.register_function with a single argument is only applicable "
           "to Lua table (representing named arguments).";
  bool has_name = false;
  int callback = 0;  // stack slot of the callback, once found
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    // Stack: ..., key, value. lua_tostring on a number key would confuse lua_next.
    if (lua_type(L, -2) != LUA_TSTRING)
      return "ERR named argument key given to redis.register_function is not a string";
    const char* key = lua_tostring(L, -2);
    if (strcasecmp(key, "function_name") == 0) {
      if (!lua_isstring(L, -1))
        return "ERR function_name argument given to redis.register_function must be a string";
      size_t n = 0;
      lua_pushvalue(L, -1);  // a number value is converted on a copy
      const char* v = lua_tolstring(L, -1, &n);
      f->name.assign(v, n);
      lua_pop(L, 1);
      has_name = true;
    } else if (strcasecmp(key, "description") == 0) {
      if (!lua_isstring(L, -1))
        return "ERR description argument given to redis.register_function must be a string";
      size_t n = 0;
      lua_pushvalue(L, -1);
      const char* v = lua_tolstring(L, -1, &n);
      f->description.assign(v, n);
      lua_pop(L, 1);
      f->has_description = true;
    } else if (strcasecmp(key, "callback") == 0) {
      if (!lua_isfunction(L, -1))
        return "ERR callback argument given to redis.register_function must be a function";
      // Keep it below the iteration: move the value under the key.
      lua_insert(L, -2);
      callback = lua_gettop(L) - 1;
      continue;
    } else if (strcasecmp(key, "flags") == 0) {
      if (!lua_istable(L, -1))
        return "ERR flags argument to redis.register_function must be a table representing "
               "function flags";
      f->flags.clear();
      if (!ReadFlags(L, lua_gettop(L), &f->flags)) return "ERR unknown flag given";
    } else {
      return "ERR unknown argument given to redis.register_function";
    }
    lua_pop(L, 1);  // the value; the key stays for lua_next
  }
  if (!has_name) return "ERR redis.register_function must get a function name argument";
  if (!callback) return "ERR redis.register_function must get a callback argument";
  lua_pushvalue(L, callback);
  return nullptr;
}

// redis.register_function(name, callback). Pushes the callback on success.
const char* ReadPositionalArgs(lua_State* L, Function* f) {
  if (!lua_isstring(L, 1))
    return "ERR first argument to redis.register_function must be a string";
  size_t n = 0;
  lua_pushvalue(L, 1);
  const char* v = lua_tolstring(L, -1, &n);
  f->name.assign(v, n);
  lua_pop(L, 1);
  if (!lua_isfunction(L, 2))
    return "ERR second argument to redis.register_function must be a function";
  lua_pushvalue(L, 2);
  return nullptr;
}

int RegisterFunction(lua_State* L) {
  Engine* e = E(L);
  if (!e->pending) return luaL_error(L, "redis.register_function can only be called on FUNCTION LOAD command");
  Function f;
  int argc = lua_gettop(L);
  if (argc < 1 || argc > 2)
    return RaiseError(L, "ERR wrong number of arguments to redis.register_function");
  if (const char* err = argc == 1 ? ReadNamedArgs(L, &f) : ReadPositionalArgs(L, &f))
    return RaiseError(L, err);
  // Redis' functionLibCreateFunction (whose text names libraries for a function name).
  if (!ValidName(f.name))
    return RaiseError(L, "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
  for (auto& p : *e->pending)
    if (NoCaseEq()(p.name, f.name))
      return RaiseError(L, "ERR Function already exists in the library");
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
  lua_pushnumber(L, 0x07000f);  // Redis' REDIS_VERSION_NUM: major << 16 | minor << 8 | patch
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
  SetFn(L, e, "acl_check_cmd", AclCheckCmd);
  SetConstants(L);
  lua_setglobal(L, "redis");

  // What library code sees while FUNCTION LOAD runs it, as Redis 7.0's library API:
  // register_function, log and its levels, the version; no REPL_* (nor set_repl, setresp).
  lua_newtable(L);
  SetFn(L, e, "register_function", RegisterFunction);
  SetFn(L, e, "log", Log);
  SetConstants(L);
  for (const char* name : {"REPL_NONE", "REPL_AOF", "REPL_SLAVE", "REPL_REPLICA", "REPL_ALL"}) {
    lua_pushnil(L);
    lua_setfield(L, -2, name);
  }
  e->refs.load_redis = luaL_ref(L, LUA_REGISTRYINDEX);
}

}  // namespace ferrite::mod::scripting
