// Engine side of Redis 7.0 functions: libraries loaded with FUNCTION LOAD register
// callbacks through redis.register_function; FCALL runs them.
#include <lua.hpp>

#include <algorithm>

#include "engine.h"

namespace ferrite::mod::scripting {

namespace {

bool ValidLibName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// "#!lua name=mylib": returns false and sets *err on bad metadata.
bool ParseShebang(std::string_view code, std::string* name, std::string* err) {
  if (code.size() < 2 || code.substr(0, 2) != "#!") {
    *err = "ERR Missing library metadata";
    return false;
  }
  std::string_view line = code.substr(2, code.find('\n') == std::string_view::npos
                                             ? std::string_view::npos
                                             : code.find('\n') - 2);
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') i++;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') j++;
    if (j > i) parts.push_back(line.substr(i, j - i));
    i = j;
  }
  if (parts.empty() || parts[0] != "lua") {
    *err = "ERR Engine '" + std::string(parts.empty() ? "" : parts[0]) + "' not found";
    return false;
  }
  for (size_t k = 1; k < parts.size(); k++) {
    if (parts[k].substr(0, 5) == "name=") {
      *name = std::string(parts[k].substr(5));
    } else {
      *err = "ERR Invalid metadata value given: " + std::string(parts[k]);
      return false;
    }
  }
  if (name->empty()) {
    *err = "ERR Library name was not given";
    return false;
  }
  if (!ValidLibName(*name)) {
    *err = "ERR Library names can only contain letters, numbers, or underscores(_) and must "
           "be at least one character long";
    return false;
  }
  return true;
}

}  // namespace

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
         std::find(existing->second.functions.begin(), existing->second.functions.end(),
                   f.name) == existing->second.functions.end())) {
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
  return true;
}

void Engine::FlushFunctions() {
  for (auto& [n, lib] : libs_) RemoveLibraryFunctions(lib);
  libs_.clear();
  lua_gc(L_, LUA_GCCOLLECT, 0);
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
