// Host behaviour through the in-process harness: transactions, WATCH, connection
// commands, and the plugin ABI rules (wrong major, duplicate command, throwing handler).
#include "tests/harness/harness.h"

#include "host/host.h"

#ifndef FERRITE_TEST_PLUGIN_DIR
#define FERRITE_TEST_PLUGIN_DIR ""
#endif

namespace ferrite::test {
namespace {

std::string TestPlugin(const char* name) {
  return std::string(FERRITE_TEST_PLUGIN_DIR) + "/" + name + ".so";
}

TEST(Transactions, QueueAndExec) {
  Harness h;
  EXPECT_THAT(h.Run({"MULTI"}), IsOk());
  EXPECT_THAT(h.Run({"SET", "a", "1"}), IsSimple("QUEUED"));
  EXPECT_THAT(h.Run({"INCR", "a"}), IsSimple("QUEUED"));
  EXPECT_THAT(h.Run({"EXEC"}), IsArrayOf({IsOk(), IsInt(2)}));
  EXPECT_THAT(h.Run({"EXEC"}), IsError("ERR EXEC without MULTI"));
  EXPECT_THAT(h.Run({"DISCARD"}), IsError("ERR DISCARD without MULTI"));
}

TEST(Transactions, SyntaxErrorAbortsWholeTransaction) {
  Harness h;
  h.Run({"MULTI"});
  EXPECT_THAT(h.Run({"SET", "a"}), IsError("ERR wrong number of arguments for 'set' command"));
  EXPECT_THAT(h.Run({"NOPE"}), IsErrorPrefix("ERR unknown command 'NOPE'"));
  h.Run({"SET", "b", "1"});
  EXPECT_THAT(h.Run({"EXEC"}),
              IsError("EXECABORT Transaction discarded because of previous errors."));
  EXPECT_THAT(h.Run({"GET", "b"}), IsNull());
}

// Redis' rejectCommand turns a refused EXEC into execCommandAbort: the transaction is
// discarded and the WATCHes forgotten, in or out of MULTI (found side by side with
// redis-server 7.0 by test_strings_keys_differential.py).
TEST(Transactions, ExecWithWrongArityAbortsAndUnwatches) {
  Harness h;
  h.Run({"MULTI"});
  h.Run({"SET", "q", "1"});
  EXPECT_THAT(h.Run({"exec", "x"}),
              IsError("EXECABORT Transaction discarded because of: wrong number of arguments "
                      "for 'exec' command"));
  EXPECT_THAT(h.Run({"EXEC"}), IsError("ERR EXEC without MULTI"));
  EXPECT_THAT(h.Run({"GET", "q"}), IsNull());

  h.RunOn(0, {"WATCH", "w"});
  EXPECT_THAT(h.RunOn(0, {"EXEC", "x"}), IsErrorPrefix("EXECABORT Transaction discarded"));
  h.RunOn(1, {"SET", "w", "1"});  // no longer watched: the next EXEC runs
  h.RunOn(0, {"MULTI"});
  EXPECT_THAT(h.RunOn(0, {"EXEC"}), IsEmptyArray());
}

TEST(Transactions, RuntimeErrorsDoNotRollBack) {
  Harness h;
  h.Run({"SET", "s", "abc"});
  h.Run({"MULTI"});
  h.Run({"INCR", "s"});
  h.Run({"SET", "t", "1"});
  EXPECT_THAT(h.Run({"EXEC"}),
              IsArrayOf({IsError("ERR value is not an integer or out of range"), IsOk()}));
  EXPECT_THAT(h.Run({"GET", "t"}), IsBulk("1"));
}

TEST(Transactions, WatchSeesOtherClientsAndExpiry) {
  Harness h;
  h.Run({"SET", "w", "1"});
  EXPECT_THAT(h.RunOn(0, {"WATCH", "w"}), IsOk());
  h.RunOn(1, {"SET", "w", "2"});
  h.RunOn(0, {"MULTI"});
  h.RunOn(0, {"SET", "w", "3"});
  EXPECT_THAT(h.RunOn(0, {"EXEC"}), IsNullArray());
  EXPECT_THAT(h.Run({"GET", "w"}), IsBulk("2"));

  h.Run({"SET", "e", "1", "PX", "100"});
  h.Run({"WATCH", "e"});
  h.AdvanceTime(200);
  h.Run({"MULTI"});
  h.Run({"SET", "x", "1"});
  EXPECT_THAT(h.Run({"EXEC"}), IsNullArray());

  // Untouched watch: EXEC runs.
  h.Run({"SET", "u", "1"});
  h.Run({"WATCH", "u"});
  h.Run({"MULTI"});
  h.Run({"GET", "u"});
  EXPECT_THAT(h.Run({"EXEC"}), IsArrayOf({IsBulk("1")}));
}

// A TTL change keeps the key's version (memcached's touch keeps the CAS), but WATCH
// compares the expiry too: EXPIRE, PERSIST and GETEX by another client abort the EXEC,
// as Redis' signalModifiedKey makes them.
TEST(Transactions, WatchSeesTtlChangesThatKeepTheVersion) {
  Harness h;
  h.Run({"SET", "w", "1"});
  auto aborted_by = [&](std::vector<std::string> other) {
    h.RunOn(0, {"WATCH", "w"});
    h.RunOn(1, other);
    h.RunOn(0, {"MULTI"});
    h.RunOn(0, {"PING"});
    return h.RunOn(0, {"EXEC"});
  };
  EXPECT_THAT(aborted_by({"EXPIRE", "w", "100"}), IsNullArray());
  EXPECT_THAT(aborted_by({"EXPIRE", "w", "200"}), IsNullArray());
  EXPECT_THAT(aborted_by({"PERSIST", "w"}), IsNullArray());
  EXPECT_THAT(aborted_by({"GETEX", "w", "EX", "50"}), IsNullArray());
  EXPECT_THAT(aborted_by({"GET", "w"}), IsArrayOf({IsSimple("PONG")}));
}

TEST(Transactions, WatchAcrossDatabasesAndFlush) {
  Harness h;
  h.Run({"SELECT", "2"});
  h.Run({"SET", "k", "v"});
  h.Run({"WATCH", "k"});
  h.RunOn(1, {"SELECT", "2"});
  h.RunOn(1, {"FLUSHALL"});
  h.Run({"MULTI"});
  h.Run({"PING"});
  EXPECT_THAT(h.Run({"EXEC"}), IsNullArray());
}

TEST(Transactions, WatchInsideMultiIsAnError) {
  Harness h;
  h.Run({"MULTI"});
  EXPECT_THAT(h.Run({"WATCH", "k"}), IsError("ERR WATCH inside MULTI is not allowed"));
  EXPECT_THAT(h.Run({"MULTI"}), IsError("ERR MULTI calls can not be nested"));
}

TEST(Connection, PingEchoSelect) {
  Harness h;
  EXPECT_THAT(h.Run({"PING"}), IsSimple("PONG"));
  EXPECT_THAT(h.Run({"PING", "x"}), IsBulk("x"));
  EXPECT_THAT(h.Run({"ECHO", "y"}), IsBulk("y"));
  EXPECT_THAT(h.Run({"SELECT", "16"}), IsError("ERR DB index is out of range"));
  EXPECT_THAT(h.Run({"ECHO"}), IsError("ERR wrong number of arguments for 'echo' command"));
}

// Redis cuts the quoted arguments at 128 bytes of argument text, not of the whole
// message (found by test_strings_keys_differential.py).
TEST(Connection, UnknownCommandQuotesArgumentsUpTo128Bytes) {
  Harness h;
  EXPECT_THAT(h.Run({"sett", "c", std::string(200, 'x')}),
              IsError("ERR unknown command 'sett', with args beginning with: 'c' '" +
                      std::string(124, 'x') + "' "));
  EXPECT_THAT(h.Run({"FOO", std::string(127, 'y'), "z"}),
              IsError("ERR unknown command 'FOO', with args beginning with: '" +
                      std::string(127, 'y') + "' "));
  EXPECT_THAT(h.Run({std::string(130, 'F'), "a\r\nb"}),
              IsError("ERR unknown command '" + std::string(128, 'F') +
                      "', with args beginning with: 'a  b' "));
}

// Redis 7.0 has a table entry per subcommand: a known one with the wrong number of
// arguments gets the arity error naming "container|sub", anything else is unknown.
TEST(Connection, ContainerSubcommandErrors) {
  Harness h;
  EXPECT_THAT(h.Run({"COMMAND", "COUNT", "x"}),
              IsError("ERR wrong number of arguments for 'command|count' command"));
  EXPECT_THAT(h.Run({"config", "get"}),
              IsError("ERR wrong number of arguments for 'config|get' command"));
  EXPECT_THAT(h.Run({"CONFIG", "SET", "a"}),
              IsError("ERR wrong number of arguments for 'config|set' command"));
  EXPECT_THAT(h.Run({"CONFIG", "SET", "a", "b", "c"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"CONFIG", "NOPE"}),
              IsError("ERR unknown subcommand 'NOPE'. Try CONFIG HELP."));
  EXPECT_THAT(h.Run({"CLIENT", "kill"}),
              IsError("ERR wrong number of arguments for 'client|kill' command"));
  EXPECT_THAT(h.Run({"client", "id", "x"}),
              IsError("ERR wrong number of arguments for 'client|id' command"));
  EXPECT_THAT(h.Run({"MODULE", "unload"}),
              IsError("ERR wrong number of arguments for 'module|unload' command"));
}

TEST(Connection, AuthRequired) {
  HarnessOptions o;
  o.config = {{"security.requirepass", "pw"}};
  Harness h(o);
  EXPECT_THAT(h.Run({"GET", "k"}), IsError("NOAUTH Authentication required."));
  EXPECT_THAT(h.Run({"AUTH", "bad"}),
              IsError("WRONGPASS invalid username-password pair or user is disabled."));
  EXPECT_THAT(h.Run({"AUTH", "pw"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "k"}), IsNull());
}

TEST(Config, GetSetThroughCommands) {
  Harness h;
  EXPECT_THAT(h.Run({"CONFIG", "SET", "maxmemory", "10mb"}), IsOk());
  auto r = h.Run({"CONFIG", "GET", "maxmemory"});
  ASSERT_EQ(r.elems.size(), 2u);
  EXPECT_EQ(r.elems[1].str, "10485760");
}

TEST(Eviction, NoevictionRefusesWritesOverLimit) {
  HarnessOptions o;
  o.config = {{"storage.max_memory", "1"}};
  Harness h(o);
  EXPECT_THAT(h.Run({"SET", "k", "v"}),
              IsError("OOM command not allowed when used memory > 'maxmemory'."));
  EXPECT_THAT(h.Run({"GET", "k"}), IsNull());  // reads still work
}

TEST(Eviction, AllKeysLruEvictsToStayUnderLimit) {
  Harness h;
  for (int i = 0; i < 2000; i++) h.Run({"SET", "k" + std::to_string(i), std::string(100, 'x')});
  int64_t used = h.host().used_memory();
  h.Run({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  h.Run({"CONFIG", "SET", "maxmemory", std::to_string(used - 100000)});
  EXPECT_THAT(h.Run({"SET", "new", "v"}), IsOk());
  // Eviction runs before the write, as in Redis: the write itself may go slightly over.
  EXPECT_LE(h.host().used_memory(), used - 100000 + 1024);
  EXPECT_GT(h.host().stats().evicted_keys.load(), 0u);
}

// Short values set on a new key live inline in its entry (keyspace.h value_inline);
// every path that grows, moves or copies such a value must keep the bytes.
TEST(Keys, InlineStringValuesSurviveGrowthRenameAndCopy) {
  Harness h;
  EXPECT_THAT(h.Run({"SET", "k", "hello"}), IsOk());
  EXPECT_THAT(h.Run({"APPEND", "k", std::string(300, 'x')}), IsInt(305));  // moves to heap
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("hello" + std::string(300, 'x')));
  EXPECT_THAT(h.Run({"SET", "k", "again"}), IsOk());  // a heap value, now short again
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("again"));
  EXPECT_THAT(h.Run({"SET", "i", std::string(100, 'v')}), IsOk());
  EXPECT_THAT(h.Run({"SET", "i", "shorter"}), IsOk());  // reuses the inline room
  EXPECT_THAT(h.Run({"SETRANGE", "i", "10", "z"}), IsInt(11));
  EXPECT_THAT(h.Run({"GET", "i"}), IsBulk(std::string("shorter\0\0\0z", 11)));
  EXPECT_THAT(h.Run({"RENAME", "i", "j"}), IsOk());  // the entry is re-allocated
  EXPECT_THAT(h.Run({"COPY", "j", "c"}), IsInt(1));
  EXPECT_THAT(h.Run({"SET", "j", "overwritten"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "c"}), IsBulk(std::string("shorter\0\0\0z", 11)));
  EXPECT_THAT(h.Run({"GET", "j"}), IsBulk("overwritten"));
  EXPECT_THAT(h.Run({"SET", "big", std::string(5000, 'b')}), IsOk());
  EXPECT_THAT(h.Run({"STRLEN", "big"}), IsInt(5000));
  EXPECT_THAT(h.Run({"SET", "n", "1"}), IsOk());
  EXPECT_THAT(h.Run({"INCRBY", "n", "123456789012"}), IsInt(123456789013));
  EXPECT_THAT(h.Run({"DEL", "k", "j", "c", "big", "n"}), IsInt(5));
}

// A command keeps its first two keys in inline slots of the call context and any more
// on the heap; long names do not fit the slot's name buffer.
TEST(Keys, ManyOpenKeysAndLongNames) {
  HarnessOptions o;
  o.plugins = {"strings", "keys", "sets"};
  Harness h(o);
  std::string long_name(200, 'n');
  for (const std::string& k : {std::string("a"), std::string("b"), long_name}) {
    EXPECT_THAT(h.Run({"SADD", k, "x", "y", k.substr(0, 1)}), IsInt(3));
  }
  EXPECT_THAT(h.Run({"SINTERSTORE", "dst", "a", "b", long_name}), IsInt(2));
  EXPECT_THAT(h.Run({"SUNIONSTORE", long_name + "2", "a", "b", long_name, "dst"}), IsInt(5));
  EXPECT_THAT(h.Run({"SCARD", long_name + "2"}), IsInt(5));
  EXPECT_THAT(h.Run({"SET", long_name, "v"}), IsOk());
  EXPECT_THAT(h.Run({"RENAME", long_name, "short"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "short"}), IsBulk("v"));
}

TEST(Abi, WrongMajorIsRejected) {
  Harness h;
  std::string err = h.host().LoadPlugin(TestPlugin("abi_wrong_major"));
  EXPECT_NE(err.find("built for SDK ABI 99"), std::string::npos) << err;
}

TEST(Abi, DuplicateCommandFailsLoadAndLeavesRegistryUntouched) {
  Harness h;
  size_t before = h.host().registry().Commands()->size();
  std::string err = h.host().LoadPlugin(TestPlugin("abi_duplicate"));
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(h.host().registry().Commands()->size(), before);
  EXPECT_EQ(h.host().registry().Find("abi.unique"), nullptr);  // registered first, undone
  EXPECT_THAT(h.Run({"GET", "k"}), IsNull());                   // strings' GET intact
}

TEST(Abi, ThrowingHandlerBecomesErrorReply) {
  Harness h;
  ASSERT_EQ(h.host().LoadPlugin(TestPlugin("abi_throws")), "");
  EXPECT_THAT(h.Run({"ABI.THROW"}), IsError("ERR internal error: boom"));
  EXPECT_THAT(h.Run({"PING"}), IsSimple("PONG"));
  EXPECT_THAT(h.Run({"MODULE", "UNLOAD", "abi_throws"}), IsOk());
  EXPECT_THAT(h.Run({"ABI.THROW"}), IsErrorPrefix("ERR unknown command"));
}

TEST(Abi, FrozenV1PluginLoads) {
  // Built against a copy of the v1.0 header with a shorter API table struct and
  // checks FERRITE_HAS_API before using members appended later.
  Harness h;
  ASSERT_EQ(h.host().LoadPlugin(TestPlugin("abi_v1_frozen")), "");
  EXPECT_THAT(h.Run({"ABI.V1"}), IsSimple("v1"));
}

}  // namespace
}  // namespace ferrite::test
