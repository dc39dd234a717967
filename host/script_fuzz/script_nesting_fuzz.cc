// libFuzzer target for the scripting engine under nesting: the input bytes drive a small
// generator that writes a Lua script out of nested coroutines (create/resume, wrap/yield,
// yield across pcall), pcall/xpcall, error() with strings and tables, metamethods
// (__index, __call, __tostring, __add, __concat, __eq, __lt), self-resuming coroutine
// chains and string.gsub / table.sort callbacks that recurse in C, plain Lua recursion,
// and redis.call / redis.pcall / reply helpers. Random bytes always make a valid
// script, so the engine is reached on every input instead of stopping at the Lua parser.
//
// The script runs in a real in-process host (strings, keys and scripting plugins, no
// sockets) through Host::Execute, as EVAL, as a FUNCTION LOAD library plus FCALL, or as
// a library whose top-level code does the nesting (the load-time path). Invariants:
//  - nothing crashes: the C-stack guard (stack_guard.h) turns runaway C recursion into
//    a Lua error, whatever the depth the input asks for;
//  - every command answers exactly one reply;
//  - afterwards the engine is intact: EVAL "return redis.call('ping')" answers PONG and
//    a plain FCALL of a fresh library answers its value, so no guard state, hook, busy
//    flag or half-open call leaks from one script into the next.
//
// Built with FERRITE_FUZZ=ON (clang; the host library and the scripting plugin are
// instrumented there):
//   build/fuzz/host/script_nesting_fuzz -timeout=30 -rss_limit_mb=4096
//     /tmp/nest-corpus host/script_fuzz/nesting-corpus
// The committed corpus is replayed by ctest (script_nesting_corpus_test).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ferrite/module.h"
#include "host/client.h"
#include "host/context.h"
#include "host/host.h"

namespace {

using ferrite::host::Host;

[[noreturn]] void Violation(const std::string& why) {
  std::fprintf(stderr, "INVARIANT VIOLATED: %s\n", why.c_str());
  std::abort();
}

// ------------------------------- the script generator ----------------------------------

class Gen {
 public:
  Gen(const uint8_t* p, size_t n) : p_(p), n_(n) {}

  uint8_t Byte() { return i_ < n_ ? p_[i_++] : 0; }
  // A depth a chain asks for: mostly small, sometimes far past any guard.
  unsigned Depth() {
    unsigned a = Byte(), b = Byte();
    return (a & 0x80) ? ((a & 0x7f) << 9 | b << 1) : a % 40;  // up to 65,534
  }

  std::string Expr(int depth) {
    if (depth >= kMaxDepth || nodes_ >= kMaxNodes || i_ >= n_) return Leaf();
    nodes_++;
    int d = depth + 1;
    switch (Byte() % 22) {
      case 0:
        return "(function() local co = coroutine.create(function(a) return " + Expr(d) +
               " end) local r = {coroutine.resume(co, " + Expr(d) + ")} return r[2] end)()";
      case 1:
        return "(function() local g = coroutine.wrap(function() coroutine.yield(" + Expr(d) +
               ") return " + Expr(d) + " end) local a = g() local b = g() return b or a end)()";
      case 2:
        return "select(2, pcall(function() return " + Expr(d) + " end))";
      case 3:
        return "select(2, xpcall(function() return " + Expr(d) + " end, function(e) return " +
               Expr(d) + " end))";
      case 4:
        return "error(" + Expr(d) + ((Byte() & 1) ? ", 0)" : ")");
      case 5:
        return "error({err = tostring(" + Expr(d) + ")})";
      case 6:
        return "setmetatable({}, {__index = function(t, k) return " + Expr(d) + " end}).x";
      case 7:
        return "setmetatable({}, {__call = function(self, a) return " + Expr(d) + " end})(" +
               Expr(d) + ")";
      case 8:
        return "tostring(setmetatable({}, {__tostring = function() return " + Expr(d) +
               " end}))";
      case 9: {
        static const char* kOps[] = {"+", "..", "==", "<"};
        static const char* kMeta[] = {"__add", "__concat", "__eq", "__lt"};
        int o = Byte() % 4;
        return "(function() local mt = {" + std::string(kMeta[o]) +
               " = function(a, b) return " + Expr(d) +
               " end} local x, y = setmetatable({}, mt), setmetatable({}, mt) return x " +
               kOps[o] + " y end)()";
      }
      case 10:
        return "redis.pcall('set', KEYS[1], tostring(" + Expr(d) + "))";
      case 11:
        return "redis.call('set', KEYS[1], tostring(" + Expr(d) + "))";
      case 12:
        return "(function() local function f(n) if n <= 0 then return " + Expr(d) +
               " end local r = f(n - 1) return r end return f(" + std::to_string(Depth()) +
               ") end)()";
      case 13:  // the chain that once overflowed the C stack
        return "(function() local function f(n) if n <= 0 then return " + Expr(d) +
               " end local co = coroutine.create(f) local ok, v = coroutine.resume(co, n - 1)"
               " if not ok then error(v, 0) end return v end return f(" +
               std::to_string(Depth()) + ") end)()";
      case 14:
        return "(function() local function g(n) if n <= 0 then return tostring(" + Expr(d) +
               ") end return (string.gsub('a', 'a', function() return g(n - 1) end)) end "
               "return g(" + std::to_string(Depth()) + ") end)()";
      case 15:
        return "(function() local t = {3, 1, 2} table.sort(t, function(a, b) local _ = " +
               Expr(d) + " return a < b end) return t[1] end)()";
      case 16:
        return "coroutine.wrap(function() return select(2, pcall(function() return "
               "coroutine.yield(" + Expr(d) + ") end)) end)()";
      case 17:
        return "cjson.decode(cjson.encode({" + Expr(d) + "}))[1]";
      case 18:
        return (Byte() & 1) ? "redis.error_reply(tostring(" + Expr(d) + "))"
                            : "redis.status_reply(tostring(" + Expr(d) + "))";
      case 19:
        return "(tostring(" + Expr(d) + ") .. string.rep('x', " + std::to_string(Byte() % 64) +
               "))";
      case 20: {
        if (loops_ >= 2) return Leaf();  // nested loops multiply: two levels at most
        loops_++;
        std::string body = Expr(d);
        loops_--;
        return "(function() local acc = {} for i = 1, " + std::to_string(Byte() % 8) +
               " do acc[#acc + 1] = " + body + " end return acc end)()";
      }
      default:
        return "{" + Expr(d) + ", " + Expr(d) + "}";
    }
  }

  size_t Used() const { return i_; }

 private:
  static constexpr int kMaxDepth = 12;
  static constexpr int kMaxNodes = 48;

  std::string Leaf() {
    switch (Byte() % 12) {
      case 0: return std::to_string(static_cast<int>(Byte()) - 64);
      case 1: return "'s" + std::to_string(Byte()) + "'";
      case 2: return "nil";
      case 3: return "true";
      case 4: return "{}";
      case 5: return "redis.call('get', KEYS[1])";
      case 6: return "ARGV[1]";
      case 7: return "redis.pcall('nosuchcommand')";
      case 8: return "redis.pcall('incr', KEYS[1])";
      case 9: return "redis.setresp(" + std::to_string(2 + Byte() % 2) + ")";
      case 10: return "3.5";
      default: return "redis.call('ping')";
    }
  }

  const uint8_t* p_;
  size_t n_;
  size_t i_ = 0;
  int nodes_ = 0;
  int loops_ = 0;
};

// ------------------------------- the in-process host -----------------------------------

struct Runner {
  std::unique_ptr<Host> host;
  ferrite_protocol_desc proto{};
  std::shared_ptr<ferrite::host::Client> client;
  void* capture = nullptr;  // in-band replies
  void* side = nullptr;     // the client's own (out-of-band) channel
  std::deque<std::function<void()>> tasks;

  Runner() {
    host = std::make_unique<Host>(std::make_unique<ferrite::host::Config>());
    host->clock().Freeze();
    ferrite::host::SetCurrentHost(host.get());
    for (const char* p : {"strings", "keys", "scripting"}) {
      std::string err = host->LoadPlugin(p);
      if (!err.empty()) Violation("cannot load plugin " + std::string(p) + ": " + err);
    }
    proto.struct_size = sizeof(ferrite_protocol_desc);
    proto.name = "fuzz";
    proto.sink = ferrite::host::CaptureSink();
    capture = ferrite::host::NewCaptureState();
    side = ferrite::host::NewCaptureState();
    client = host->NewClient();
    client->proto = &proto;
    client->proto_state = side;
    client->post = [this](std::function<void()> fn) { tasks.push_back(std::move(fn)); };
    client->on_output = [] {};
    client->on_unblocked = [] {};
  }

  // Runs one command; returns its reply (owned by the caller) after checking there was
  // exactly one.
  ferrite_call_reply* Run(const std::vector<std::string>& argv) {
    ferrite::host::SetCurrentHost(host.get());
    std::vector<ferrite_slice> s;
    for (auto& a : argv) s.push_back({a.data(), a.size()});
    host->Execute(client.get(), static_cast<int>(s.size()), s.data(),
                  ferrite::host::CaptureSink(), capture);
    ferrite_call_reply* r = ferrite::host::TakeCapture(capture);
    if (!r) Violation(argv[0] + " answered nothing");
    for (int guard = 0; guard < 1000 && !tasks.empty(); guard++) {
      auto fn = std::move(tasks.front());
      tasks.pop_front();
      fn();
    }
    if (ferrite_call_reply* extra = ferrite::host::TakeCapture(side))
      ferrite::host::HostApi()->free_call_reply(extra);  // e.g. a RESP3 push: allowed
    return r;
  }

  std::string Text(const ferrite_call_reply* r) {
    auto* api = ferrite::host::HostApi();
    ferrite_slice s = api->call_reply_type(r) == FERRITE_REPLY_ERROR
                          ? api->call_reply_error_text(r)
                          : api->call_reply_string(r);
    return std::string(s.ptr ? s.ptr : "", s.len);
  }

  // FERRITE_FUZZ_VERBOSE=1 prints each command and the start of its reply, to read
  // what an input turned into.
  void RunAndFree(const std::vector<std::string>& argv) {
    static const bool verbose = std::getenv("FERRITE_FUZZ_VERBOSE") != nullptr;
    ferrite_call_reply* r = Run(argv);
    if (verbose) {
      std::string line;
      for (auto& a : argv) line += a + " ";
      std::fprintf(stderr, "> %s\n< type %d: %.200s\n", line.c_str(),
                   static_cast<int>(ferrite::host::HostApi()->call_reply_type(r)),
                   Text(r).c_str());
    }
    ferrite::host::HostApi()->free_call_reply(r);
  }

  // The engine answers an ordinary script as if nothing had happened before.
  void CheckIntact() {
    auto* api = ferrite::host::HostApi();
    ferrite_call_reply* r = Run({"EVAL", "return redis.call('ping')", "0"});
    if (api->call_reply_type(r) != FERRITE_REPLY_SIMPLE || Text(r) != "PONG")
      Violation("after the input, EVAL of ping answered '" + Text(r) + "'");
    api->free_call_reply(r);
    RunAndFree({"FUNCTION", "LOAD", "REPLACE",
                "#!lua name=probe\nredis.register_function('probe', function() return 7 end)"});
    r = Run({"FCALL", "probe", "0"});
    if (api->call_reply_type(r) != FERRITE_REPLY_INTEGER || api->call_reply_integer(r) != 7)
      Violation("after the input, FCALL probe answered '" + Text(r) + "'");
    api->free_call_reply(r);
  }
};

Runner& Instance() {
  // Never destroyed: libFuzzer exits without unwinding.
  static Runner* r = new Runner();
  return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Runner& run = Instance();
  uint8_t mode = data[0];
  Gen gen(data + 1, size - 1);
  std::string expr = gen.Expr(0);
  run.client->resp = (mode & 0x10) ? 3 : 2;
  switch (mode % 3) {
    case 0:
      run.RunAndFree({"EVAL", "local v = " + expr + "\nreturn v", "1", "k", "a"});
      break;
    case 1:
      run.RunAndFree({"FUNCTION", "LOAD", "REPLACE",
                      "#!lua name=fz\nredis.register_function('f', function(KEYS, ARGV) "
                      "return " + expr + " end)"});
      run.RunAndFree({"FCALL", "f", "1", "k", "a"});
      break;
    default:  // the nesting runs in the library's top-level code, at load time
      run.RunAndFree({"FUNCTION", "LOAD", "REPLACE",
                      "#!lua name=fz\nlocal KEYS, ARGV = {'k'}, {'a'}\nlocal ok = pcall("
                      "function() return " + expr + " end)\n"
                      "redis.register_function('f', function() return 1 end)"});
      break;
  }
  run.client->resp = 2;
  run.CheckIntact();
  run.RunAndFree({"FUNCTION", "FLUSH"});
  run.RunAndFree({"FLUSHALL"});
  return 0;
}
