// Engine side of Redis 7.0 functions: libraries loaded with FUNCTION LOAD register
// callbacks through redis.register_function; FCALL runs them.
#include <lua.hpp>

#include <strings.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine.h"

namespace ferrite::mod::scripting {

// The words of a shebang line, as Redis' sdssplitargs splits them: blanks separate
// words, a word may be "double quoted" (with \" \\ \n \t escapes) or 'single quoted'
// (with \'). An unbalanced quote makes the line invalid (nullopt).
std::optional<std::vector<std::string>> SplitShebangWords(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (true) {
    while (i < line.size() && isspace(static_cast<unsigned char>(line[i]))) i++;
    if (i == line.size()) return words;
    std::string w;
    char quote = 0;
    for (; i < line.size(); i++) {
      char c = line[i];
      if (!quote && isspace(static_cast<unsigned char>(c))) break;
      if (!quote && (c == '"' || c == '\'')) {
        quote = c;
      } else if (quote && c == quote) {
        quote = 0;
        // a closing quote must end the word
        if (i + 1 < line.size() && !isspace(static_cast<unsigned char>(line[i + 1])))
          return std::nullopt;
      } else if (quote && c == '\\' && i + 1 < line.size()) {
        char n = line[++i];
        if (quote == '"') w += n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n;
        else if (n == '\'') w += n;
        else w += {c, n};
      } else {
        w += c;
      }
    }
    if (quote) return std::nullopt;
    words.push_back(std::move(w));
  }
}

namespace {

bool ValidLibName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// "#!lua name=mylib\n...": returns false and sets *err on bad metadata, with Redis'
// texts and in Redis' order (functionExtractLibMetaData, then the name check, then the
// engine lookup, whose names are case-insensitive: "#!LUA" is the Lua engine too).
bool ParseShebang(std::string_view code, std::string* name, std::string* err) {
  if (code.size() < 2 || code.substr(0, 2) != "#!") {
    *err = "ERR Missing library metadata";
    return false;
  }
  size_t end = code.find('\n');
  auto parts = end == std::string_view::npos ? std::nullopt : SplitShebangWords(code.substr(0, end));
  if (!parts || parts->empty()) {
    *err = "ERR Invalid library metadata";
    return false;
  }
  std::string engine = (*parts)[0].substr(2);
  bool named = false;
  for (size_t k = 1; k < parts->size(); k++) {
    const std::string& part = (*parts)[k];
    if (part.size() >= 5 && strncasecmp(part.c_str(), "name=", 5) == 0) {
      if (named) {
        *err = "ERR Invalid metadata value, name argument was given multiple times";
        return false;
      }
      *name = part.substr(5);
      named = true;
    } else {
      *err = "ERR Invalid metadata value given: " + part;
      return false;
    }
  }
  if (!named) {
    *err = "ERR Library name was not given";
    return false;
  }
  if (!ValidLibName(*name)) {
    *err = "ERR Library names can only contain letters, numbers, or underscores(_) and must "
           "be at least one character long";
    return false;
  }
  if (strcasecmp(engine.c_str(), "lua") != 0) {
    *err = "ERR Engine '" + engine + "' not found";
    return false;
  }
  return true;
}

}  // namespace

bool LibraryNameOf(std::string_view code, std::string* name, std::string* err) {
  return ParseShebang(code, name, err);
}

std::string Engine::LoadLibrary(std::string_view code, bool replace, std::string* err) {
  std::string name;
  if (!ParseShebang(code, &name, err)) return {};
  auto existing = libs_.find(name);
  if (existing != libs_.end() && !replace) {
    *err = "ERR Library '" + name + "' already exists";
    return {};
  }
  std::string src(code);
  src[0] = src[1] = '-';  // the shebang line becomes a comment; line numbers stay
  src = RewriteTailCalls(std::move(src));
  lua_State* L = L_;
  int base = lua_gettop(L);
  if (luaL_loadbufferx(L, src.data(), src.size(), "@user_function", "t") != 0) {
    *err = std::string("ERR Error compiling function: ") + lua_tostring(L, -1);
    lua_settop(L, base);
    return {};
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, refs.lib_env);
  lua_setfenv(L, -2);
  std::vector<Function> fns;
  pending = &fns;
  SetLibraryPhase(true);
  lua_rawgeti(L, LUA_REGISTRYINDEX, refs.errh);
  lua_insert(L, -2);
  BeginLibraryLoad();
  int rc = lua_pcall(L, 0, 0, base + 1);
  EndLibraryLoad();
  SetLibraryPhase(false);
  pending = nullptr;
  auto drop = [&] {
    for (auto& f : fns) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
  };
  if (rc != 0) {
    std::string msg = "unknown error";
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) msg = lua_tostring(L, -1);
      lua_pop(L, 1);
    } else if (lua_isstring(L, -1)) {
      msg = lua_tostring(L, -1);
    }
    *err = "ERR Error registering functions: " + msg;
    lua_settop(L, base);
    drop();
    return {};
  }
  lua_settop(L, base);
  if (fns.empty()) {
    *err = "ERR No functions registered";
    return {};
  }
  for (auto& f : fns) {
    auto it = functions_.find(f.name);
    if (it != functions_.end() &&
        (existing == libs_.end() ||
         std::none_of(existing->second.functions.begin(), existing->second.functions.end(),
                      [&](const std::string& n) { return NoCaseEq()(n, f.name); }))) {
      *err = "ERR Function " + f.name + " already exists";
      drop();
      return {};
    }
  }
  if (existing != libs_.end()) {
    RemoveLibraryFunctions(existing->second);
    libs_.erase(existing);
  }
  Library lib{name, std::string(code), {}};
  for (auto& f : fns) {
    lib.functions.push_back(f.name);
    functions_[f.name] = std::move(f);
  }
  libs_[name] = std::move(lib);
  UpdateInfo();
  return name;
}

void Engine::RemoveLibraryFunctions(const Library& lib) {
  for (auto& fname : lib.functions) {
    auto it = functions_.find(fname);
    if (it == functions_.end()) continue;
    luaL_unref(L_, LUA_REGISTRYINDEX, it->second.ref);
    functions_.erase(it);
  }
}

bool Engine::DeleteLibrary(const std::string& name) {
  auto it = libs_.find(name);
  if (it == libs_.end()) return false;
  RemoveLibraryFunctions(it->second);
  libs_.erase(it);
  UpdateInfo();
  return true;
}

void Engine::FlushFunctions() {
  for (auto& [n, lib] : libs_) RemoveLibraryFunctions(lib);
  libs_.clear();
  lua_gc(L_, LUA_GCCOLLECT, 0);
  UpdateInfo();
}

const Function* Engine::FindFunction(const std::string& name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : &it->second;
}

void Engine::RunFunction(sdk::Ctx ctx, const Function& f, RunSpec spec,
                         const std::vector<std::string_view>& keys,
                         const std::vector<std::string_view>& args) {
  Run(ctx, f.ref, std::move(spec), keys, args, true);
}

}  // namespace ferrite::mod::scripting
