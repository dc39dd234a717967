// Conversions between captured Redis replies and Lua values, with Redis 7.0's rules
// (script_lua.c redisProtocolToLuaType_* and luaReplyToRedisReply).
#include <lua.hpp>

#include <string>

#include "engine.h"

namespace ferrite::mod::scripting {

using sdk::Api;

void PushErrorTable(lua_State* L, std::string_view text) {
  lua_newtable(L);
  lua_pushlstring(L, text.data(), text.size());
  lua_setfield(L, -2, "err");
}

void ReplyScriptError(lua_State* L, sdk::Ctx ctx, std::string_view msg) {
  lua_getfield(L, -1, "ignore_error_stats_update");
  bool counted = lua_toboolean(L, -1);
  lua_pop(L, 1);
  const auto& a = Api();
  if (counted && FERRITE_HAS_API(&a, reply_error_counted))
    a.reply_error_counted(ctx.get(), FERRITE_E_GENERIC, msg.data(), msg.size());
  else
    ctx.Error(msg);
}

namespace {

void PushString(lua_State* L, ferrite_slice s) { lua_pushlstring(L, s.ptr, s.len); }


void PushAggregate(lua_State* L, const ferrite_call_reply* r, int resp) {
  const auto& a = Api();
  size_t n = a.call_reply_length(r);
  auto type = a.call_reply_type(r);
  if (resp == 3 && type == FERRITE_REPLY_MAP) {
    lua_newtable(L);
    lua_newtable(L);
    for (size_t i = 0; i + 1 < n; i += 2) {
      PushCallReply(L, a.call_reply_element(r, i), resp);
      PushCallReply(L, a.call_reply_element(r, i + 1), resp);
      lua_settable(L, -3);
    }
    lua_setfield(L, -2, "map");
    return;
  }
  if (resp == 3 && type == FERRITE_REPLY_SET) {
    lua_newtable(L);
    lua_newtable(L);
    for (size_t i = 0; i < n; i++) {
      PushCallReply(L, a.call_reply_element(r, i), resp);
      lua_pushboolean(L, 1);
      lua_settable(L, -3);
    }
    lua_setfield(L, -2, "set");
    return;
  }
  lua_createtable(L, static_cast<int>(n), 0);
  for (size_t i = 0; i < n; i++) {
    PushCallReply(L, a.call_reply_element(r, i), resp);
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

}  // namespace

void PushCallReply(lua_State* L, const ferrite_call_reply* r, int resp) {
  const auto& a = Api();
  lua_checkstack(L, 8);
  switch (a.call_reply_type(r)) {
    case FERRITE_REPLY_SIMPLE:
      lua_newtable(L);
      PushString(L, a.call_reply_string(r));
      lua_setfield(L, -2, "ok");
      return;
    case FERRITE_REPLY_ERROR: {
      ferrite_slice s = a.call_reply_error_text(r);
      PushErrorTable(L, {s.ptr, s.len});
      // Counted already, when the called command replied it (or call() refused it): a
      // script passing it on must not count it again (Redis sets the same field).
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "ignore_error_stats_update");
      return;
    }
    case FERRITE_REPLY_INTEGER:
      lua_pushnumber(L, static_cast<lua_Number>(a.call_reply_integer(r)));
      return;
    case FERRITE_REPLY_BOOL:
      if (resp == 3) lua_pushboolean(L, a.call_reply_integer(r) != 0);
      else lua_pushnumber(L, a.call_reply_integer(r) ? 1 : 0);
      return;
    case FERRITE_REPLY_DOUBLE:
      if (resp == 3) {
        lua_newtable(L);
        lua_pushnumber(L, a.call_reply_double(r));
        lua_setfield(L, -2, "double");
      } else if (ferrite_slice text = a.call_reply_string(r); text.len > 0) {
        PushString(L, text);  // a double sent with its own digits (reply_double_text)
      } else {
        std::string s = sdk::FormatDouble(a.call_reply_double(r));
        lua_pushlstring(L, s.data(), s.size());
      }
      return;
    case FERRITE_REPLY_BULK: PushString(L, a.call_reply_string(r)); return;
    case FERRITE_REPLY_VERBATIM:
      if (resp == 3) {
        lua_newtable(L);
        lua_newtable(L);
        if (FERRITE_HAS_API(&a, call_reply_verbatim_format))
          PushString(L, a.call_reply_verbatim_format(r));
        else
          lua_pushstring(L, "txt");
        lua_setfield(L, -2, "format");
        PushString(L, a.call_reply_string(r));
        lua_setfield(L, -2, "string");
        lua_setfield(L, -2, "verbatim_string");
      } else {
        PushString(L, a.call_reply_string(r));
      }
      return;
    case FERRITE_REPLY_BIGNUM:
      if (resp == 3) {
        lua_newtable(L);
        PushString(L, a.call_reply_string(r));
        lua_setfield(L, -2, "big_number");
      } else {
        PushString(L, a.call_reply_string(r));
      }
      return;
    case FERRITE_REPLY_NULL:
    case FERRITE_REPLY_NULL_ARRAY:
      if (resp == 3) lua_pushnil(L);
      else lua_pushboolean(L, 0);
      return;
    case FERRITE_REPLY_ARRAY:
    case FERRITE_REPLY_MAP:
    case FERRITE_REPLY_SET:
    case FERRITE_REPLY_PUSH: PushAggregate(L, r, resp); return;
  }
  lua_pushboolean(L, 0);
}

namespace {

// Returns true (leaving the field on the stack) when table at -1 has field `f` of type t.
// Raw reads (as Redis 7.0): a returned table's metamethods never run while its reply is
// built (a script's __index could raise, or call redis, outside the script's run).
bool Field(lua_State* L, const char* f, int t) {
  lua_pushstring(L, f);
  lua_rawget(L, -2);
  if (lua_type(L, -1) == t) return true;
  lua_pop(L, 1);
  return false;
}

std::string_view ToSV(lua_State* L, int idx) {
  size_t n = 0;
  const char* s = lua_tolstring(L, idx, &n);
  return {s, n};
}

void ReplyTable(lua_State* L, sdk::Ctx ctx, int resp, int depth) {
  const auto& a = Api();
  if (Field(L, "err", LUA_TSTRING)) {
    std::string msg(ToSV(L, -1));
    lua_pop(L, 1);
    ReplyScriptError(L, ctx, msg);
    return;
  }
  if (Field(L, "ok", LUA_TSTRING)) {
    std::string s(ToSV(L, -1));
    lua_pop(L, 1);
    for (auto& ch : s)
      if (ch == '\r' || ch == '\n') ch = ' ';
    ctx.Simple(s);
    return;
  }
  if (Field(L, "double", LUA_TNUMBER)) {
    double d = lua_tonumber(L, -1);
    lua_pop(L, 1);
    ctx.Double(d);
    return;
  }
  if (Field(L, "big_number", LUA_TSTRING)) {
    // As Redis: CR and LF become spaces (a RESP3 big number is a line of its own).
    std::string s(ToSV(L, -1));
    lua_pop(L, 1);
    for (auto& ch : s)
      if (ch == '\r' || ch == '\n') ch = ' ';
    a.reply_bignum(ctx.get(), s.data(), s.size());
    return;
  }
  if (Field(L, "map", LUA_TTABLE)) {
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      n++;
      lua_pop(L, 1);
    }
    ctx.Map(n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      ReplyLuaValue(L, ctx, resp, depth + 1);
      lua_pop(L, 1);
      ReplyLuaValue(L, ctx, resp, depth + 1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return;
  }
  if (Field(L, "set", LUA_TTABLE)) {
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      n++;
      lua_pop(L, 1);
    }
    ctx.Set(n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pop(L, 1);
      ReplyLuaValue(L, ctx, resp, depth + 1);
    }
    lua_pop(L, 1);
    return;
  }
  if (Field(L, "verbatim_string", LUA_TTABLE)) {
    lua_pushstring(L, "format");
    lua_rawget(L, -2);
    lua_pushstring(L, "string");
    lua_rawget(L, -3);
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
      std::string fmt(ToSV(L, -2));
      auto s = ToSV(L, -1);
      a.reply_verbatim(ctx.get(), fmt.c_str(), s.data(), s.size());
      lua_pop(L, 3);
      return;
    }
    lua_pop(L, 3);
  }
  // An array: elements 1..n, stopping at the first nil.
  size_t n = 0;
  while (true) {
    lua_rawgeti(L, -1, static_cast<int>(n + 1));
    bool nil = lua_isnil(L, -1);
    lua_pop(L, 1);
    if (nil) break;
    n++;
  }
  ctx.Array(n);
  for (size_t i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, static_cast<int>(i));
    ReplyLuaValue(L, ctx, resp, depth + 1);
    lua_pop(L, 1);
  }
}

}  // namespace

void ReplyLuaValue(lua_State* L, sdk::Ctx ctx, int resp, int depth) {
  lua_checkstack(L, 8);
  if (depth > 1000) {  // NOTE: self-referencing tables would recurse forever.
    ctx.Error("ERR reached lua stack limit");
    return;
  }
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: ctx.Bulk(ToSV(L, -1)); return;
    case LUA_TBOOLEAN:
      if (resp == 3) ctx.Bool(lua_toboolean(L, -1));
      else if (lua_toboolean(L, -1)) ctx.Int(1);
      else ctx.Null();
      return;
    case LUA_TNUMBER: ctx.Int(static_cast<int64_t>(lua_tonumber(L, -1))); return;
    case LUA_TTABLE: ReplyTable(L, ctx, resp, depth); return;
    default: ctx.Null(); return;
  }
}

}  // namespace ferrite::mod::scripting
