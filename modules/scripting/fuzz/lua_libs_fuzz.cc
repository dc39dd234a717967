// libFuzzer target for the parsers scripts feed with untrusted bytes: cjson.decode,
// cmsgpack.unpack (and unpack_limit from each offset it returns) and struct.unpack (modules/scripting/lua_libs.cc). The first input
// byte picks the parser; for struct.unpack the rest is "format\0data". A parser may
// reject its input with a Lua error — that is the expected outcome for garbage — but it
// must not crash or read out of bounds. Whatever cjson.decode / cmsgpack.unpack accept
// is re-encoded and decoded again, to drive the encoders with odd shapes too. (The
// second decode may fail, as in Redis: cmsgpack.pack writes nil for tables nested
// deeper than 16 and a nil map key does not decode.)
//
// Built with FERRITE_FUZZ=ON (clang, -fsanitize=fuzzer,address,undefined):
//   build/fuzz/modules/scripting/scripting_libs_fuzz -max_total_time=60
//     modules/scripting/fuzz/corpus
// The committed corpus is also replayed by the normal test build (lua_libs_corpus_test).
#include <lua.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine.h"

namespace {

lua_State* State() {
  static lua_State* L = [] {
    lua_State* s = luaL_newstate();
    luaL_openlibs(s);
    ferrite::mod::scripting::InstallLibraries(s);
    return s;
  }();
  return L;
}

void Abort(const char* why) {
  fprintf(stderr, "lua_libs_fuzz: %s\n", why);
  abort();
}

// Calls lib.fn(args...) on the stack; returns the number of results or -1 on a Lua error.
int Call(lua_State* L, const char* lib, const char* fn, int nargs) {
  lua_getglobal(L, lib);
  lua_getfield(L, -1, fn);
  lua_remove(L, -2);
  lua_insert(L, -(nargs + 1));
  int base = lua_gettop(L) - nargs - 1;
  if (lua_pcall(L, nargs, LUA_MULTRET, 0) != 0) {
    lua_pop(L, 1);
    return -1;
  }
  return lua_gettop(L) - base;
}

// value on top → encode → decode; pops the value.
void RoundTrip(lua_State* L, const char* lib, const char* enc, const char* dec) {
  if (Call(L, lib, enc, 1) != 1) return;  // e.g. cjson refuses sparse arrays: fine
  if (!lua_isstring(L, -1)) Abort("an encoder returned a non-string");
  Call(L, lib, dec, 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  lua_State* L = State();
  int top = lua_gettop(L);
  const char* body = reinterpret_cast<const char*>(data + 1);
  size_t n = size - 1;
  switch (data[0] % 3) {
    case 0:
      lua_pushlstring(L, body, n);
      if (Call(L, "cjson", "decode", 1) == 1) RoundTrip(L, "cjson", "encode", "decode");
      break;
    case 1: {
      lua_pushlstring(L, body, n);
      int got = Call(L, "cmsgpack", "unpack", 1);
      if (got >= 1) {
        lua_settop(L, top + 1);  // keep the first value
        RoundTrip(L, "cmsgpack", "pack", "unpack");
      }
      // The same bytes one value at a time, as unpack_limit(s, 1, offset) walks a stream:
      // each call must move forward, and -1 ends it.
      lua_settop(L, top);
      lua_Integer off = 0;
      for (int k = 0; k < 64 && off >= 0; k++) {
        lua_pushlstring(L, body, n);
        lua_pushinteger(L, 1);
        lua_pushinteger(L, off);
        if (Call(L, "cmsgpack", "unpack_limit", 3) < 1) break;
        lua_Integer next = lua_tointeger(L, top + 1);
        lua_settop(L, top);
        if (next != -1 && (next <= off || static_cast<size_t>(next) > n))
          Abort("unpack_limit returned a bad next offset");
        off = next;
      }
      break;
    }
    default: {
      const char* nul = static_cast<const char*>(memchr(body, 0, n));
      size_t flen = nul ? static_cast<size_t>(nul - body) : n;
      if (flen > 64) break;  // long formats only repeat what short ones cover
      std::string fmt(body, flen);
      lua_pushstring(L, fmt.c_str());
      lua_pushlstring(L, nul ? nul + 1 : body + n, nul ? n - flen - 1 : 0);
      Call(L, "struct", "unpack", 2);
      break;
    }
  }
  lua_settop(L, top);
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
