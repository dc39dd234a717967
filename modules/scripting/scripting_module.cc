// scripting.so: EVAL/EVALSHA(_RO), SCRIPT, FUNCTION, FCALL(_RO) on LuaJIT.
//
// EVAL and FCALL carry FERRITE_CMD_ALL_KEYS; the host narrows that to the shards of the
// declared keys when there are any, and takes the shard of an undeclared key when the
// script first touches it (docs/architecture.md, "Locking"), so scripts are atomic
// across worker threads. Nested writes are propagated as the script's effects (wrapped
// in MULTI/EXEC), never the EVAL itself.
#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <string>
#include <vector>

#include "engine.h"
#include "function_dump.h"

namespace ferrite::mod::scripting {

using sdk::Api;
using sdk::Ctx;
using sdk::EqualsIgnoreCase;
using sdk::SV;

namespace {

Engine* Eng(Ctx ctx) { return ctx.State<Engine>(); }

// While a script has been running past busy-reply-threshold, SCRIPT/FUNCTION
// subcommands other than KILL (and STATS) answer BUSY like every other command.
bool BusyNow(Engine* e) {
  if (!e->busy()) return false;
  // Nested in the script's own yield: taking mu would deadlock on this thread.
  if (e->yielding()) return true;
  return e->PastBusyThreshold();
}

// Takes the VM lock for a SCRIPT/FUNCTION subcommand. A script running on another worker
// holds it: wait until the script ends, or reply BUSY once it turns busy, as Redis does
// for a command that arrives during a script (SCRIPT and FUNCTION are ALLOW_BUSY for
// their KILL and STATS subcommands, so the host's gate does not hold them back).
bool LockVm(Ctx ctx, Engine* e, std::unique_lock<std::timed_mutex>* lk) {
  *lk = std::unique_lock(e->mu(), std::defer_lock);
  if (BusyNow(e)) return ctx.Error(FERRITE_E_BUSY), false;
  while (!lk->try_lock_for(std::chrono::milliseconds(5)))
    if (BusyNow(e) || Api().shutting_down()) return ctx.Error(FERRITE_E_BUSY), false;
  return true;
}

// Splits "numkeys key... arg..." starting at argv[2]; replies and returns false on error.
// A numkeys that is no integer is FCALL's "Bad number of keys provided" (`fcall` true),
// EVAL's generic integer error.
bool SplitKeys(Ctx ctx, int argc, const ferrite_slice* argv, std::vector<std::string_view>* keys,
               std::vector<std::string_view>* args, bool fcall = false) {
  int64_t n = 0;
  if (!sdk::ParseInt64(SV(argv[2]), &n)) {
    if (fcall) ctx.Error("ERR Bad number of keys provided");
    else ctx.Error(FERRITE_E_NOT_INTEGER);
    return false;
  }
  if (n < 0) {
    ctx.Error("ERR Number of keys can't be negative");
    return false;
  }
  if (n > argc - 3) {
    ctx.Error("ERR Number of keys can't be greater than number of args");
    return false;
  }
  for (int i = 3; i < argc; i++) (i < 3 + n ? keys : args)->push_back(SV(argv[i]));
  return true;
}

int EvalKeys(int argc, const ferrite_slice* argv, int* out, int cap) {
  int64_t n = 0;
  if (argc < 3 || !sdk::ParseInt64(SV(argv[2]), &n) || n < 0 || n > argc - 3) return -1;
  for (int i = 0; i < n && i < cap; i++) out[i] = 3 + i;
  return static_cast<int>(n);
}

// "#!lua flags=no-writes,allow-oom" as Redis' evalExtractShebangFlags reads it (the
// same checks and texts, in its order); no-writes and allow-oom change what we do.
bool ShebangFlags(std::string_view body, bool* has_shebang, bool* no_writes, bool* allow_oom,
                  bool* allow_stale, std::string* err) {
  *has_shebang = body.size() >= 2 && body.substr(0, 2) == "#!";
  *no_writes = false;
  *allow_oom = false;
  *allow_stale = false;
  if (!*has_shebang) return true;
  size_t end = body.find('\n');
  if (end == std::string_view::npos) {
    *err = "ERR Invalid script shebang";
    return false;
  }
  auto parts = SplitShebangWords(body.substr(0, end));
  if (!parts || parts->empty()) {
    *err = "ERR Invalid engine in script shebang";
    return false;
  }
  if ((*parts)[0] != "#!lua") {
    *err = "ERR Unexpected engine in script shebang: " + (*parts)[0];
    return false;
  }
  for (size_t k = 1; k < parts->size(); k++) {
    std::string_view part = (*parts)[k];
    if (part.substr(0, 6) != "flags=") {
      *err = "ERR Unknown lua shebang option: " + std::string(part);
      return false;
    }
    std::string_view flags = part.substr(6);
    while (!flags.empty()) {
      size_t comma = flags.find(',');
      std::string_view f = flags.substr(0, comma);
      if (f == "no-writes") *no_writes = true;
      else if (f == "allow-oom") *allow_oom = true;
      else if (f == "allow-stale") *allow_stale = true;
      else if (f != "no-cluster" &&
               f != "allow-cross-slot-keys") {
        *err = "ERR Unexpected flag in script shebang: " + std::string(f);
        return false;
      }
      if (comma == std::string_view::npos) break;
      flags.remove_prefix(comma + 1);
      if (flags.empty()) {  // "a," : sdssplitlen yields a last, empty flag
        *err = "ERR Unexpected flag in script shebang: ";
        return false;
      }
    }
  }
  return true;
}

// Redis' scriptFlagsToCmdFlags / scriptPrepareForRun for a script that declared flags:
// it is DENYOOM unless allow-oom or no-writes; allow-oom lets its calls grow memory; the
// host checks the server state for it before it starts (FERRITE_SCRIPT_DECLARED).
int StartFlags(bool no_writes, bool allow_oom, bool allow_stale) {
  return (allow_oom ? FERRITE_SCRIPT_ALLOW_OOM : 0) |
         (allow_oom || no_writes ? 0 : FERRITE_SCRIPT_DENY_OOM) | FERRITE_SCRIPT_DECLARED |
         (no_writes ? FERRITE_SCRIPT_NO_WRITES : 0) |
         (allow_stale ? FERRITE_SCRIPT_ALLOW_STALE : 0);
}

enum class EvalMode { kBody, kSha };

int EvalGeneric(Ctx ctx, int argc, const ferrite_slice* argv, EvalMode mode, bool ro) {
  std::vector<std::string_view> keys, args;
  if (!SplitKeys(ctx, argc, argv, &keys, &args)) return FERRITE_OK;
  Engine* e = Eng(ctx);
  std::lock_guard lk(e->mu());
  std::string sha;
  if (mode == EvalMode::kBody) {
    std::string err;
    sha = e->LoadScript(SV(argv[1]), &err);
    if (sha.empty()) return ctx.Error(err);
  } else {
    sha = std::string(SV(argv[1]));
    for (auto& c : sha) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    if (!e->HasScript(sha)) return ctx.Error(FERRITE_E_NOSCRIPT);
  }
  bool has_shebang = false, no_writes = false, allow_oom = false, allow_stale = false;
  std::string err;
  if (!ShebangFlags(*e->ScriptBody(sha), &has_shebang, &no_writes, &allow_oom, &allow_stale,
                    &err))
    return ctx.Error(err);
  if (ro && has_shebang && !no_writes)
    return ctx.Error("ERR Can not execute a script with write flag using *_ro command.");
  RunSpec spec{ro || no_writes, false, sha, {}};
  // A script without a shebang keeps Redis 6's rules (only its DENYOOM calls are checked).
  if (has_shebang) spec.start_flags = StartFlags(no_writes, allow_oom, allow_stale);
  if (ro) spec.start_flags |= FERRITE_SCRIPT_NO_WRITES;
  e->RunScript(ctx, sha, std::move(spec), keys, args);
  return FERRITE_OK;
}

int CmdEval(Ctx c, int argc, const ferrite_slice* argv) {
  return EvalGeneric(c, argc, argv, EvalMode::kBody, false);
}
int CmdEvalRo(Ctx c, int argc, const ferrite_slice* argv) {
  return EvalGeneric(c, argc, argv, EvalMode::kBody, true);
}
int CmdEvalSha(Ctx c, int argc, const ferrite_slice* argv) {
  return EvalGeneric(c, argc, argv, EvalMode::kSha, false);
}
int CmdEvalShaRo(Ctx c, int argc, const ferrite_slice* argv) {
  return EvalGeneric(c, argc, argv, EvalMode::kSha, true);
}

int UnknownSub(Ctx ctx, std::string_view cmd, std::string_view sub) {
  return ctx.Error("ERR unknown subcommand '" + std::string(sub) + "'. Try " + std::string(cmd) +
                   " HELP.");
}
// Redis' addReplySubcommandSyntaxError: the subcommand as typed, the command in capitals.
int SubSyntax(Ctx ctx, std::string_view cmd, std::string_view sub) {
  return ctx.Error("ERR unknown subcommand or wrong number of arguments for '" +
                   std::string(sub.substr(0, 128)) + "'. Try " + std::string(cmd) + " HELP.");
}
int SubArity(Ctx ctx, std::string_view cmd, std::string_view sub) {
  std::string name = std::string(cmd) + "|" + std::string(sub);
  for (auto& ch : name) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
  return ctx.Error(FERRITE_E_ARITY, name);
}

// Redis 7.0.15's SCRIPT HELP / FUNCTION HELP, line for line.
constexpr const char* kScriptHelp[] = {
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
};

constexpr const char* kFunctionHelp[] = {
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored "
    "using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a "
    "restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
    "abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
    "replace the old",
    "      libraries with the new libraries (notice that even on this option there is a "
    "chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
};

// SCRIPT HELP / FUNCTION HELP: one status line each, as Redis' addReplyHelp.
template <size_t N>
int ReplyHelp(Ctx ctx, std::string_view cmd, int argc, const char* const (&lines)[N]) {
  if (argc != 2) return SubArity(ctx, cmd, "HELP");
  ctx.Array(N);
  for (const char* l : lines) ctx.Simple(l);
  return FERRITE_OK;
}

int CmdScript(Ctx ctx, int argc, const ferrite_slice* argv) {
  Engine* e = Eng(ctx);
  auto sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "KILL")) {
    if (argc != 2) return SubArity(ctx, "SCRIPT", sub);
    std::string r = e->RequestKill(false);
    return r == "OK" ? ctx.Ok() : ctx.Error(r);
  }
  if (BusyNow(e)) return ctx.Error(FERRITE_E_BUSY);
  if (EqualsIgnoreCase(sub, "HELP")) return ReplyHelp(ctx, "SCRIPT", argc, kScriptHelp);
  std::unique_lock<std::timed_mutex> lk;
  if (!LockVm(ctx, e, &lk)) return FERRITE_OK;
  if (EqualsIgnoreCase(sub, "LOAD")) {
    if (argc != 3) return SubArity(ctx, "SCRIPT", sub);
    std::string err;
    std::string sha = e->LoadScript(SV(argv[2]), &err);
    return sha.empty() ? ctx.Error(err) : ctx.Bulk(sha);
  }
  if (EqualsIgnoreCase(sub, "EXISTS")) {
    if (argc < 3) return SubArity(ctx, "SCRIPT", sub);
    ctx.Array(argc - 2);
    for (int i = 2; i < argc; i++) {
      std::string sha(SV(argv[i]));
      for (auto& ch : sha) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
      ctx.Int(e->HasScript(sha) ? 1 : 0);
    }
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "FLUSH")) {
    if (argc > 3 || (argc == 3 && !EqualsIgnoreCase(SV(argv[2]), "ASYNC") &&
        !EqualsIgnoreCase(SV(argv[2]), "SYNC")))
      return ctx.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    e->FlushScripts();
    return ctx.Ok();
  }
  return UnknownSub(ctx, "SCRIPT", sub);
}

// ------------------------------- functions ---------------------------------------------

int FunctionLoad(Ctx ctx, Engine* e, int argc, const ferrite_slice* argv) {
  bool replace = false;
  int i = 2;
  if (argc == 4 && EqualsIgnoreCase(SV(argv[2]), "REPLACE")) {
    replace = true;
    i = 3;
  } else if (argc != 3) {
    return argc < 3 ? SubArity(ctx, "FUNCTION", "LOAD")
                    : ctx.Error("ERR Unknown option given: " + std::string(SV(argv[2])));
  }
  std::string err;
  std::string name = e->LoadLibrary(SV(argv[i]), replace, &err);
  if (name.empty()) return ctx.Error(err);
  Api().propagate(ctx.get(), argc, argv);
  return ctx.Bulk(name);
}

void ReplyLibrary(Ctx ctx, Engine* e, const Library& lib, bool with_code) {
  ctx.Map(with_code ? 4 : 3);
  ctx.Bulk("library_name");
  ctx.Bulk(lib.name);
  ctx.Bulk("engine");
  ctx.Bulk("LUA");
  ctx.Bulk("functions");
  ctx.Array(lib.functions.size());
  for (auto& fname : lib.functions) {
    const Function* f = e->FindFunction(fname);
    ctx.Map(3);
    ctx.Bulk("name");
    ctx.Bulk(fname);
    ctx.Bulk("description");
    if (f && f->has_description) ctx.Bulk(f->description);
    else ctx.Null();
    ctx.Bulk("flags");
    ctx.Set(f ? f->flags.size() : 0);
    if (f)
      for (auto& fl : f->flags) ctx.Simple(fl);
  }
  if (with_code) {
    ctx.Bulk("library_code");
    ctx.Bulk(lib.code);
  }
}

int FunctionList(Ctx ctx, Engine* e, int argc, const ferrite_slice* argv) {
  bool with_code = false;
  std::string pattern;
  bool has_pattern = false;
  // Each option once (a repeated one is an unknown argument), as Redis parses them.
  for (int i = 2; i < argc; i++) {
    if (!with_code && EqualsIgnoreCase(SV(argv[i]), "WITHCODE")) {
      with_code = true;
    } else if (!has_pattern && EqualsIgnoreCase(SV(argv[i]), "LIBRARYNAME")) {
      if (i + 1 >= argc) return ctx.Error("ERR library name argument was not given");
      pattern = SV(argv[++i]);
      has_pattern = true;
    } else {
      return ctx.Error("ERR Unknown argument " + std::string(SV(argv[i])));
    }
  }
  std::vector<const Library*> libs;
  for (auto& [n, lib] : e->libraries())
    if (!has_pattern || sdk::GlobMatch(pattern, n)) libs.push_back(&lib);
  ctx.Array(libs.size());
  for (auto* lib : libs) ReplyLibrary(ctx, e, *lib, with_code);
  return FERRITE_OK;
}

int FunctionStats(Ctx ctx, Engine* e) {
  // Redis: FUNCTION STATS is for functions; during an EVAL it answers the EVAL BUSY text.
  if (e->busy() && !e->busy_is_function()) return ctx.Error(FERRITE_E_BUSY);
  ctx.Map(2);
  ctx.Bulk("running_script");
  if (e->busy()) {
    ctx.Map(3);
    ctx.Bulk("name");
    ctx.Bulk(e->running_name());
    ctx.Bulk("command");
    std::vector<std::string> cmd = e->running_command();
    ctx.Array(cmd.size());
    for (auto& a : cmd) ctx.Bulk(a);
    ctx.Bulk("duration_ms");
    ctx.Int(ctx.NowMs() - e->busy_since_ms());
  } else {
    ctx.Null();
  }
  ctx.Bulk("engines");
  ctx.Map(1);
  ctx.Bulk("LUA");
  // Counts read without the VM lock would race with FUNCTION LOAD; a script that
  // started since the check above holds the lock until it ends: no counts then either.
  std::unique_lock lk(e->mu(), std::defer_lock);
  while (!e->busy() && !lk.try_lock_for(std::chrono::milliseconds(5))) {
  }
  if (!lk.owns_lock()) {
    ctx.Map(0);
    return FERRITE_OK;
  }
  ctx.Map(2);
  ctx.Bulk("libraries_count");
  ctx.Int(static_cast<int64_t>(e->libraries().size()));
  ctx.Bulk("functions_count");
  ctx.Int(static_cast<int64_t>(e->function_count()));
  return FERRITE_OK;
}

int FunctionLocked(Ctx ctx, Engine* e, int argc, const ferrite_slice* argv) {
  auto sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "LOAD")) return FunctionLoad(ctx, e, argc, argv);
  if (EqualsIgnoreCase(sub, "LIST")) return FunctionList(ctx, e, argc, argv);
  if (EqualsIgnoreCase(sub, "DELETE")) {
    if (argc != 3) return SubArity(ctx, "FUNCTION", sub);
    if (!e->DeleteLibrary(std::string(SV(argv[2])))) return ctx.Error("ERR Library not found");
    Api().propagate(ctx.get(), argc, argv);
    return ctx.Ok();
  }
  if (EqualsIgnoreCase(sub, "FLUSH")) {
    if (argc > 3) return SubSyntax(ctx, "FUNCTION", sub);
    if (argc == 3 && !EqualsIgnoreCase(SV(argv[2]), "ASYNC") &&
        !EqualsIgnoreCase(SV(argv[2]), "SYNC"))
      return ctx.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    e->FlushFunctions();
    Api().propagate(ctx.get(), argc, argv);
    return ctx.Ok();
  }
  if (EqualsIgnoreCase(sub, "DUMP")) {
    if (argc != 2) return SubArity(ctx, "FUNCTION", sub);
    return ctx.Bulk(DumpFunctions(*e));
  }
  if (EqualsIgnoreCase(sub, "RESTORE")) {
    if (argc < 3) return SubArity(ctx, "FUNCTION", sub);
    if (argc > 4) return SubSyntax(ctx, "FUNCTION", sub);
    RestorePolicy policy = RestorePolicy::kAppend;
    if (argc == 4) {
      auto p = SV(argv[3]);
      if (EqualsIgnoreCase(p, "FLUSH")) policy = RestorePolicy::kFlush;
      else if (EqualsIgnoreCase(p, "REPLACE")) policy = RestorePolicy::kReplace;
      else if (!EqualsIgnoreCase(p, "APPEND"))
        return ctx.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
    }
    std::string err = RestoreFunctions(*e, SV(argv[2]), policy);
    if (!err.empty()) return ctx.Error(err);
    Api().propagate(ctx.get(), argc, argv);
    return ctx.Ok();
  }
  return UnknownSub(ctx, "FUNCTION", sub);
}

int CmdFunction(Ctx ctx, int argc, const ferrite_slice* argv) {
  Engine* e = Eng(ctx);
  auto sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "KILL")) {
    if (argc != 2) return SubArity(ctx, "FUNCTION", sub);
    std::string r = e->RequestKill(true);
    return r == "OK" ? ctx.Ok() : ctx.Error(r);
  }
  if (EqualsIgnoreCase(sub, "STATS")) {
    if (argc != 2) return SubArity(ctx, "FUNCTION", sub);
    return FunctionStats(ctx, e);
  }
  if (BusyNow(e)) return ctx.Error(FERRITE_E_BUSY);
  if (EqualsIgnoreCase(sub, "HELP")) return ReplyHelp(ctx, "FUNCTION", argc, kFunctionHelp);
  std::unique_lock<std::timed_mutex> lk;
  if (!LockVm(ctx, e, &lk)) return FERRITE_OK;
  return FunctionLocked(ctx, e, argc, argv);
}

int FcallGeneric(Ctx ctx, int argc, const ferrite_slice* argv, bool ro) {
  Engine* e = Eng(ctx);
  std::lock_guard lk(e->mu());
  const Function* f = e->FindFunction(std::string(SV(argv[1])));
  if (!f) return ctx.Error("ERR Function not found");
  std::vector<std::string_view> keys, args;
  if (!SplitKeys(ctx, argc, argv, &keys, &args, true)) return FERRITE_OK;
  bool no_writes = false, allow_oom = false, allow_stale = false;
  for (auto& fl : f->flags) {
    no_writes = no_writes || fl == "no-writes";
    allow_oom = allow_oom || fl == "allow-oom";
    allow_stale = allow_stale || fl == "allow-stale";
  }
  if (ro && !no_writes)
    return ctx.Error("ERR Can not execute a script with write flag using *_ro command.");
  RunSpec spec{ro || no_writes, true, f->name, {}};
  spec.start_flags = StartFlags(no_writes, allow_oom, allow_stale);
  for (int i = 0; i < argc; i++) spec.command.emplace_back(SV(argv[i]));
  e->RunFunction(ctx, *f, std::move(spec), keys, args);
  return FERRITE_OK;
}

int CmdFcall(Ctx c, int argc, const ferrite_slice* argv) { return FcallGeneric(c, argc, argv, false); }

// Redis' scriptFlagsToCmdFlags for the flags a pause looks at: a script that declared its
// flags writes unless no-writes, and is no longer "may-replicate" either way.
uint32_t DeclaredFlags(uint32_t declared, bool no_writes) {
  declared &= ~(FERRITE_CMD_WRITE | FERRITE_CMD_MAY_REPLICATE);
  return no_writes ? declared : declared | FERRITE_CMD_WRITE;
}

// call_flags (Redis' evalGetCommandFlags / fcallGetCommandFlags). The engine lock is only
// tried: a script running on another thread holds it, and the declared flags (the
// stricter answer) then stand.
uint32_t EvalCallFlags(ferrite_ctx* c, int argc, const ferrite_slice* argv, uint32_t declared) {
  if (argc < 2) return declared;
  bool has_shebang = false, no_writes = false, allow_oom = false, allow_stale = false;
  std::string err;
  if (!ShebangFlags(SV(argv[1]), &has_shebang, &no_writes, &allow_oom, &allow_stale, &err) || !has_shebang)
    return declared;
  (void)c;
  return DeclaredFlags(declared, no_writes);
}

uint32_t EvalShaCallFlags(ferrite_ctx* c, int argc, const ferrite_slice* argv,
                          uint32_t declared) {
  if (argc < 2 || argv[1].len != 40) return declared;
  Engine* e = Eng(Ctx(c));
  std::unique_lock lk(e->mu(), std::try_to_lock);
  if (!lk.owns_lock()) return declared;
  std::string sha(SV(argv[1]));
  for (auto& ch : sha) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
  const std::string* body = e->ScriptBody(sha);
  bool has_shebang = false, no_writes = false, allow_oom = false, allow_stale = false;
  std::string err;
  if (!body || !ShebangFlags(*body, &has_shebang, &no_writes, &allow_oom, &allow_stale, &err) || !has_shebang)
    return declared;
  return DeclaredFlags(declared, no_writes);
}

uint32_t FcallCallFlags(ferrite_ctx* c, int argc, const ferrite_slice* argv, uint32_t declared) {
  if (argc < 2) return declared;
  Engine* e = Eng(Ctx(c));
  std::unique_lock lk(e->mu(), std::try_to_lock);
  if (!lk.owns_lock()) return declared;
  const Function* f = e->FindFunction(std::string(SV(argv[1])));
  if (!f) return declared;
  bool no_writes = false;
  for (auto& fl : f->flags) no_writes = no_writes || fl == "no-writes";
  return DeclaredFlags(declared, no_writes);
}
int CmdFcallRo(Ctx c, int argc, const ferrite_slice* argv) { return FcallGeneric(c, argc, argv, true); }

using namespace sdk::flags;
constexpr uint32_t kRun = ALL_KEYS | NOSCRIPT | STALE | SKIP_MONITOR | FERRITE_CMD_SKIP_PROPAGATE;
constexpr uint32_t kAdmin = NOSCRIPT | ALLOW_BUSY;

// Redis 7.0's subcommands with their own arity and flags (src/commands/*.json): the host
// applies them (SCRIPT KILL, FUNCTION KILL/STATS run while a script is busy; SCRIPT HELP
// may be called from a script).
// clang-format off
constexpr sdk::SubcommandSpec kScriptSubs[] = {
  {"KILL",     2, NOSCRIPT | ALLOW_BUSY},
  {"LOAD",     3, NOSCRIPT | STALE},
  {"EXISTS",  -3, NOSCRIPT},
  {"FLUSH",   -2, NOSCRIPT},
  {"HELP",     2, LOADING | STALE},
};
constexpr sdk::SubcommandSpec kFunctionSubs[] = {
  {"LOAD",    -3, WRITE | DENYOOM | NOSCRIPT},
  {"LIST",    -2, NOSCRIPT},
  {"DELETE",   3, WRITE | NOSCRIPT},
  {"FLUSH",   -2, WRITE | NOSCRIPT},
  {"DUMP",     2, NOSCRIPT},
  {"RESTORE", -3, WRITE | DENYOOM | NOSCRIPT},
  {"KILL",     2, NOSCRIPT | ALLOW_BUSY},
  {"STATS",    2, NOSCRIPT | ALLOW_BUSY},
  {"HELP",     2, LOADING | STALE},
};

const sdk::CommandSpec kCommands[] = {
  {"EVAL",        -3, kRun | MAY_REPLICATE, 0, 0, 0, sdk::Guarded<CmdEval>,      "scripting", EvalKeys, "Execute a Lua script server side",    {}, nullptr, EvalCallFlags},
  {"EVALSHA",     -3, kRun | MAY_REPLICATE, 0, 0, 0, sdk::Guarded<CmdEvalSha>,   "scripting", EvalKeys, "Execute a cached Lua script by SHA1", {}, nullptr, EvalShaCallFlags},
  {"EVAL_RO",     -3, kRun | READONLY,      0, 0, 0, sdk::Guarded<CmdEvalRo>,    "scripting", EvalKeys, "Execute a read-only Lua script"},
  {"EVALSHA_RO",  -3, kRun | READONLY,      0, 0, 0, sdk::Guarded<CmdEvalShaRo>, "scripting", EvalKeys, "Execute a cached read-only Lua script"},
  {"FCALL",       -3, kRun | MAY_REPLICATE, 0, 0, 0, sdk::Guarded<CmdFcall>,     "scripting", EvalKeys, "Invoke a function",                   {}, nullptr, FcallCallFlags},
  {"FCALL_RO",    -3, kRun | READONLY,      0, 0, 0, sdk::Guarded<CmdFcallRo>,   "scripting", EvalKeys, "Invoke a read-only function"},
  {"SCRIPT",      -2, kAdmin,               0, 0, 0, sdk::Guarded<CmdScript>,    "scripting", nullptr,  "Manage the script cache",     sdk::Subcommands(kScriptSubs)},
  {"FUNCTION",    -2, kAdmin,               0, 0, 0, sdk::Guarded<CmdFunction>,  "scripting", nullptr,  "Manage function libraries",   sdk::Subcommands(kFunctionSubs)},
};
// clang-format on

// The host has no getter for a plugin's state, so unload finds its engine here.
std::mutex g_engines_mu;
std::unordered_map<ferrite_plugin*, std::unique_ptr<Engine>> g_engines;

int Load(ferrite_plugin* p) {
  auto e = std::make_unique<Engine>();
  Engine* engine = e.get();
  Api().set_plugin_state(p, engine);
  {
    std::lock_guard lk(g_engines_mu);
    g_engines[p] = std::move(e);
  }
  // INFO memory's scripting fields (the host removes them before Unload frees the engine).
  if (FERRITE_HAS_API(&Api(), info_register_fields))
    Api().info_register_fields(
        p, "memory",
        [](void* ud, ferrite_info* out) { static_cast<const Engine*>(ud)->WriteInfo(out); },
        engine);
  return sdk::RegisterAll(p, kCommands);
}

void Unload(ferrite_plugin* p) {
  std::lock_guard lk(g_engines_mu);
  g_engines.erase(p);
}

}  // namespace

}  // namespace ferrite::mod::scripting

using ferrite::mod::scripting::Unload;

FERRITE_DEFINE_PLUGIN("scripting", 1, ferrite::mod::scripting::Load, Unload)
