// Family tests for scripting.so through the in-process harness.
#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

HarnessOptions Opts() { return HarnessOptions{.plugins = {"scripting", "strings", "keys"}}; }

TEST(Eval, ReturnsConvertedValues) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "return 1", "0"}), IsInt(1));
  EXPECT_THAT(h.Run({"EVAL", "return 3.99", "0"}), IsInt(3));
  EXPECT_THAT(h.Run({"EVAL", "return -3.99", "0"}), IsInt(-3));
  EXPECT_THAT(h.Run({"EVAL", "return 'x'", "0"}), IsBulk("x"));
  EXPECT_THAT(h.Run({"EVAL", "return true", "0"}), IsInt(1));
  EXPECT_THAT(h.Run({"EVAL", "return false", "0"}), IsNull());
  EXPECT_THAT(h.Run({"EVAL", "return nil", "0"}), IsNull());
  EXPECT_THAT(h.Run({"EVAL", "return {1,'a',{2}}", "0"}),
              IsArrayOf({IsInt(1), IsBulk("a"), IsIntArray({2})}));
  EXPECT_THAT(h.Run({"EVAL", "return {1,2,nil,4}", "0"}), IsIntArray({1, 2}));
  EXPECT_THAT(h.Run({"EVAL", "return {ok='fine'}", "0"}), IsSimple("fine"));
  EXPECT_THAT(h.Run({"EVAL", "return {err='MY bad'}", "0"}), IsError("MY bad"));
  EXPECT_THAT(h.Run({"EVAL", "return redis.status_reply('OK')", "0"}), IsOk());
  EXPECT_THAT(h.Run({"EVAL", "return redis.error_reply('bad')", "0"}), IsError("ERR bad"));
  EXPECT_THAT(h.Run({"EVAL", "return redis.error_reply('XX bad')", "0"}), IsError("XX bad"));
}

TEST(Eval, KeysAndArgv) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "return {KEYS[1],KEYS[2],ARGV[1],#ARGV}", "2", "a", "b", "c", "d"}),
              IsArrayOf({IsBulk("a"), IsBulk("b"), IsBulk("c"), IsInt(2)}));
  EXPECT_THAT(h.Run({"EVAL", "return 1", "-1"}), IsError("ERR Number of keys can't be negative"));
  EXPECT_THAT(h.Run({"EVAL", "return 1", "2", "a"}),
              IsError("ERR Number of keys can't be greater than number of args"));
  EXPECT_THAT(h.Run({"EVAL", "return 1", "x"}),
              IsError("ERR value is not an integer or out of range"));
}

TEST(Eval, RedisCallConversions) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "k", "v"}), IsOk());
  EXPECT_THAT(h.Run({"EVAL", "return redis.call('GET', KEYS[1])", "1", "k"}), IsBulk("v"));
  EXPECT_THAT(h.Run({"EVAL", "return redis.call('GET', 'nokey') == false", "0"}), IsInt(1));
  EXPECT_THAT(h.Run({"EVAL", "return type(redis.call('SET', 'a', 1))", "0"}), IsBulk("table"));
  EXPECT_THAT(h.Run({"EVAL", "return redis.call('SET', 'a', 1).ok", "0"}), IsBulk("OK"));
  EXPECT_THAT(h.Run({"EVAL", "return redis.call('INCRBY', 'a', 2.0)", "0"}), IsInt(3));
  EXPECT_THAT(h.Run({"EVAL", "redis.call('SET', 'f', 1.5) return redis.call('GET','f')", "0"}),
              IsBulk("1.5"));
}

TEST(Eval, ErrorsMatchRedis70) {
  Harness h(Opts());
  const std::string sha_wt = "1bae58f5987a5f51b4735899cd21a9fd9c5bd4db";
  h.Run({"SET", "s", "abc"});
  EXPECT_THAT(h.Run({"EVAL", "return redis.call('incr','s')", "0"}),
              IsErrorPrefix("ERR value is not an integer or out of range script: "));
  EXPECT_THAT(h.Run({"EVAL", "local x = redis.call('incr','s')\nreturn x", "0"}),
              IsErrorPrefix("ERR value is not an integer or out of range script: "));
  EXPECT_THAT(h.Run({"EVAL", "return redis.pcall('incr','s')", "0"}),
              IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"EVAL", "return redis.pcall('incr','s','x')", "0"}),
              IsError("ERR Wrong number of args calling Redis command from script"));
  EXPECT_THAT(h.Run({"EVAL", "return redis.call('nosuch')", "0"}),
              IsError("ERR Unknown Redis command called from script script: "
                      "206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1."));
  EXPECT_THAT(h.Run({"EVAL", "return 1 +", "0"}),
              IsError("ERR Error compiling script (new function): user_script:1: unexpected "
                      "symbol near '<eof>'"));
  EXPECT_THAT(h.Run({"EVAL", "error('boom')", "0"}),
              IsError("ERR user_script:1: boom script: 82903a0434f1503e152f89c03c9acd881a0e8150, "
                      "on @user_script:1."));
  EXPECT_THAT(h.Run({"EVAL", "error({err='MY boom'})", "0"}),
              IsError("MY boom script: 4c2ee35ef37c857625d6ec6d812eab72377cfa97, on "
                      "@user_script:1."));
  EXPECT_THAT(h.Run({"EVAL_RO", "return redis.call('set','a','b')", "0"}),
              IsError("ERR Write commands are not allowed from read-only scripts. script: "
                      "ff967d0ae0e68b4f9e360fa91c54598bc25ad9b6, on @user_script:1."));
  EXPECT_THAT(h.Run({"EVAL", "return redis.call('config','get','x')", "0"}),
              IsErrorPrefix("ERR This Redis command is not allowed from script script: "));
  EXPECT_THAT(h.Run({"EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"}),
              IsError("NOSCRIPT No matching script. Please use EVAL."));
}

TEST(Script, LoadExistsFlush) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"SCRIPT", "LOAD", "return 1"}),
              IsBulk("e0e1f9fabfc9d4800c877a703b823ac0578ff8db"));
  EXPECT_THAT(h.Run({"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
                     "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "nope"}),
              IsIntArray({1, 1, 0}));
  EXPECT_THAT(h.Run({"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"}), IsInt(1));
  EXPECT_THAT(h.Run({"SCRIPT", "FLUSH"}), IsOk());
  EXPECT_THAT(h.Run({"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"}),
              IsIntArray({0}));
  EXPECT_THAT(h.Run({"SCRIPT", "KILL"}), IsError("NOTBUSY No scripts in execution right now."));
  EXPECT_THAT(h.Run({"SCRIPT", "BOGUS"}),
              IsError("ERR unknown subcommand 'BOGUS'. Try SCRIPT HELP."));
}

// Full text is compared with redis-server in tests/e2e/test_scripting_busy.py.
TEST(ScriptingCommands, HelpReplies) {
  Harness h(Opts());
  Reply s = h.Run({"SCRIPT", "HELP"});
  ASSERT_EQ(s.elems.size(), 17u);
  EXPECT_THAT(s.elems[0], IsSimple("SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
  EXPECT_THAT(s.elems[16], IsSimple("    Prints this help."));
  Reply f = h.Run({"FUNCTION", "help"});
  ASSERT_EQ(f.elems.size(), 40u);
  EXPECT_THAT(f.elems[1], IsSimple("LOAD [REPLACE] <FUNCTION CODE>"));
  EXPECT_THAT(h.Run({"SCRIPT", "HELP", "x"}),
              IsError("ERR wrong number of arguments for 'script|help' command"));
}

}  // namespace
}  // namespace ferrite::test
