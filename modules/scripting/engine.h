// The Lua engine behind EVAL and FCALL: one LuaJIT VM per plugin instance, guarded by a
// mutex. The host already runs at most one script at a time (docs/architecture.md,
// "Locking"); the mutex only serialises SCRIPT LOAD / FUNCTION LOAD (no keys, any
// thread) against a running script.
#pragma once

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ferrite/module.hpp"

#include "stack_guard.h"

struct lua_State;
struct lua_Debug;

namespace ferrite::mod::scripting {

// The words of a "#!..." line as Redis' sdssplitargs splits them (quotes, escapes);
// nullopt for an unbalanced quote (functions.cc).
std::optional<std::vector<std::string>> SplitShebangWords(std::string_view line);
// The library name a FUNCTION LOAD code declares; false with Redis' error text in *err.
bool LibraryNameOf(std::string_view code, std::string* name, std::string* err);

// Function names compare without case, as Redis' function dictionaries do (FCALL TEST
// finds "test"; a library may not register "f" and "F").
struct NoCaseHash {
  size_t operator()(std::string_view s) const {
    size_t h = 14695981039346656037ULL;
    for (unsigned char c : s) h = (h ^ static_cast<size_t>(tolower(c))) * 1099511628211ULL;
    return h;
  }
};
struct NoCaseEq {
  bool operator()(std::string_view a, std::string_view b) const {
    return sdk::EqualsIgnoreCase(a, b);
  }
};

// What a running script is allowed to do and how it reports itself in errors.
struct RunSpec {
  bool read_only = false;       // EVAL_RO / FCALL_RO / no-writes flag
  bool is_function = false;     // FCALL: the kill command is FUNCTION KILL
  std::string name;             // "<sha>" or function name, for "script: <name>"
  std::vector<std::string> command;  // the FCALL as sent (FUNCTION STATS shows it)
  int start_flags = 0;          // FERRITE_SCRIPT_* for script_set_busy (declared flags)
};

// The state of the script in flight; the hook and redis.call read it.
struct Running {
  sdk::Ctx ctx{nullptr};
  RunSpec spec;
  int resp = 2;                 // redis.setresp
  bool wrote = false;           // executed a write command (then SCRIPT KILL refuses)
};

struct Function {
  std::string name;
  int ref = 0;                  // registry ref of the Lua callback
  std::vector<std::string> flags;
  bool has_description = false;
  std::string description;
};

struct Library {
  std::string name;
  std::string code;
  std::vector<std::string> functions;  // names, in registration order
};

class Engine {
 public:
  Engine();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Timed: SCRIPT/FUNCTION subcommands from other workers wait for a running script
  // only until it turns busy (scripting_module.cc, LockVm).
  std::timed_mutex& mu() { return mu_; }
  lua_State* L() const { return L_; }

  // --- EVAL scripts (mu held) ---
  // Compiles `body` into the cache. Returns the sha, or sets *err to the reply text.
  std::string LoadScript(std::string_view body, std::string* err);
  bool HasScript(const std::string& sha) const { return scripts_.count(sha) != 0; }
  const std::string* ScriptBody(const std::string& sha) const;
  void FlushScripts();
  // Runs a cached script and replies on `ctx`.
  void RunScript(sdk::Ctx ctx, const std::string& sha, RunSpec spec,
                 const std::vector<std::string_view>& keys,
                 const std::vector<std::string_view>& args);

  // --- functions (mu held) ---
  // FUNCTION LOAD: returns the library name or sets *err.
  std::string LoadLibrary(std::string_view code, bool replace, std::string* err);
  bool DeleteLibrary(const std::string& name);
  void FlushFunctions();
  const Function* FindFunction(const std::string& name) const;
  const std::map<std::string, Library>& libraries() const { return libs_; }
  size_t function_count() const { return functions_.size(); }
  void RunFunction(sdk::Ctx ctx, const Function& f, RunSpec spec,
                   const std::vector<std::string_view>& keys,
                   const std::vector<std::string_view>& args);

  // --- kill / busy (any thread, no mu) ---
  // Returns the reply text of SCRIPT KILL / FUNCTION KILL ("OK" on success).
  std::string RequestKill(bool function_kill);
  bool busy() const { return busy_.load(); }
  // The running script is past busy-reply-threshold (steady clock: the host's clock is
  // cached per network read).
  bool PastBusyThreshold() const {
    return busy_.load() && std::chrono::steady_clock::now().time_since_epoch().count() >=
                               busy_deadline_.load(std::memory_order_relaxed);
  }
  bool busy_is_function() const { return busy_is_function_.load(); }
  int64_t busy_since_ms() const { return busy_since_ms_.load(); }
  std::string running_name() const;
  std::vector<std::string> running_command() const;

  // Used by the Lua side (redis_lib.cc, the hook).
  Running* running() { return running_; }
  bool limiting_heap() const { return limit_heap_; }
  bool kill_requested() const { return kill_.load(std::memory_order_relaxed); }
  // True while the running script lets the host serve other clients (script_yield):
  // anything that reaches the engine then must not take mu (held by this very thread).
  bool yielding() const { return yielding_.load(std::memory_order_relaxed); }
  // Called from the instruction hook: past busy-reply-threshold, lets the host serve
  // the worker's other connections (BUSY, SCRIPT KILL), at most every kYieldEvery.
  void MaybeYield();
  bool OverHeapLimit() const;
  bool IsWriteCommand(std::string_view name);
  int64_t heap_limit() const;
  size_t heap_used() const { return heap_used_; }
  void AddHeap(int64_t delta) { heap_used_ += delta; }
  bool custom_alloc() const { return custom_alloc_; }

  // The instruction hook (armed while Lua code runs): the C-stack guard, the load
  // timeout, yields to the host, SCRIPT KILL / shutdown, the heap limit.
  void OnHook(lua_State* L, lua_Debug* ar);

  // INFO memory's scripting fields (Redis 7.0's used_memory_lua ... used_memory_scripts),
  // from counters UpdateInfo keeps current: INFO may run on any thread, also while a
  // script holds mu or from the script itself.
  void WriteInfo(ferrite_info* out) const;
  void UpdateInfo();  // mu held

  // Library load phase: what `redis` resolves to inside a library's environment.
  void SetLibraryPhase(bool loading);
  // Brackets the run of a library's top-level code (FUNCTION LOAD / RESTORE): the hook
  // then enforces Redis' 500 ms load timeout ("FUNCTION LOAD timeout").
  void BeginLibraryLoad();
  void EndLibraryLoad();
  bool loading_library() const { return loading_library_; }
  bool LoadTimedOut() const;

  // Registry references to the sandbox's tables (sandbox.cc fills them).
  struct Refs {
    int globals = 0;      // the real global table (libraries, KEYS, ARGV)
    int env = 0;          // read-only proxy every EVAL script runs in (its _G)
    int lib_globals = 0;  // what a library's functions see when they run
    int lib_env = 0;      // read-only proxy over lib_globals (load_globals while loading)
    int load_globals = 0; // the library's globals while FUNCTION LOAD runs it: `redis`
    int run_redis = 0;    // the redis table scripts see
    int load_redis = 0;   // the redis table FUNCTION LOAD code sees
    int errh = 0;         // error handler adding source/line (Redis' __redis__err__handler)
  } refs;
  // Context of the command in progress (EVAL, FCALL or FUNCTION LOAD), for redis.log.
  ferrite_ctx* current_ctx = nullptr;
  // Functions registered by the library being loaded (FUNCTION LOAD in progress).
  std::vector<Function>* pending = nullptr;
  // Coroutine resumes in progress, nested (sandbox.cc caps them as PUC Lua does).
  int resume_depth = 0;

 private:
  void Run(sdk::Ctx ctx, int fn_ref, RunSpec spec, const std::vector<std::string_view>& keys,
           const std::vector<std::string_view>& args, bool as_function);
  void ReplyError(sdk::Ctx ctx, const RunSpec& spec);
  void ArmHook();
  void DisarmHook();
  // Raises `text` as the script's error and keeps raising it on every instruction from
  // now on, so a pcall in the script cannot swallow it.
  [[noreturn]] void RaiseForever(lua_State* L, const char* text);
  bool InErrorHandler(lua_State* L, lua_Debug* ar);
  void RemoveLibraryFunctions(const Library& lib);

  std::timed_mutex mu_;
  lua_State* L_ = nullptr;
  bool custom_alloc_ = false;
  size_t heap_used_ = 0;
  std::unordered_map<std::string, int> scripts_;  // sha → registry ref
  std::unordered_map<std::string, std::string> bodies_;
  std::map<std::string, Library> libs_;
  std::unordered_map<std::string, Function, NoCaseHash, NoCaseEq> functions_;
  std::unordered_map<std::string, bool> write_cmd_cache_;
  Running* running_ = nullptr;
  bool limit_heap_ = false;  // the heap limit applies only while the script body runs
  std::atomic<bool> busy_{false};
  std::atomic<bool> busy_is_function_{false};
  std::atomic<bool> busy_wrote_{false};
  std::atomic<bool> kill_{false};
  std::atomic<int64_t> busy_since_ms_{0};
  std::atomic<int64_t> busy_deadline_{0};  // steady_clock ticks
  std::atomic<bool> yielding_{false};
  // What WriteInfo shows (UpdateInfo).
  std::atomic<int64_t> info_vm_bytes_{0}, info_scripts_{0}, info_script_bytes_{0},
      info_functions_{0}, info_libraries_{0}, info_function_bytes_{0};
  // The host clock is cached per network read (one "now" per batch), so the hook
  // measures the script's run time with its own steady clock.
  std::chrono::steady_clock::time_point next_yield_{};
  bool loading_library_ = false;
  StackGuard stack_;
  int hook_every_ = 0;
  bool raising_ = false;           // RaiseForever armed the every-instruction hook
  Engine* outer_engine_ = nullptr;  // the hook's engine before ArmHook
  std::chrono::steady_clock::time_point load_deadline_{};
  mutable std::mutex name_mu_;
  std::string running_name_;
  std::vector<std::string> running_command_;
  friend void MarkWrote(Engine* e);
};

// `return redis.call(...)` → `return (redis.call(...))` (see engine.cc).
std::string RewriteTailCalls(std::string src);

// Called by redis.call when a write command succeeded (makes the script unkillable).
void MarkWrote(Engine* e);

// Sandbox and libraries (sandbox.cc, redis_lib.cc, lua_libs.cc).
void InstallSandbox(lua_State* L, Engine* e);
void InstallRedisLib(lua_State* L, Engine* e);
void InstallLibraries(lua_State* L);  // cjson, cmsgpack, struct, bit

// Conversions (convert.cc).
// Pushes a captured call reply as Lua value per the script's RESP version.
void PushCallReply(lua_State* L, const ferrite_call_reply* r, int resp);
// Replies the Lua value on top of the stack (left there).
void ReplyLuaValue(lua_State* L, sdk::Ctx ctx, int resp, int depth = 0);
// Pushes {err = text}.
void PushErrorTable(lua_State* L, std::string_view text);
// Replies the error of the error table at the top of the stack with the text `msg`; one
// marked ignore_error_stats_update (it came from redis.call/pcall) is not counted again
// in total_error_replies / errorstats, as in Redis.
void ReplyScriptError(lua_State* L, sdk::Ctx ctx, std::string_view msg);

}  // namespace ferrite::mod::scripting
