// The libraries Redis scripts rely on, written against the Lua C API: cjson (encode,
// decode, null, encode_max_depth, decode_max_depth, encode_invalid_numbers,
// encode_keep_buffer), cmsgpack (pack, unpack, unpack_one, unpack_limit) and struct
// (pack, unpack, size). `bit` is
// LuaJIT's own. Debian's lua-cjson targets PUC Lua, hence these compact versions.
#include <lua.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <new>
#include <string>

#include "engine.h"

namespace ferrite::mod::scripting {

namespace {

// ------------------------------- cjson -------------------------------------------------

bool IsArray(lua_State* L, int idx, size_t* len) {
  size_t max = 0, count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) {
      lua_pop(L, 1);
      return false;
    }
    double k = lua_tonumber(L, -1);
    if (k < 1 || std::floor(k) != k || k > 9007199254740992.0) {  // 2^53: not an index
      lua_pop(L, 1);
      return false;
    }
    max = std::max(max, static_cast<size_t>(k));
    count++;
  }
  *len = max;
  return max == count || max <= count * 2 + 10;  // sparse arrays are padded with null
}

void JsonString(std::string* out, const char* s, size_t n) {
  out->push_back('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '/': *out += "\\/"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char b[8];
          snprintf(b, sizeof b, "\\u%04x", c);
          *out += b;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// lua-cjson's per-state settings that scripts can change (Redis' suite and scripts call
// them): kept in a userdata in the registry, created on first use with lua-cjson's
// defaults. encode_keep_buffer only chooses whether lua-cjson reuses its encode buffer;
// encoding here always builds a fresh string, so the setting is kept and reported.
struct JsonConfig {
  int encode_max_depth = 1000;
  int decode_max_depth = 1000;
  int encode_invalid_numbers = 0;  // 0 refuse, 1 allow ("nan", "inf"), 2 encode as null
  bool encode_keep_buffer = true;
};
constexpr char kJsonConfigKey[] = "ferrite.cjson.config";

JsonConfig* Config(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kJsonConfigKey);
  auto* cfg = static_cast<JsonConfig*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  if (cfg) return cfg;
  cfg = static_cast<JsonConfig*>(lua_newuserdata(L, sizeof(JsonConfig)));
  new (cfg) JsonConfig();
  lua_setfield(L, LUA_REGISTRYINDEX, kJsonConfigKey);
  return cfg;
}

// encode_max_depth([n]) / decode_max_depth([n]): 1..2^31-1; returns the setting.
int DepthOption(lua_State* L, int JsonConfig::*field) {
  JsonConfig* cfg = Config(L);
  luaL_argcheck(L, lua_gettop(L) <= 1, 1, "found too many arguments");
  if (!lua_isnoneornil(L, 1)) {
    lua_Number n = luaL_checknumber(L, 1);
    if (!(n >= 1 && n <= 2147483647.0) || std::floor(n) != n)
      luaL_argerror(L, 1, "expected integer between 1 and 2147483647");
    cfg->*field = static_cast<int>(n);
  }
  lua_pushinteger(L, cfg->*field);
  return 1;
}
int CjsonEncodeMaxDepth(lua_State* L) { return DepthOption(L, &JsonConfig::encode_max_depth); }
int CjsonDecodeMaxDepth(lua_State* L) { return DepthOption(L, &JsonConfig::decode_max_depth); }

// An on/off option as lua-cjson reads it: a boolean, or one of `names` (index = value).
int EnumOption(lua_State* L, int* value, std::initializer_list<const char*> names) {
  luaL_argcheck(L, lua_gettop(L) <= 1, 1, "found too many arguments");
  if (lua_isboolean(L, 1)) {
    *value = lua_toboolean(L, 1);
  } else if (!lua_isnoneornil(L, 1)) {
    const char* v = luaL_checkstring(L, 1);
    int i = 0;
    bool found = false;
    for (const char* n : names) {
      if (strcmp(n, v) == 0) {
        *value = i;
        found = true;
        break;
      }
      i++;
    }
    if (!found) luaL_argerror(L, 1, lua_pushfstring(L, "invalid option '%s'", v));
  }
  if (*value <= 1) lua_pushboolean(L, *value);
  else lua_pushstring(L, *(names.begin() + *value));
  return 1;
}
int CjsonEncodeInvalidNumbers(lua_State* L) {
  return EnumOption(L, &Config(L)->encode_invalid_numbers, {"off", "on", "null"});
}
int CjsonEncodeKeepBuffer(lua_State* L) {
  JsonConfig* cfg = Config(L);
  int v = cfg->encode_keep_buffer;
  int rc = EnumOption(L, &v, {"off", "on"});
  cfg->encode_keep_buffer = v;
  return rc;
}

void JsonEncode(lua_State* L, int idx, std::string* out, int depth) {
  const JsonConfig* cfg = Config(L);
  if (depth >= cfg->encode_max_depth && lua_type(L, idx) == LUA_TTABLE)
    luaL_error(L, "Cannot serialise, excessive nesting (%d)", depth + 1);
  switch (lua_type(L, idx)) {
    case LUA_TNIL: *out += "null"; return;
    case LUA_TBOOLEAN: *out += lua_toboolean(L, idx) ? "true" : "false"; return;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == nullptr) {
        *out += "null";
        return;
      }
      break;
    case LUA_TNUMBER: {
      double d = lua_tonumber(L, idx);
      if (std::isinf(d) || std::isnan(d)) {
        if (cfg->encode_invalid_numbers == 0)
          luaL_error(L, "Cannot serialise number: must not be NaN or Inf");
        if (cfg->encode_invalid_numbers == 2) {
          *out += "null";
          return;
        }
      }
      char b[64];
      snprintf(b, sizeof b, "%.14g", d);
      *out += b;
      return;
    }
    case LUA_TSTRING: {
      size_t n = 0;
      const char* s = lua_tolstring(L, idx, &n);
      JsonString(out, s, n);
      return;
    }
    case LUA_TTABLE: {
      lua_checkstack(L, 6);
      size_t len = 0;
      if (IsArray(L, idx, &len)) {
        if (len == 0) {
          *out += "{}";
          return;
        }
        out->push_back('[');
        for (size_t i = 1; i <= len; i++) {
          if (i > 1) out->push_back(',');
          lua_rawgeti(L, idx, static_cast<int>(i));
          JsonEncode(L, lua_gettop(L), out, depth + 1);
          lua_pop(L, 1);
        }
        out->push_back(']');
        return;
      }
      out->push_back('{');
      bool first = true;
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        if (!first) out->push_back(',');
        first = false;
        int kt = lua_type(L, -2);
        if (kt == LUA_TSTRING) {
          size_t n = 0;
          const char* s = lua_tolstring(L, -2, &n);
          JsonString(out, s, n);
        } else if (kt == LUA_TNUMBER) {
          lua_pushvalue(L, -2);
          size_t n = 0;
          const char* s = lua_tolstring(L, -1, &n);
          JsonString(out, s, n);
          lua_pop(L, 1);
        } else {
          luaL_error(L, "Cannot serialise %s: table key must be a number or string",
                     lua_typename(L, kt));
        }
        out->push_back(':');
        JsonEncode(L, lua_gettop(L), out, depth + 1);
        lua_pop(L, 1);
      }
      out->push_back('}');
      return;
    }
    default: break;
  }
  luaL_error(L, "Cannot serialise %s: type not supported", luaL_typename(L, idx));
}

int CjsonEncode(lua_State* L) {
  luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
  std::string out;
  JsonEncode(L, 1, &out, 0);
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

struct JsonParser {
  lua_State* L;
  const char* s;
  size_t n, i = 0;
  int max_depth = 1000;
  int depth = 0;

  [[noreturn]] void Fail(const char* what) {
    luaL_error(L, "Expected %s but found %s at character %d", what,
               i >= n ? "T_END" : "invalid token", static_cast<int>(i + 1));
    abort();
  }
  void Ws() {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  }
  void Utf8(std::string* out, unsigned cp) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  unsigned Hex4() {
    if (i + 4 > n) Fail("unicode escape");
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
      char c = s[i++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else Fail("unicode escape");
    }
    return v;
  }
  void String() {
    std::string out;
    i++;
    while (true) {
      if (i >= n) Fail("string end");
      char c = s[i++];
      if (c == '"') break;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i >= n) Fail("escape");
      char e = s[i++];
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'u': {
          unsigned cp = Hex4();
          if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < n && s[i] == '\\' && s[i + 1] == 'u') {
            i += 2;
            unsigned lo = Hex4();
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          Utf8(&out, cp);
          break;
        }
        default: out.push_back(e);
      }
    }
    lua_pushlstring(L, out.data(), out.size());
  }
  void Value() {
    Ws();
    if (i >= n) Fail("value");
    lua_checkstack(L, 4);
    char c = s[i];
    if (c == '{' || c == '[') {
      // lua-cjson's json_decode_descend: objects and arrays count, scalars do not.
      if (++depth > max_depth)
        luaL_error(L, "Found too many nested data structures (%d) at character %d", depth,
                   static_cast<int>(i + 1));
    }
    if (c == '{') {
      i++;
      lua_newtable(L);
      Ws();
      if (i < n && s[i] == '}') {
        i++;
      } else {
        while (true) {
          Ws();
          if (i >= n || s[i] != '"') Fail("object key string");
          String();
          Ws();
          if (i >= n || s[i] != ':') Fail("colon");
          i++;
          Value();
          lua_rawset(L, -3);
          Ws();
          if (i < n && s[i] == ',') {
            i++;
            continue;
          }
          if (i < n && s[i] == '}') {
            i++;
            break;
          }
          Fail("comma or object end");
        }
      }
    } else if (c == '[') {
      i++;
      lua_newtable(L);
      Ws();
      int k = 1;
      if (i < n && s[i] == ']') {
        i++;
      } else {
        while (true) {
          Value();
          lua_rawseti(L, -2, k++);
          Ws();
          if (i < n && s[i] == ',') {
            i++;
            continue;
          }
          if (i < n && s[i] == ']') {
            i++;
            break;
          }
          Fail("comma or array end");
        }
      }
    } else if (c == '"') {
      String();
    } else if (n - i >= 4 && memcmp(s + i, "true", 4) == 0) {
      i += 4;
      lua_pushboolean(L, 1);
    } else if (n - i >= 5 && memcmp(s + i, "false", 5) == 0) {
      i += 5;
      lua_pushboolean(L, 0);
    } else if (n - i >= 4 && memcmp(s + i, "null", 4) == 0) {
      i += 4;
      lua_pushlightuserdata(L, nullptr);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      std::string num(s + i, std::min<size_t>(n - i, 64));
      char* end = nullptr;
      double d = strtod(num.c_str(), &end);
      if (end == num.c_str()) Fail("value");
      i += end - num.c_str();
      lua_pushnumber(L, d);
    } else {
      Fail("value");
    }
    if (c == '{' || c == '[') depth--;
  }
};

int CjsonDecode(lua_State* L) {
  size_t n = 0;
  const char* s = luaL_checklstring(L, 1, &n);
  JsonParser p{L, s, n, 0, Config(L)->decode_max_depth};
  p.Value();
  p.Ws();
  if (p.i != n) p.Fail("the end");
  return 1;
}

// ------------------------------- cmsgpack ----------------------------------------------

void PutBE(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; i--) out->push_back(static_cast<char>(v >> (8 * i)));
}

void MpEncode(lua_State* L, int idx, std::string* out, int depth) {
  lua_checkstack(L, 6);
  switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN: out->push_back(lua_toboolean(L, idx) ? '\xc3' : '\xc2'); return;
    case LUA_TNUMBER: {
      double d = lua_tonumber(L, idx);
      if (std::floor(d) == d && std::fabs(d) < 9.2e18) {
        int64_t v = static_cast<int64_t>(d);
        if (v >= 0) {
          if (v < 128) out->push_back(static_cast<char>(v));
          else if (v < 256) { out->push_back('\xcc'); PutBE(out, v, 1); }
          else if (v < 65536) { out->push_back('\xcd'); PutBE(out, v, 2); }
          else if (v <= 0xffffffffLL) { out->push_back('\xce'); PutBE(out, v, 4); }
          else { out->push_back('\xcf'); PutBE(out, v, 8); }
        } else {
          if (v >= -32) out->push_back(static_cast<char>(v));
          else if (v >= -128) { out->push_back('\xd0'); PutBE(out, static_cast<uint64_t>(v), 1); }
          else if (v >= -32768) { out->push_back('\xd1'); PutBE(out, static_cast<uint64_t>(v), 2); }
          else if (v >= -2147483648LL) { out->push_back('\xd2'); PutBE(out, static_cast<uint64_t>(v), 4); }
          else { out->push_back('\xd3'); PutBE(out, static_cast<uint64_t>(v), 8); }
        }
        return;
      }
      float f = static_cast<float>(d);
      if (static_cast<double>(f) == d) {
        uint32_t b;
        memcpy(&b, &f, 4);
        out->push_back('\xca');
        PutBE(out, b, 4);
      } else {
        uint64_t b;
        memcpy(&b, &d, 8);
        out->push_back('\xcb');
        PutBE(out, b, 8);
      }
      return;
    }
    case LUA_TSTRING: {
      size_t n = 0;
      const char* s = lua_tolstring(L, idx, &n);
      if (n < 32) out->push_back(static_cast<char>(0xa0 | n));
      else if (n < 256) { out->push_back('\xd9'); PutBE(out, n, 1); }
      else if (n < 65536) { out->push_back('\xda'); PutBE(out, n, 2); }
      else { out->push_back('\xdb'); PutBE(out, n, 4); }
      out->append(s, n);
      return;
    }
    case LUA_TTABLE: {
      if (depth >= 16) {  // lua-cmsgpack's LUACMSGPACK_MAX_NESTING: a table there is nil
        out->push_back('\xc0');
        return;
      }
      size_t len = 0, count = 0;
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
      }
      bool array = IsArray(L, idx, &len) && len == count;
      if (array) {
        if (len < 16) out->push_back(static_cast<char>(0x90 | len));
        else if (len < 65536) { out->push_back('\xdc'); PutBE(out, len, 2); }
        else { out->push_back('\xdd'); PutBE(out, len, 4); }
        for (size_t i = 1; i <= len; i++) {
          lua_rawgeti(L, idx, static_cast<int>(i));
          MpEncode(L, lua_gettop(L), out, depth + 1);
          lua_pop(L, 1);
        }
        return;
      }
      if (count < 16) out->push_back(static_cast<char>(0x80 | count));
      else if (count < 65536) { out->push_back('\xde'); PutBE(out, count, 2); }
      else { out->push_back('\xdf'); PutBE(out, count, 4); }
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        MpEncode(L, lua_gettop(L) - 1, out, depth + 1);
        MpEncode(L, lua_gettop(L), out, depth + 1);
        lua_pop(L, 1);
      }
      return;
    }
    default: out->push_back('\xc0'); return;
  }
}

int MpPack(lua_State* L) {
  int n = lua_gettop(L);
  if (n == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  std::string out;
  for (int i = 1; i <= n; i++) MpEncode(L, i, &out, 0);
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

struct MpReader {
  lua_State* L;
  const unsigned char* p;
  size_t n, i = 0;
  int depth = 0;
  uint64_t BE(int bytes) {
    if (i + bytes > n) luaL_error(L, "Missing bytes in input.");
    uint64_t v = 0;
    for (int k = 0; k < bytes; k++) v = (v << 8) | p[i++];
    return v;
  }
  void Str(size_t len) {
    if (i + len > n) luaL_error(L, "Missing bytes in input.");
    lua_pushlstring(L, reinterpret_cast<const char*>(p + i), len);
    i += len;
  }
  void Arr(size_t len) {
    lua_createtable(L, static_cast<int>(std::min<size_t>(len, 1024)), 0);
    for (size_t k = 1; k <= len; k++) {
      Value();
      lua_rawseti(L, -2, static_cast<int>(k));
    }
  }
  void Map(size_t len) {
    lua_newtable(L);
    for (size_t k = 0; k < len; k++) {
      Value();
      Value();
      lua_rawset(L, -3);
    }
  }
  void Value() {
    if (i >= n) luaL_error(L, "Missing bytes in input.");
    if (++depth > 1000) luaL_error(L, "Too deep");
    lua_checkstack(L, 4);
    unsigned char c = p[i++];
    if (c < 0x80) lua_pushnumber(L, c);
    else if (c >= 0xe0) lua_pushnumber(L, static_cast<int8_t>(c));
    else if ((c & 0xf0) == 0x80) Map(c & 0x0f);
    else if ((c & 0xf0) == 0x90) Arr(c & 0x0f);
    else if ((c & 0xe0) == 0xa0) Str(c & 0x1f);
    else switch (c) {
      case 0xc0: lua_pushnil(L); break;
      case 0xc2: lua_pushboolean(L, 0); break;
      case 0xc3: lua_pushboolean(L, 1); break;
      case 0xca: { uint32_t b = static_cast<uint32_t>(BE(4)); float f; memcpy(&f, &b, 4); lua_pushnumber(L, f); break; }
      case 0xcb: { uint64_t b = BE(8); double d; memcpy(&d, &b, 8); lua_pushnumber(L, d); break; }
      case 0xcc: lua_pushnumber(L, static_cast<double>(BE(1))); break;
      case 0xcd: lua_pushnumber(L, static_cast<double>(BE(2))); break;
      case 0xce: lua_pushnumber(L, static_cast<double>(BE(4))); break;
      case 0xcf: lua_pushnumber(L, static_cast<double>(BE(8))); break;
      case 0xd0: lua_pushnumber(L, static_cast<int8_t>(BE(1))); break;
      case 0xd1: lua_pushnumber(L, static_cast<int16_t>(BE(2))); break;
      case 0xd2: lua_pushnumber(L, static_cast<int32_t>(BE(4))); break;
      case 0xd3: lua_pushnumber(L, static_cast<double>(static_cast<int64_t>(BE(8)))); break;
      case 0xd9: case 0xc4: Str(BE(1)); break;
      case 0xda: case 0xc5: Str(BE(2)); break;
      case 0xdb: case 0xc6: Str(BE(4)); break;
      case 0xdc: Arr(BE(2)); break;
      case 0xdd: Arr(BE(4)); break;
      case 0xde: Map(BE(2)); break;
      case 0xdf: Map(BE(4)); break;
      default: luaL_error(L, "Bad data format in input.");
    }
    depth--;
  }
};

// lua-cmsgpack's mp_unpack_full: decodes up to `limit` values from byte `offset`; with
// neither (unpack) every value, else the values are preceded by the offset of the next
// one, -1 once the input is consumed.
int MpUnpackFull(lua_State* L, lua_Integer limit, lua_Integer offset) {
  size_t n = 0;
  const char* s = luaL_checklstring(L, 1, &n);
  bool all = limit == 0 && offset == 0;
  if (offset < 0 || limit < 0)
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                      static_cast<int>(offset), static_cast<int>(n));
  if (static_cast<size_t>(offset) > n)
    return luaL_error(L, "Start offset %d greater than input length %d.",
                      static_cast<int>(offset), static_cast<int>(n));
  lua_settop(L, 1);
  MpReader r{L, reinterpret_cast<const unsigned char*>(s), n, static_cast<size_t>(offset)};
  int count = 0;
  while (r.i < n && (all || count < limit)) {
    r.Value();
    count++;
  }
  if (all) return count;
  lua_checkstack(L, 1);
  lua_pushinteger(L, r.i == n ? -1 : static_cast<lua_Integer>(r.i));
  lua_insert(L, 2);
  return count + 1;
}

int MpUnpack(lua_State* L) { return MpUnpackFull(L, 0, 0); }
int MpUnpackOne(lua_State* L) { return MpUnpackFull(L, 1, luaL_optinteger(L, 2, 0)); }
int MpUnpackLimit(lua_State* L) {
  lua_Integer limit = luaL_checkinteger(L, 2);
  return MpUnpackFull(L, limit, luaL_optinteger(L, 3, 0));
}

// ------------------------------- struct ------------------------------------------------
// Roberto Ierusalimschy's struct library formats: < > ! = x b B h H l L j J T i[n] I[n]
// f d s c[n] and spaces. Alignment ('!') is accepted; like Redis' default build, items
// are packed without padding unless '!' sets an alignment.

struct Fmt {
  bool little = true;
  size_t align = 1;
};

size_t OptSize(const char** f, size_t def) {
  if (!isdigit(static_cast<unsigned char>(**f))) return def;
  size_t v = 0;
  while (isdigit(static_cast<unsigned char>(**f))) v = v * 10 + (*(*f)++ - '0');
  return v;
}

// Returns the size of option `c` (0 for none), handling the state changers.
size_t OptionSize(lua_State* L, char c, const char** f, Fmt* h) {
  switch (c) {
    case 'b': case 'B': return 1;
    case 'h': case 'H': return 2;
    case 'l': case 'L': case 'j': case 'J': case 'T': return 8;
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'x': return 1;
    case 'c': return OptSize(f, 1);
    case 'i': case 'I': {
      size_t s = OptSize(f, 4);
      if (s > 8) luaL_error(L, "integral size %d is larger than limit of 8", static_cast<int>(s));
      return s;
    }
    case 's': case ' ': return 0;
    case '<': h->little = true; return 0;
    case '>': h->little = false; return 0;
    case '=': h->little = true; return 0;
    case '!': h->align = OptSize(f, 8); return 0;
    default: luaL_error(L, "invalid format option '%c'", c);
  }
  return 0;
}

void Pad(std::string* out, size_t size, const Fmt& h) {
  size_t a = std::min(size, h.align);
  if (a > 1 && (a & (a - 1)) == 0)
    while (out->size() % a) out->push_back('\0');
}

int StructPack(lua_State* L) {
  const char* f = luaL_checkstring(L, 1);
  Fmt h;
  std::string out;
  int arg = 2;
  while (*f) {
    char c = *f++;
    size_t size = OptionSize(L, c, &f, &h);
    if (c == 'x') {
      out.push_back('\0');
      continue;
    }
    if (size > 0 && c != 'c') Pad(&out, size, h);
    switch (c) {
      case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'j': case 'J': case 'T':
      case 'i': case 'I': {
        double d = luaL_checknumber(L, arg++);
        uint64_t v = static_cast<uint64_t>(static_cast<int64_t>(d));
        if (c == 'L' || c == 'J' || c == 'T' || c == 'I') v = d < 0 ? static_cast<uint64_t>(static_cast<int64_t>(d)) : static_cast<uint64_t>(d);
        for (size_t k = 0; k < size; k++) {
          size_t shift = h.little ? k : size - 1 - k;
          out.push_back(shift < 8 ? static_cast<char>(v >> (8 * shift)) : (static_cast<int64_t>(v) < 0 ? '\xff' : 0));
        }
        break;
      }
      case 'f': case 'd': {
        double d = luaL_checknumber(L, arg++);
        char b[8];
        if (c == 'f') {
          float fl = static_cast<float>(d);
          memcpy(b, &fl, 4);
        } else {
          memcpy(b, &d, 8);
        }
        for (size_t k = 0; k < size; k++) out.push_back(b[h.little ? k : size - 1 - k]);
        break;
      }
      case 'c': case 's': {
        size_t n = 0;
        const char* s = luaL_checklstring(L, arg++, &n);
        if (c == 's') {
          out.append(s, n);
          out.push_back('\0');
        } else {
          if (size == 0) size = n;
          luaL_argcheck(L, n >= size, arg - 1, "string too short");
          out.append(s, size);
        }
        break;
      }
      default: break;
    }
  }
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int StructUnpack(lua_State* L) {
  const char* f = luaL_checkstring(L, 1);
  size_t n = 0;
  const char* data = luaL_checklstring(L, 2, &n);
  size_t pos = static_cast<size_t>(luaL_optinteger(L, 3, 1)) - 1;
  luaL_argcheck(L, pos <= n, 3, "offset must be 1 or greater");
  Fmt h;
  int results = 0;
  while (*f) {
    char c = *f++;
    size_t size = OptionSize(L, c, &f, &h);
    size_t a = std::min(size, h.align);
    if (c != 'c' && a > 1 && (a & (a - 1)) == 0)
      while (pos % a) pos++;
    luaL_argcheck(L, size <= n && pos <= n - size, 2, "data string too short");
    lua_checkstack(L, 2);
    switch (c) {
      case 'x': pos += 1; continue;
      case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'j': case 'J': case 'T':
      case 'i': case 'I': {
        uint64_t v = 0;
        for (size_t k = 0; k < size; k++) {
          size_t idx = h.little ? size - 1 - k : k;
          v = (v << 8) | static_cast<unsigned char>(data[pos + idx]);
        }
        bool is_signed = c == 'b' || c == 'h' || c == 'l' || c == 'j' || c == 'i';
        if (is_signed && size > 0 && size < 8 && (v >> (8 * size - 1)) & 1)
          v |= ~uint64_t(0) << (8 * size);
        lua_pushnumber(L, is_signed ? static_cast<double>(static_cast<int64_t>(v))
                                    : static_cast<double>(v));
        break;
      }
      case 'f': case 'd': {
        char b[8];
        for (size_t k = 0; k < size; k++) b[h.little ? k : size - 1 - k] = data[pos + k];
        if (c == 'f') {
          float fl;
          memcpy(&fl, b, 4);
          lua_pushnumber(L, fl);
        } else {
          double d;
          memcpy(&d, b, 8);
          lua_pushnumber(L, d);
        }
        break;
      }
      case 'c': {
        if (size == 0) {
          luaL_argcheck(L, results > 0 && lua_isnumber(L, -1), 1, "format 'c0' needs a previous size");
          double want = lua_tonumber(L, -1);
          luaL_argcheck(L, want >= 0 && want <= static_cast<double>(n), 2, "data string too short");
          size = static_cast<size_t>(want);
          lua_pop(L, 1);
          results--;
          luaL_argcheck(L, pos + size <= n, 2, "data string too short");
        }
        lua_pushlstring(L, data + pos, size);
        break;
      }
      case 's': {
        const char* z = static_cast<const char*>(memchr(data + pos, 0, n - pos));
        luaL_argcheck(L, z != nullptr, 2, "unfinished string in data");
        size = static_cast<size_t>(z - (data + pos)) + 1;
        lua_pushlstring(L, data + pos, size - 1);
        break;
      }
      default: continue;
    }
    pos += size;
    results++;
  }
  lua_pushnumber(L, static_cast<double>(pos + 1));
  return results + 1;
}

int StructSize(lua_State* L) {
  const char* f = luaL_checkstring(L, 1);
  Fmt h;
  size_t pos = 0;
  while (*f) {
    char c = *f++;
    size_t size = OptionSize(L, c, &f, &h);
    if (c == 's') luaL_argerror(L, 1, "options 'c0' - 's' have undefined sizes");
    size_t a = std::min(size, h.align);
    if (c != 'c' && a > 1 && (a & (a - 1)) == 0)
      while (pos % a) pos++;
    pos += size;
  }
  lua_pushnumber(L, static_cast<double>(pos));
  return 1;
}

void NewLib(lua_State* L, const char* name, std::initializer_list<std::pair<const char*, lua_CFunction>> fns) {
  lua_newtable(L);
  for (auto& [n, fn] : fns) {
    lua_pushcfunction(L, fn);
    lua_setfield(L, -2, n);
  }
  lua_setglobal(L, name);
}

}  // namespace

void InstallLibraries(lua_State* L) {
  NewLib(L, "cjson", {{"encode", CjsonEncode}, {"decode", CjsonDecode},
                      {"encode_max_depth", CjsonEncodeMaxDepth},
                      {"decode_max_depth", CjsonDecodeMaxDepth},
                      {"encode_invalid_numbers", CjsonEncodeInvalidNumbers},
                      {"encode_keep_buffer", CjsonEncodeKeepBuffer}});
  lua_getglobal(L, "cjson");
  lua_pushlightuserdata(L, nullptr);
  lua_setfield(L, -2, "null");
  lua_pop(L, 1);
  NewLib(L, "cmsgpack", {{"pack", MpPack}, {"unpack", MpUnpack}, {"unpack_one", MpUnpackOne},
                         {"unpack_limit", MpUnpackLimit}});
  NewLib(L, "struct", {{"pack", StructPack}, {"unpack", StructUnpack}, {"size", StructSize}});
}

}  // namespace ferrite::mod::scripting
