// The sandbox: which globals a script sees and how they are protected. Mirrors Redis 7.0.15:
// no io/os/package/require/debug/ffi/jit/setfenv/getfenv/print/newproxy; globals and the
// library tables are read-only ("Attempt to modify a readonly table"); reading an unknown
// global raises "Script attempted to access nonexistent global variable 'x'"; loadstring
// and load accept source text only (no bytecode).
//
// NOTE: Redis marks tables read-only inside its patched Lua VM. LuaJIT has no such flag,
// so each protected table is an empty proxy whose metatable (locked with __metatable)
// forwards reads and refuses writes; rawset is wrapped to refuse proxies. pairs and next
// are wrapped to iterate the table a proxy stands for, so pairs(_G) lists the globals as
// in Redis; they hand out only what reading through the proxy already gives.
#include <lua.hpp>

#include <string>

#include "engine.h"

namespace ferrite::mod::scripting {

namespace {

const char kProtectedKey[] = "ferrite.protected";
const char kTargetKey[] = "ferrite.proxy_target";  // weak proxy → the table it stands for

int ReadonlyError(lua_State* L) { return luaL_error(L, "Attempt to modify a readonly table"); }

// __index of a script environment: upvalue 1 is the table holding the real globals.
int EnvIndex(lua_State* L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (!lua_isnil(L, -1)) return 1;
  const char* name = lua_tostring(L, 2);
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                    name ? name : "?");
}

void MarkProtected(lua_State* L, int idx) {
  if (idx < 0 && idx > LUA_REGISTRYINDEX) idx = lua_gettop(L) + idx + 1;
  lua_getfield(L, LUA_REGISTRYINDEX, kProtectedKey);
  lua_pushvalue(L, idx);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

// Replaces the table at the top with a read-only proxy of it. With `strict`, reading a
// missing field raises (as for the global environment).
// A strict proxy (an environment) shows getmetatable() a read-only table whose __index
// is the lookup function, as Redis' read-only globals show their metatable: a script
// that reaches for it to change the globals meets "Attempt to modify a readonly table".
// Other proxies show false.
void MakeProxy(lua_State* L, bool strict) {
  lua_newtable(L);                 // t proxy
  lua_newtable(L);                 // t proxy mt
  if (strict) {
    lua_pushvalue(L, -3);
    lua_pushcclosure(L, EnvIndex, 1);
  } else {
    lua_pushvalue(L, -3);
  }
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadonlyError);
  lua_setfield(L, -2, "__newindex");
  if (strict) {
    lua_newtable(L);               // t proxy mt shown
    lua_getfield(L, -2, "__index");
    lua_setfield(L, -2, "__index");
    MakeProxy(L, false);
  } else {
    lua_pushboolean(L, 0);
  }
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);         // t proxy
  lua_getfield(L, LUA_REGISTRYINDEX, kTargetKey);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -4);
  lua_rawset(L, -3);               // targets[proxy] = t
  lua_pop(L, 1);
  lua_remove(L, -2);               // proxy
  MarkProtected(L, -1);
}

// Replaces the table at idx with the table it proxies, if it is a read-only proxy.
void UnwrapProxy(lua_State* L, int idx) {
  lua_getfield(L, LUA_REGISTRYINDEX, kTargetKey);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  if (lua_istable(L, -1)) lua_replace(L, idx);
  else lua_pop(L, 1);
  lua_pop(L, 1);
}

int SafeNext(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  UnwrapProxy(L, 1);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

// pairs(t): the built-in next (upvalue 1) for plain tables, SafeNext for proxies.
int SafePairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, LUA_REGISTRYINDEX, kTargetKey);
  lua_pushvalue(L, 1);
  lua_rawget(L, -2);
  bool proxy = lua_istable(L, -1);
  lua_pop(L, 2);
  if (proxy) lua_pushcfunction(L, SafeNext);
  else lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

bool IsProtected(lua_State* L, int idx) {
  lua_getfield(L, LUA_REGISTRYINDEX, kProtectedKey);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  bool prot = lua_toboolean(L, -1);
  lua_pop(L, 2);
  return prot;
}

// setmetatable on a read-only table fails as a write to it (Redis' Lua says so, where
// the built-in names the protected metatable). Upvalue 1: the built-in.
int SafeSetmetatable(lua_State* L) {
  if (lua_istable(L, 1) && IsProtected(L, 1)) {
    lua_pushliteral(L, "Attempt to modify a readonly table");  // no position, as Redis
    return lua_error(L);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int SafeRawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (IsProtected(L, 1)) return ReadonlyError(L);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

// loadstring/load for scripts: source text only; the chunk runs in the script env.
int LoadText(lua_State* L, const char* s, size_t n, const char* name) {
  if (luaL_loadbufferx(L, s, n, name, "t") != 0) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX,
              static_cast<Engine*>(lua_touserdata(L, lua_upvalueindex(1)))->refs.env);
  lua_setfenv(L, -2);
  return 1;
}

int SafeLoadstring(lua_State* L) {
  size_t n = 0;
  const char* s = luaL_checklstring(L, 1, &n);
  const char* name = luaL_optstring(L, 2, s);
  return LoadText(L, s, n, name);
}

int SafeLoad(lua_State* L) {
  if (lua_type(L, 1) == LUA_TSTRING) return SafeLoadstring(L);
  luaL_checktype(L, 1, LUA_TFUNCTION);
  const char* name = luaL_optstring(L, 2, "=(load)");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (;;) {
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    if (!lua_isstring(L, -1)) return luaL_error(L, "reader function must return a string");
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  size_t n = 0;
  const char* s = lua_tolstring(L, -1, &n);
  return LoadText(L, s, n, name);
}

// Coroutines. LuaJIT runs every resume on the C stack of its resumer and, unlike PUC
// Lua, sets no limit: a chain of coroutines resuming one another exhausts the memory (a
// few KB each) or the stack and kills the server. PUC Lua's lua_resume answers
// "C stack overflow" past LUAI_MAXCCALLS (200) nested C calls; resume and the functions
// coroutine.wrap returns do the same here past 200 nested resumes. Upvalue 1 is the
// engine, upvalue 2 the original function.
constexpr int kMaxResumeDepth = 200;

// Calls upvalue 2 with this call's arguments, counting the nesting; false when too deep.
bool NestedResume(lua_State* L, int* nresults) {
  auto* e = static_cast<Engine*>(lua_touserdata(L, lua_upvalueindex(1)));
  if (e->resume_depth >= kMaxResumeDepth) return false;
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  e->resume_depth++;
  int rc = lua_pcall(L, n, LUA_MULTRET, 0);
  e->resume_depth--;
  if (rc != 0) lua_error(L);
  *nresults = lua_gettop(L);
  return true;
}

int SafeResume(lua_State* L) {
  luaL_argcheck(L, lua_type(L, 1) == LUA_TTHREAD, 1, "coroutine expected");
  int n = 0;
  if (NestedResume(L, &n)) return n;
  lua_pushboolean(L, 0);
  lua_pushliteral(L, "C stack overflow");
  return 2;
}

int WrappedCoroutine(lua_State* L) {
  int n = 0;
  if (!NestedResume(L, &n)) return luaL_error(L, "C stack overflow");
  return n;
}

// coroutine.create / coroutine.wrap take Lua functions only, as in PUC Lua (Redis).
void CheckCoroutineBody(lua_State* L) {
  luaL_argcheck(L, lua_isfunction(L, 1) && !lua_iscfunction(L, 1), 1, "Lua function expected");
}

int SafeCreate(lua_State* L) {
  CheckCoroutineBody(L);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

int SafeWrap(lua_State* L) {
  CheckCoroutineBody(L);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, 1, 1);  // the original wrapper around the new coroutine
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, -2);
  lua_pushcclosure(L, WrappedCoroutine, 2);
  return 1;
}

void WrapCoroutineLib(lua_State* L, Engine* e) {
  lua_getglobal(L, "coroutine");
  struct Replacement {
    const char* name;
    lua_CFunction fn;
  };
  for (auto [name, fn] : {Replacement{"resume", SafeResume}, Replacement{"wrap", SafeWrap},
                          Replacement{"create", SafeCreate}}) {
    lua_pushlightuserdata(L, e);
    lua_getfield(L, -2, name);
    lua_pushcclosure(L, fn, 2);
    lua_setfield(L, -2, name);
  }
  lua_pop(L, 1);
}

// Redis' error handler: string errors become {err='ERR '..msg}; source/line of the
// Lua frame that raised are attached for the "script: x, on @user_script:N." suffix.
const char kErrorHandler[] = R"(
local getinfo, type, tostring = ...
return function(err)
  local i = getinfo(2, 'nSl')
  if i and i.what == 'C' then i = getinfo(3, 'nSl') end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
)";

void RemoveGlobals(lua_State* L, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    lua_pushnil(L);
    lua_setfield(L, LUA_GLOBALSINDEX, n);
  }
}

}  // namespace

void InstallSandbox(lua_State* L, Engine* e) {
  for (const char* key : {kProtectedKey, kTargetKey}) {  // weak-keyed: proxies may die
    lua_newtable(L);
    lua_newtable(L);
    lua_pushstring(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, key);
  }

  luaopen_base(L);
  luaopen_table(L);
  luaopen_string(L);
  luaopen_math(L);
  luaopen_bit(L);
  luaopen_debug(L);
  lua_settop(L, 0);

  // The error handler keeps debug.getinfo; scripts never see `debug`.
  luaL_loadbuffer(L, kErrorHandler, sizeof(kErrorHandler) - 1, "=errh");
  lua_getglobal(L, "debug");
  lua_getfield(L, -1, "getinfo");
  lua_remove(L, -2);
  lua_getglobal(L, "type");
  lua_getglobal(L, "tostring");
  lua_call(L, 3, 1);
  e->refs.errh = luaL_ref(L, LUA_REGISTRYINDEX);

  RemoveGlobals(L, {"debug", "setfenv", "getfenv", "print", "newproxy", "dofile", "loadfile",
                    "require", "module", "package", "jit", "ffi", "os", "io"});
  // Lua 5.1 names Redis scripts may use that LuaJIT spells differently or lacks.
  lua_getglobal(L, "string");
  lua_getfield(L, -1, "gfind");
  if (lua_isnil(L, -1)) {
    lua_getfield(L, -2, "gmatch");
    lua_setfield(L, -3, "gfind");
  }
  lua_pop(L, 2);
  lua_getglobal(L, "math");
  lua_getfield(L, -1, "mod");
  if (lua_isnil(L, -1)) {
    lua_getfield(L, -2, "fmod");
    lua_setfield(L, -3, "mod");
  }
  lua_pop(L, 2);

  lua_pushlightuserdata(L, e);
  lua_pushcclosure(L, SafeLoadstring, 1);
  lua_setglobal(L, "loadstring");
  lua_pushlightuserdata(L, e);
  lua_pushcclosure(L, SafeLoad, 1);
  lua_setglobal(L, "load");
  lua_pushcfunction(L, SafeRawset);
  lua_setglobal(L, "rawset");
  lua_getglobal(L, "setmetatable");
  lua_pushcclosure(L, SafeSetmetatable, 1);
  lua_setglobal(L, "setmetatable");
  lua_getglobal(L, "next");
  lua_pushcclosure(L, SafePairs, 1);
  lua_setglobal(L, "pairs");
  lua_pushcfunction(L, SafeNext);
  lua_setglobal(L, "next");

  WrapCoroutineLib(L, e);
  InstallLibraries(L);
  InstallRedisLib(L, e);  // sets refs.run_redis / refs.load_redis (raw tables)

  // Library tables become read-only proxies.
  for (const char* lib : {"string", "math", "table", "bit", "coroutine", "cjson", "cmsgpack",
                          "struct", "redis"}) {
    lua_getglobal(L, lib);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    MakeProxy(L, false);
    if (std::string_view(lib) == "string") {
      // "":upper() keeps working; getmetatable("") yields the read-only proxy.
      lua_pushstring(L, "");
      lua_getmetatable(L, -1);
      lua_pushvalue(L, -3);
      lua_setfield(L, -2, "__metatable");
      lua_pop(L, 2);
    }
    if (std::string_view(lib) == "redis") {
      lua_pushvalue(L, -1);
      e->refs.run_redis = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_setglobal(L, lib);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->refs.load_redis);
  MakeProxy(L, true);
  luaL_unref(L, LUA_REGISTRYINDEX, e->refs.load_redis);
  e->refs.load_redis = luaL_ref(L, LUA_REGISTRYINDEX);

  // Function libraries get their own globals (a shallow copy: no KEYS/ARGV).
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, LUA_GLOBALSINDEX)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  lua_pushvalue(L, -1);
  e->refs.lib_globals = luaL_ref(L, LUA_REGISTRYINDEX);
  MakeProxy(L, true);
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->refs.lib_globals);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "_G");
  lua_pop(L, 1);
  e->refs.lib_env = luaL_ref(L, LUA_REGISTRYINDEX);
  // What the library's top-level code sees while FUNCTION LOAD runs it: `redis` (the load
  // variant) and nothing else, as Redis 7.0's library API globals.
  lua_newtable(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->refs.load_redis);
  lua_setfield(L, -2, "redis");
  e->refs.load_globals = luaL_ref(L, LUA_REGISTRYINDEX);

  // The script environment: a strict read-only proxy over the real globals.
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  e->refs.globals = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  MakeProxy(L, true);
  lua_pushvalue(L, -1);
  lua_setglobal(L, "_G");
  e->refs.env = luaL_ref(L, LUA_REGISTRYINDEX);
}

// The library environment is one proxy (the functions keep it as their environment):
// its lookups go to load_globals while the library loads, to lib_globals when its
// functions run, as Redis swaps the __index of its globals' metatable.
void Engine::SetLibraryPhase(bool loading) {
  lua_State* L = L_;
  lua_rawgeti(L, LUA_REGISTRYINDEX, refs.lib_env);
  lua_getmetatable(L, -1);
  lua_getfield(L, -1, "__index");  // EnvIndex; upvalue 1 is the table it reads
  lua_rawgeti(L, LUA_REGISTRYINDEX, loading ? refs.load_globals : refs.lib_globals);
  lua_setupvalue(L, -2, 1);
  lua_pop(L, 3);
}

}  // namespace ferrite::mod::scripting
