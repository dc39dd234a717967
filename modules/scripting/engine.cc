// Engine: VM lifetime, the script cache, running a script, the kill hook, heap limit.
#include "engine.h"

#include <lua.hpp>

#include <cstdlib>
#include <cstring>

#include "sha1.h"

namespace ferrite::mod::scripting {

using sdk::Api;

namespace {

// Instructions between hook calls at most (the stack guard asks for fewer as the C
// stack fills): small enough that SCRIPT KILL and the heap check react within a
// millisecond, large enough to cost nothing measurable.
constexpr int kHookEvery = 10000;

const char kKilledText[] = "ERR Script killed by user with SCRIPT KILL...";
const char kLoadTimeoutText[] = "ERR FUNCTION LOAD timeout";

// Redis' LOAD_TIMEOUT_MS: a library's top-level code only registers functions.
constexpr auto kLoadTimeout = std::chrono::milliseconds(500);

// Past the threshold the host is asked to serve other clients this often: often enough
// that -BUSY and SCRIPT KILL are answered at once, rarely enough that the zero-timeout
// epoll of each yield costs the script nothing measurable.
constexpr auto kYieldEvery = std::chrono::milliseconds(2);

void* Alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* e = static_cast<Engine*>(ud);
  if (ptr == nullptr) osize = 0;
  if (nsize == 0) {
    free(ptr);
    e->AddHeap(-static_cast<int64_t>(osize));
    return nullptr;
  }
  if (nsize > osize && e->limiting_heap()) {
    int64_t limit = e->heap_limit();
    if (limit > 0 && static_cast<int64_t>(e->heap_used() + (nsize - osize)) > limit)
      return nullptr;  // Lua raises "not enough memory"
  }
  void* p = realloc(ptr, nsize);
  if (p) e->AddHeap(static_cast<int64_t>(nsize) - static_cast<int64_t>(osize));
  return p;
}

// The engine whose Lua code runs on this thread (the hook's way to it without a registry
// lookup on every call).
thread_local Engine* t_engine = nullptr;

void Hook(lua_State* L, lua_Debug* ar) { t_engine->OnHook(L, ar); }

void PushStringArray(lua_State* L, const std::vector<std::string_view>& v) {
  lua_createtable(L, static_cast<int>(v.size()), 0);
  for (size_t i = 0; i < v.size(); i++) {
    lua_pushlstring(L, v[i].data(), v[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

// Skips a string literal or comment starting at i; returns the index after it (or i).
size_t SkipLiteral(const std::string& s, size_t i) {
  auto long_bracket = [&](size_t j) -> size_t {  // j at '[': returns end or npos
    size_t k = j + 1, eq = 0;
    while (k < s.size() && s[k] == '=') k++, eq++;
    if (k >= s.size() || s[k] != '[') return std::string::npos;
    std::string close = "]" + std::string(eq, '=') + "]";
    size_t e = s.find(close, k + 1);
    return e == std::string::npos ? s.size() : e + close.size();
  };
  if (s[i] == '\'' || s[i] == '"') {
    char q = s[i];
    size_t k = i + 1;
    while (k < s.size() && s[k] != q) k += s[k] == '\\' ? 2 : 1;
    return std::min(k + 1, s.size());
  }
  if (s[i] == '[') {
    size_t e = long_bracket(i);
    return e == std::string::npos ? i : e;
  }
  if (s.compare(i, 2, "--") == 0) {
    if (i + 2 < s.size() && s[i + 2] == '[') {
      size_t e = long_bracket(i + 2);
      if (e != std::string::npos) return e;
    }
    size_t e = s.find('\n', i);
    return e == std::string::npos ? s.size() : e;
  }
  return i;
}

}  // namespace

// NOTE: LuaJIT turns `return redis.call(...)` into a tail call that drops the script's
// frame, so the error handler could not name the line ("on @user_script:N."), which PUC
// Lua (Redis) keeps. Wrapping the call in parentheses makes it an ordinary call with the
// same single result; line numbers are unchanged because only '(' and ')' are inserted.
std::string RewriteTailCalls(std::string s) {
  std::string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  auto ident = [](char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < s.size()) {
    size_t j = SkipLiteral(s, i);
    if (j != i) {
      out.append(s, i, j - i);
      i = j;
      continue;
    }
    if (s.compare(i, 6, "return") == 0 && (i == 0 || !ident(s[i - 1])) && i + 6 < s.size() &&
        !ident(s[i + 6])) {
      size_t k = i + 6;
      while (k < s.size() && isspace(static_cast<unsigned char>(s[k]))) k++;
      // Single-result C functions of the sandbox: redis.*, cjson.*, struct.pack/size.
      size_t call_len = 0;
      for (const char* pre : {"redis.", "cjson.", "struct.pack", "struct.size", "cmsgpack.pack"}) {
        size_t pl = strlen(pre);
        if (s.compare(k, pl, pre) != 0) continue;
        size_t e = k + pl;
        while (e < s.size() && ident(s[e])) e++;
        if (e < s.size() && s[e] == '(') call_len = e + 1 - k;
        break;
      }
      if (call_len) {
        size_t m = k + call_len;
        int depth = 1;
        while (m < s.size() && depth > 0) {
          size_t n = SkipLiteral(s, m);
          if (n != m) {
            m = n;
            continue;
          }
          if (s[m] == '(') depth++;
          if (s[m] == ')') depth--;
          m++;
        }
        if (depth == 0) {
          out.append(s, i, k - i);
          out += '(';
          out.append(s, k, m - k);
          out += ')';
          i = m;
          continue;
        }
      }
    }
    out += s[i++];
  }
  return out;
}

void MarkWrote(Engine* e) {
  if (e->running_) e->running_->wrote = true;
  e->busy_wrote_ = true;
}

Engine::Engine() {
  L_ = lua_newstate(Alloc, this);
  custom_alloc_ = L_ != nullptr;
  // NOTE: LuaJIT x64 without GC64 refuses custom allocators; the heap limit is then
  // enforced from the instruction hook with LUA_GCCOUNT.
  if (!L_) L_ = luaL_newstate();
  // Compiled traces never call hooks: the interpreter keeps SCRIPT KILL working.
  luaJIT_setmode(L_, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
  InstallSandbox(L_, this);
  SetLibraryPhase(false);
  UpdateInfo();
}

Engine::~Engine() {
  if (L_) lua_close(L_);
}

int64_t Engine::heap_limit() const {
  int64_t v = Api().config_int("lua-heap-limit");
  return v > 0 ? v : 0;
}

bool Engine::OverHeapLimit() const {
  int64_t limit = heap_limit();
  if (limit <= 0) return false;
  int64_t used = static_cast<int64_t>(lua_gc(L_, LUA_GCCOUNT, 0)) * 1024 +
                 lua_gc(L_, LUA_GCCOUNTB, 0);
  return used > limit;
}

std::string Engine::running_name() const {
  std::lock_guard lk(name_mu_);
  return running_name_;
}

std::vector<std::string> Engine::running_command() const {
  std::lock_guard lk(name_mu_);
  return running_command_;
}

bool Engine::IsWriteCommand(std::string_view name) {
  const auto& a = Api();
  // The host's own flag table: always current, also for commands of modules loaded at
  // run time with MODULE LOAD.
  if (FERRITE_HAS_API(&a, command_flags))
    return (a.command_flags(sdk::SL(name)) & FERRITE_CMD_WRITE) != 0;
  // Older hosts: COMMAND INFO through call(), cached per name.
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  if (auto it = write_cmd_cache_.find(lower); it != write_cmd_cache_.end()) return it->second;
  if (!running_) return false;
  ferrite_slice argv[3] = {{"COMMAND", 7}, {"INFO", 4}, {lower.data(), lower.size()}};
  ferrite_call_reply* r = a.call(running_->ctx.get(), 3, argv);
  bool known = false, write = false;
  if (a.call_reply_type(r) == FERRITE_REPLY_ARRAY && a.call_reply_length(r) == 1) {
    const ferrite_call_reply* info = a.call_reply_element(r, 0);
    if (a.call_reply_type(info) == FERRITE_REPLY_ARRAY && a.call_reply_length(info) >= 3) {
      known = true;
      const ferrite_call_reply* flags = a.call_reply_element(info, 2);
      for (size_t i = 0; i < a.call_reply_length(flags); i++)
        if (sdk::SV(a.call_reply_string(a.call_reply_element(flags, i))) == "write") write = true;
    }
  }
  a.free_call_reply(r);
  if (known) write_cmd_cache_[lower] = write;
  return write;
}

// ------------------------------- INFO memory -------------------------------------------

void Engine::UpdateInfo() {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  info_vm_bytes_.store(static_cast<int64_t>(lua_gc(L_, LUA_GCCOUNT, 0)) * 1024 +
                           lua_gc(L_, LUA_GCCOUNTB, 0),
                       kRelaxed);
  // The cache's own bytes: each script's body and sha (Redis' lua_scripts_mem counts the
  // same strings with their allocation headers).
  int64_t script_bytes = 0;
  for (const auto& [sha, body] : bodies_) script_bytes += sha.size() + body.size();
  info_scripts_.store(static_cast<int64_t>(scripts_.size()), kRelaxed);
  info_script_bytes_.store(script_bytes, kRelaxed);
  int64_t fn_bytes = 0;
  for (const auto& [name, lib] : libs_) {
    fn_bytes += name.size() + lib.code.size();
    for (const auto& f : lib.functions) fn_bytes += f.size();
  }
  info_functions_.store(static_cast<int64_t>(functions_.size()), kRelaxed);
  info_libraries_.store(static_cast<int64_t>(libs_.size()), kRelaxed);
  info_function_bytes_.store(fn_bytes, kRelaxed);
}

namespace {
std::string HumanBytes(int64_t n) {
  char buf[32];
  double d = static_cast<double>(n);
  if (n < 1024) snprintf(buf, sizeof buf, "%lldB", static_cast<long long>(n));
  else if (n < 1024 * 1024) snprintf(buf, sizeof buf, "%.2fK", d / 1024);
  else if (n < 1024LL * 1024 * 1024) snprintf(buf, sizeof buf, "%.2fM", d / 1024 / 1024);
  else snprintf(buf, sizeof buf, "%.2fG", d / 1024 / 1024 / 1024);
  return buf;
}
}  // namespace

// Redis 7.0's fields in its order. Ferrite runs EVAL scripts and functions in one Lua
// VM: its whole heap is used_memory_vm_eval (and used_memory_lua, the old name), and
// used_memory_vm_functions is 0.
void Engine::WriteInfo(ferrite_info* out) const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  const auto& a = Api();
  int64_t vm = info_vm_bytes_.load(kRelaxed), scripts = info_script_bytes_.load(kRelaxed);
  int64_t fns = info_function_bytes_.load(kRelaxed);
  auto num = [&](const char* name, int64_t v) { a.info_field(out, name, std::to_string(v).c_str()); };
  num("used_memory_lua", vm);
  num("used_memory_vm_eval", vm);
  a.info_field(out, "used_memory_lua_human", HumanBytes(vm).c_str());
  num("used_memory_scripts_eval", scripts);
  num("number_of_cached_scripts", info_scripts_.load(kRelaxed));
  num("number_of_functions", info_functions_.load(kRelaxed));
  num("number_of_libraries", info_libraries_.load(kRelaxed));
  num("used_memory_vm_functions", 0);
  num("used_memory_vm_total", vm);
  a.info_field(out, "used_memory_vm_total_human", HumanBytes(vm).c_str());
  num("used_memory_functions", fns);
  num("used_memory_scripts", scripts + fns);
  a.info_field(out, "used_memory_scripts_human", HumanBytes(scripts + fns).c_str());
}

// ------------------------------- EVAL scripts ------------------------------------------

std::string Engine::LoadScript(std::string_view body, std::string* err) {
  std::string sha = Sha1Hex(body);
  if (scripts_.count(sha)) return sha;
  std::string code(body);
  // "#!lua flags=..." shebang: keep line numbers, hide the line from the parser.
  if (code.size() >= 2 && code[0] == '#' && code[1] == '!') code[0] = code[1] = '-';
  code = RewriteTailCalls(std::move(code));
  if (luaL_loadbufferx(L_, code.data(), code.size(), "@user_script", "t") != 0) {
    *err = std::string("ERR Error compiling script (new function): ") + lua_tostring(L_, -1);
    lua_pop(L_, 1);
    return {};
  }
  lua_rawgeti(L_, LUA_REGISTRYINDEX, refs.env);
  lua_setfenv(L_, -2);
  scripts_[sha] = luaL_ref(L_, LUA_REGISTRYINDEX);
  bodies_[sha] = std::string(body);
  UpdateInfo();
  return sha;
}

const std::string* Engine::ScriptBody(const std::string& sha) const {
  auto it = bodies_.find(sha);
  return it == bodies_.end() ? nullptr : &it->second;
}

void Engine::FlushScripts() {
  for (auto& [sha, ref] : scripts_) luaL_unref(L_, LUA_REGISTRYINDEX, ref);
  scripts_.clear();
  bodies_.clear();
  lua_gc(L_, LUA_GCCOLLECT, 0);
  UpdateInfo();
}

void Engine::RunScript(sdk::Ctx ctx, const std::string& sha, RunSpec spec,
                       const std::vector<std::string_view>& keys,
                       const std::vector<std::string_view>& args) {
  auto it = scripts_.find(sha);
  if (it == scripts_.end()) {
    ctx.Error(FERRITE_E_NOSCRIPT);
    return;
  }
  Run(ctx, it->second, std::move(spec), keys, args, false);
}

void Engine::Run(sdk::Ctx ctx, int fn_ref, RunSpec spec,
                 const std::vector<std::string_view>& keys,
                 const std::vector<std::string_view>& args, bool as_function) {
  lua_State* L = L_;
  int base = lua_gettop(L);
  Running run;
  run.ctx = ctx;
  run.spec = std::move(spec);
  running_ = &run;
  current_ctx = ctx.get();
  kill_ = false;
  busy_wrote_ = false;
  busy_is_function_ = as_function;
  {
    std::lock_guard lk(name_mu_);
    running_name_ = run.spec.name;
    running_command_ = run.spec.command;
  }
  busy_since_ms_ = ctx.NowMs();
  int64_t threshold = Api().config_int("busy-reply-threshold");
  if (threshold < 0) threshold = 5000;
  next_yield_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(threshold);
  busy_deadline_ = next_yield_.time_since_epoch().count();
  busy_ = true;
  int kind = as_function ? 2 : 1;
  // Hosts before ABI 1.10 ignore the flags they do not know.
  if (int refused = Api().script_set_busy(ctx.get(), kind | run.spec.start_flags)) {
    // The declared flags forbid running now: nothing ran. -1: the host answered.
    busy_ = false;
    running_ = nullptr;
    current_ctx = nullptr;
    if (refused > 0) ctx.Error(static_cast<ferrite_error_code>(refused));
    return;
  }

  lua_rawgeti(L, LUA_REGISTRYINDEX, refs.errh);
  lua_rawgeti(L, LUA_REGISTRYINDEX, fn_ref);
  int nargs = 0;
  if (as_function) {
    PushStringArray(L, keys);
    PushStringArray(L, args);
    nargs = 2;
  } else {
    PushStringArray(L, keys);
    lua_setfield(L, LUA_GLOBALSINDEX, "KEYS");
    PushStringArray(L, args);
    lua_setfield(L, LUA_GLOBALSINDEX, "ARGV");
  }
  // A SELECT the script calls is the script's own (Redis runs it on the script's client):
  // the caller is back in its db afterwards.
  int caller_db = Api().ctx_db(ctx.get());
  ArmHook();
  limit_heap_ = true;
  int rc = lua_pcall(L, nargs, 1, base + 1);
  limit_heap_ = false;
  DisarmHook();
  if (Api().ctx_db(ctx.get()) != caller_db) Api().ctx_select(ctx.get(), caller_db);
  if (rc == LUA_ERRMEM || rc == LUA_ERRERR) {
    // Out of the script's heap (possibly again inside the error handler): free what the
    // script left behind before building the reply, which allocates too.
    lua_settop(L, base);
    lua_gc(L, LUA_GCCOLLECT, 0);
    lua_pushstring(L, "not enough memory");
  }
  busy_ = false;
  Api().script_set_busy(ctx.get(), 0);
  if (rc == 0) {
    ReplyLuaValue(L, ctx, run.resp);
  } else {
    ReplyError(ctx, run.spec);
  }
  lua_settop(L, base);
  running_ = nullptr;
  current_ctx = nullptr;
  kill_ = false;
  lua_gc(L, LUA_GCSTEP, 1);
  UpdateInfo();
}

// The script raised: Redis' text is "<err> script: <name>, on <source>:<line>." when the
// error handler could locate the raising frame.
void Engine::ReplyError(sdk::Ctx ctx, const RunSpec& spec) {
  lua_State* L = L_;
  if (!lua_istable(L, -1)) {
    const char* m = lua_tostring(L, -1);
    std::string msg = std::string("ERR Error running script (call to f_") + spec.name + "): @" +
                      (m ? m : "unknown error");
    ctx.Error(msg);
    return;
  }
  lua_getfield(L, -1, "err");
  lua_getfield(L, -2, "source");
  lua_getfield(L, -3, "line");
  std::string msg = lua_isstring(L, -3) ? lua_tostring(L, -3) : "ERR unknown error";
  if (lua_isstring(L, -2) && lua_isnumber(L, -1)) {
    msg += " script: " + spec.name + ", on " + lua_tostring(L, -2) + ":" +
           std::to_string(static_cast<long long>(lua_tonumber(L, -1))) + ".";
  }
  lua_pop(L, 3);
  ReplyScriptError(L, ctx, msg);
}

// ------------------------------- the instruction hook -----------------------------------

void Engine::ArmHook() {
  outer_engine_ = t_engine;
  t_engine = this;
  raising_ = false;
  resume_depth = 0;
  stack_.Arm();
  hook_every_ = stack_.HookInterval(kHookEvery);
  lua_sethook(L_, Hook, LUA_MASKCOUNT, hook_every_);
}

void Engine::DisarmHook() {
  lua_sethook(L_, nullptr, 0, 0);
  t_engine = outer_engine_;
}

void Engine::RaiseForever(lua_State* L, const char* text) {
  raising_ = true;
  lua_sethook(L, Hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
  PushErrorTable(L, text);
  lua_error(L);
  __builtin_unreachable();
}

bool Engine::InErrorHandler(lua_State* L, lua_Debug* ar) {
  if (!lua_getinfo(L, "f", ar)) return false;
  lua_rawgeti(L, LUA_REGISTRYINDEX, refs.errh);
  bool in = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return in;
}

void Engine::OnHook(lua_State* L, lua_Debug* ar) {
  if (!raising_) {
    // The C-stack guard (stack_guard.h): checks again sooner the less room is left.
    int every = stack_.HookInterval(kHookEvery);
    if (stack_.Room() == 0 && !InErrorHandler(L, ar)) {
      lua_pushstring(L, "C stack overflow");
      lua_error(L);
    }
    if (every != hook_every_) {
      hook_every_ = every;
      lua_sethook(L, Hook, LUA_MASKCOUNT, every);
    }
  }
  if (loading_library_) {
    // FUNCTION LOAD runs the library's top-level code before any busy machinery exists:
    // no yield, no kill; only Redis' load timeout (and shutdown) stops it.
    if (LoadTimedOut() || Api().shutting_down()) RaiseForever(L, kLoadTimeoutText);
    return;
  }
  MaybeYield();  // may take SCRIPT KILL or SHUTDOWN from another client: check after
  if (kill_requested() || Api().shutting_down()) RaiseForever(L, kKilledText);
  if (!custom_alloc_ && OverHeapLimit()) {
    lua_gc(L, LUA_GCCOLLECT, 0);
    if (OverHeapLimit()) {
      lua_pushstring(L, "not enough memory");
      lua_error(L);
    }
  }
}

void Engine::BeginLibraryLoad() {
  loading_library_ = true;
  load_deadline_ = std::chrono::steady_clock::now() + kLoadTimeout;
  ArmHook();
}

void Engine::EndLibraryLoad() {
  DisarmHook();
  loading_library_ = false;
}

bool Engine::LoadTimedOut() const { return std::chrono::steady_clock::now() > load_deadline_; }

void Engine::MaybeYield() {
  const auto& a = Api();
  if (!running_ || !FERRITE_HAS_API(&a, script_yield) || !a.script_yield) return;
  auto now = std::chrono::steady_clock::now();
  if (now < next_yield_) return;
  next_yield_ = now + kYieldEvery;
  yielding_ = true;
  a.script_yield(running_->ctx.get());
  yielding_ = false;
}

std::string Engine::RequestKill(bool function_kill) {
  // Redis' order (scriptKill): not busy, then wrote, then the wrong kill command.
  if (!busy_.load()) return "NOTBUSY No scripts in execution right now.";
  if (busy_wrote_.load())
    return "UNKILLABLE Sorry the script already executed write commands against the "
           "dataset. You can either wait the script termination or kill the server in a "
           "hard way using the SHUTDOWN NOSAVE command.";
  if (busy_is_function_.load() && !function_kill)
    return "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN "
           "NOSAVE.";
  if (!busy_is_function_.load() && function_kill)
    return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN "
           "NOSAVE.";
  kill_ = true;
  return "OK";
}

}  // namespace ferrite::mod::scripting
