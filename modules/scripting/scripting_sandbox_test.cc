// Every escape route out of the sandbox must fail.
#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

HarnessOptions Opts() { return HarnessOptions{.plugins = {"scripting", "strings", "keys"}}; }

std::string Eval(Harness& h, const std::string& body) {
  Reply r = h.Run({"EVAL", body, "0"});
  return r.type == FERRITE_REPLY_ERROR ? "ERR:" + r.str : r.str;
}

TEST(Sandbox, DangerousGlobalsAreAbsent) {
  Harness h(Opts());
  for (std::string g : {"os", "io", "debug", "require", "package", "loadfile", "dofile", "ffi",
                        "jit", "setfenv", "getfenv", "print", "newproxy", "module"}) {
    EXPECT_THAT(h.Run({"EVAL", "return type(" + g + ")", "0"}),
                IsErrorPrefix("ERR user_script:1: Script attempted to access nonexistent "
                              "global variable '" + g + "'"))
        << g;
  }
}

TEST(Sandbox, GlobalsAndLibrariesAreReadOnly) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "x = 1", "0"}),
              IsErrorPrefix("ERR user_script:1: Attempt to modify a readonly table script: "));
  EXPECT_THAT(h.Run({"EVAL", "rawset(_G, 'x', 1)", "0"}),
              IsErrorPrefix("ERR user_script:1: Attempt to modify a readonly table"));
  EXPECT_THAT(h.Run({"EVAL", "string.upper = nil", "0"}),
              IsErrorPrefix("ERR user_script:1: Attempt to modify a readonly table"));
  EXPECT_THAT(h.Run({"EVAL", "redis.call = function() return 1 end", "0"}),
              IsErrorPrefix("ERR user_script:1: Attempt to modify a readonly table"));
  EXPECT_THAT(h.Run({"EVAL", "getmetatable('').__index = {}", "0"}),
              IsErrorPrefix("ERR user_script:1: Attempt to modify a readonly table"));
  // Redis' texts: setmetatable on a read-only table is a write to it (no position: the
  // C function raises); the globals' metatable is visible but read-only.
  EXPECT_THAT(h.Run({"EVAL", "setmetatable(_G, nil)", "0"}),
              IsErrorPrefix("ERR Attempt to modify a readonly table script:"));
  EXPECT_THAT(h.Run({"EVAL", "local g = getmetatable(_G) g.__index = {}", "0"}),
              IsErrorPrefix("ERR user_script:1: Attempt to modify a readonly table"));
  EXPECT_THAT(h.Run({"EVAL", "return type(getmetatable(_G).__index)", "0"}),
              IsBulk("function"));
  EXPECT_THAT(h.Run({"EVAL", "return ('abc'):upper()", "0"}), IsBulk("ABC"));
  // Nothing leaked into the next script.
  EXPECT_THAT(h.Run({"EVAL", "return type(x)", "0"}),
              IsErrorPrefix("ERR user_script:1: Script attempted to access nonexistent"));
}

TEST(Sandbox, NoBytecodeAndLoadedChunksStaySandboxed) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "return loadstring(string.dump(function() return 1 end))", "0"}),
              IsNull());
  EXPECT_THAT(h.Run({"EVAL", "return loadstring('return 1+1')()", "0"}), IsInt(2));
  EXPECT_THAT(h.Run({"EVAL", "return loadstring('return os')()", "0"}),
              IsErrorPrefix("ERR "));
  EXPECT_THAT(h.Run({"EVAL", "local f = loadstring('y = 1') f()", "0"}),
              IsErrorPrefix("ERR "));
  std::string s = Eval(h, "local ok = pcall(function() return os.exit end) return ok");
  EXPECT_EQ(s, "");  // false → null
}

// pairs/next see through the read-only proxies (as Redis' readonly tables), and what
// they hand out stays read-only.
TEST(Sandbox, PairsAndNextEnumerateProxiedTables) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "local n = {} for k in pairs(_G) do n[k] = true end "
                             "return {tostring(n.redis), tostring(n.KEYS), tostring(n.string), "
                             "tostring(n.cjson), tostring(n.os)}", "1", "k"}),
              IsBulkArray({"true", "true", "true", "true", "nil"}));
  EXPECT_THAT(h.Run({"EVAL", "local k = next(string) return type(string[k])", "0"}),
              IsBulk("function"));
  EXPECT_THAT(h.Run({"EVAL", "local k, v = next({a = 1}) return k .. v", "0"}), IsBulk("a1"));
  EXPECT_THAT(h.Run({"EVAL", "return next({})", "0"}), IsNull());
  EXPECT_THAT(h.Run({"EVAL", "for k, v in pairs(_G) do if k == 'math' then v.pi = 3 end end", "0"}),
              IsErrorPrefix("ERR user_script:1: Attempt to modify a readonly table"));
  // NOTE: LuaJIT names neither the function nor the line here (nor for ipairs(nil));
  // Redis says "user_script:1: bad argument #1 to 'pairs'".
  Reply bad = h.Run({"EVAL", "return pairs(nil)", "0"});
  EXPECT_EQ(bad.type, FERRITE_REPLY_ERROR);
  EXPECT_NE(bad.str.find("(table expected, got nil)"), std::string::npos) << bad.str;
}

TEST(Sandbox, CompatibilityFunctionsExist) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "return {type(table.getn), type(unpack), type(math.random), "
                             "type(coroutine.create), type(string.gfind), _VERSION}", "0"}),
              IsBulkArray({"function", "function", "function", "function", "function", "Lua 5.1"}));
}

TEST(Sandbox, RedisHelpers) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "return redis.sha1hex('')", "0"}),
              IsBulk("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  EXPECT_THAT(h.Run({"EVAL", "return redis.replicate_commands()", "0"}), IsInt(1));
  EXPECT_THAT(h.Run({"EVAL", "redis.set_repl(redis.REPL_ALL) redis.log(redis.LOG_WARNING, 'hi') "
                             "redis.debug('x') return redis.breakpoint()", "0"}),
              IsNull());
}

TEST(Sandbox, Resp3Conversions) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "redis.setresp(3) return {double=3.5}", "0"}), IsDouble(3.5));
  EXPECT_THAT(h.Run({"EVAL", "redis.setresp(3) return tostring(redis.call('GET','missing') == nil)",
                     "0"}),
              IsBulk("true"));
  EXPECT_THAT(h.Run({"EVAL", "return redis.setresp(4)", "0"}),
              IsErrorPrefix("ERR RESP version must be 2 or 3. script: "));
}

}  // namespace
}  // namespace ferrite::test
