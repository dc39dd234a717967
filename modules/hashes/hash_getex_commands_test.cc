// Family tests of Redis 8.0's HGETDEL, HGETEX and HSETEX through the in-process harness.
// Expected behaviour: redis.io's pages for these commands and the cases Redis 8.0's own
// suite (tests/unit/type/hash-field-expire.tcl) asserts; redis-server 7.0 has none.
#include <string>
#include <utility>
#include <vector>

#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

using ::testing::ElementsAre;
using Cmd = std::vector<std::string>;

const char kWrongType[] = "WRONGTYPE Operation against a key holding the wrong kind of value";

class HashGetExTest : public ::testing::Test {
 protected:
  static HarnessOptions Opts() {
    HarnessOptions o;
    o.plugins = {"hashes", "strings", "keys"};
    o.config = {{"server.notify_keyspace_events", "KEA"}};
    return o;
  }
  HashGetExTest() : h(Opts()) {}
  Harness h;
};

// ---- HGETDEL -----------------------------------------------------------------------------

TEST_F(HashGetExTest, HGetDelRepliesThenDeletes) {
  ASSERT_THAT(h.Run({"HSET", "mykey", "field1", "Hello", "field2", "World", "field3", "!"}),
              IsInt(3));
  EXPECT_THAT(h.Run({"HGETDEL", "mykey", "FIELDS", "2", "field3", "field4"}),
              IsArrayOf({IsBulk("!"), IsNull()}));
  EXPECT_THAT(h.Run({"HLEN", "mykey"}), IsInt(2));
  EXPECT_THAT(h.Run({"HGETDEL", "mykey", "FIELDS", "2", "field1", "field2"}),
              IsBulkArray({"Hello", "World"}));
  EXPECT_THAT(h.Run({"EXISTS", "mykey"}), IsInt(0));
  EXPECT_THAT(h.Run({"HGETDEL", "nokey", "FIELDS", "1", "a"}), IsArrayOf({IsNull()}));
}

TEST_F(HashGetExTest, HGetDelErrors) {
  const char* positive = "ERR Number of fields must be a positive integer";
  for (const char* n : {"x", "0", "-1", "9223372036854775808"})
    EXPECT_THAT(h.Run({"HGETDEL", "k", "FIELDS", n, "a"}), IsError(positive)) << n;
  EXPECT_THAT(h.Run({"HGETDEL", "k", "FIELDS", "2", "a"}),
              IsError("ERR The `numfields` parameter must match the number of arguments"));
  EXPECT_THAT(h.Run({"HGETDEL", "k", "XFIELDS", "1", "a"}),
              IsError("ERR Mandatory argument FIELDS is missing or not at the right position"));
  EXPECT_THAT(h.Run({"HGETDEL", "k", "FIELDS", "1"}),
              IsError("ERR wrong number of arguments for 'hgetdel' command"));
  // The key is looked up before the arguments are read.
  ASSERT_THAT(h.Run({"SET", "s", "v"}), IsOk());
  EXPECT_THAT(h.Run({"HGETDEL", "s", "FIELDS", "1", "a"}), IsError(kWrongType));
  EXPECT_THAT(h.Run({"HGETDEL", "s", "XFIELDS", "0", "a"}), IsError(kWrongType));
}

TEST_F(HashGetExTest, HGetDelSameFieldTwice) {
  ASSERT_THAT(h.Run({"HSET", "h", "f", "v", "g", "w"}), IsInt(2));
  EXPECT_THAT(h.Run({"HGETDEL", "h", "FIELDS", "2", "f", "f"}), IsArrayOf({IsBulk("v"), IsNull()}));
  EXPECT_THAT(h.Run({"HKEYS", "h"}), IsBulkArray({"g"}));
}

TEST_F(HashGetExTest, HGetDelSeesLazilyExpiredFieldsAsMissing) {
  ASSERT_THAT(h.Run({"HSETEX", "h1", "PX", "5", "FIELDS", "1", "f1", "10"}), IsInt(1));
  h.AdvanceTime(15);
  EXPECT_THAT(h.Run({"HGETDEL", "h1", "FIELDS", "1", "f1"}), IsArrayOf({IsNull()}));
  EXPECT_THAT(h.Run({"EXISTS", "h1"}), IsInt(0));
}

// ---- HGETEX ------------------------------------------------------------------------------

TEST_F(HashGetExTest, HGetExSetsAndRemovesFieldTtls) {
  ASSERT_THAT(h.Run({"HSET", "h", "a", "1", "b", "2", "c", "strval"}), IsInt(3));
  EXPECT_THAT(h.Run({"HGETEX", "h", "FIELDS", "3", "a", "b", "c"}),
              IsBulkArray({"1", "2", "strval"}));
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "3", "a", "b", "c"}), IsIntArray({-1, -1, -1}));
  EXPECT_THAT(h.Run({"HGETEX", "h", "EX", "100", "FIELDS", "2", "a", "nofield"}),
              IsArrayOf({IsBulk("1"), IsNull()}));
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "2", "a", "nofield"}), IsIntArray({100, -2}));
  EXPECT_THAT(h.Run({"HGETEX", "h", "PX", "5000", "FIELDS", "1", "b"}), IsBulkArray({"2"}));
  EXPECT_THAT(h.Run({"HPTTL", "h", "FIELDS", "1", "b"}), IsIntArray({5000}));
  const int64_t at = h.NowMs() / 1000 + 50;
  EXPECT_THAT(h.Run({"HGETEX", "h", "EXAT", std::to_string(at), "FIELDS", "1", "c"}),
              IsBulkArray({"strval"}));
  EXPECT_THAT(h.Run({"HEXPIRETIME", "h", "FIELDS", "1", "c"}), IsIntArray({at}));
  EXPECT_THAT(h.Run({"HGETEX", "h", "persist", "FIELDS", "2", "a", "b"}), IsBulkArray({"1", "2"}));
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "2", "a", "b"}), IsIntArray({-1, -1}));
  // A time already past deletes the fields (and the key with the last one).
  EXPECT_THAT(h.Run({"HGETEX", "h", "PXAT", "1", "FIELDS", "3", "a", "b", "c"}),
              IsBulkArray({"1", "2", "strval"}));
  EXPECT_THAT(h.Run({"EXISTS", "h"}), IsInt(0));
  EXPECT_THAT(h.Run({"HGETEX", "nokey", "EX", "10", "FIELDS", "1", "a"}), IsArrayOf({IsNull()}));
}

TEST_F(HashGetExTest, HGetExErrors) {
  const char* fields = "ERR Mandatory argument FIELDS is missing or not at the right position";
  const char* positive = "ERR Number of fields must be a positive integer";
  EXPECT_THAT(h.Run({"HGETEX", "h1", "FIELDS", "1"}),
              IsError("ERR wrong number of arguments for 'hgetex' command"));
  EXPECT_THAT(h.Run({"HGETEX", "h1", "XFIELDX", "1", "a"}), IsError(fields));
  EXPECT_THAT(h.Run({"HGETEX", "h1", "PXAT", "1", "1"}), IsError(fields));
  EXPECT_THAT(h.Run({"HGETEX", "h1", "PERSIST", "1", "FIELDS", "1", "a"}), IsError(fields));
  // The option is argv[2] only: a second one stands where FIELDS belongs.
  EXPECT_THAT(h.Run({"HGETEX", "h1", "EX", "1", "PERSIST", "FIELDS", "1", "a"}), IsError(fields));
  EXPECT_THAT(h.Run({"HGETEX", "h1", "EX", "1", "EX", "1", "FIELDS", "1", "a"}), IsError(fields));
  EXPECT_THAT(h.Run({"HGETEX", "h1", "FIELDS", "2", "a"}),
              IsError("ERR The `numfields` parameter must match the number of arguments"));
  for (const char* n : {"0", "-1", "9223372036854775808", "x"})
    EXPECT_THAT(h.Run({"HGETEX", "h1", "FIELDS", n, "a"}), IsError(positive)) << n;
  for (const char* t : {"bla", "9223372036854775808"})
    EXPECT_THAT(h.Run({"HGETEX", "h1", "EX", t, "FIELDS", "1", "a"}),
                IsError("ERR value is not an integer or out of range")) << t;
  EXPECT_THAT(h.Run({"HGETEX", "h1", "PX", "-1", "FIELDS", "1", "a"}),
              IsError("ERR invalid expire time, must be >= 0"));
  EXPECT_THAT(h.Run({"HGETEX", "h1", "PXAT", "-1", "FIELDS", "1", "a"}),
              IsError("ERR invalid expire time, must be >= 0"));
  const char* invalid = "ERR invalid expire time in 'hgetex' command";
  const int64_t limit = int64_t{1} << 46;  // Redis 8: field times stay below 2^46 ms
  EXPECT_THAT(h.Run({"HGETEX", "h1", "EXAT", std::to_string(limit + 100), "FIELDS", "1", "a"}),
              IsError(invalid));
  EXPECT_THAT(h.Run({"HGETEX", "h1", "PXAT", std::to_string(limit + 100), "FIELDS", "1", "a"}),
              IsError(invalid));
  EXPECT_THAT(h.Run({"HGETEX", "h1", "PX", std::to_string(limit - h.NowMs() + 100), "FIELDS",
                     "1", "a"}),
              IsError(invalid));
  EXPECT_THAT(h.Run({"HGETEX", "h1", "PXAT", std::to_string(limit - 1), "FIELDS", "1", "a"}),
              IsArrayOf({IsNull()}));
  // The key is looked up before the arguments are read.
  ASSERT_THAT(h.Run({"SET", "s", "v"}), IsOk());
  EXPECT_THAT(h.Run({"HGETEX", "s", "FIELDS", "1", "a"}), IsError(kWrongType));
  EXPECT_THAT(h.Run({"HGETEX", "s", "XFIELDX", "1", "a"}), IsError(kWrongType));
}

TEST_F(HashGetExTest, HGetExPastTimeDeletesAsItReads) {
  ASSERT_THAT(h.Run({"HSET", "h", "f", "v", "g", "w"}), IsInt(2));
  EXPECT_THAT(h.Run({"HGETEX", "h", "PX", "0", "FIELDS", "3", "f", "f", "nofield"}),
              IsArrayOf({IsBulk("v"), IsNull(), IsNull()}));
  EXPECT_THAT(h.Run({"HKEYS", "h"}), IsBulkArray({"g"}));
}

// ---- HSETEX ------------------------------------------------------------------------------

TEST_F(HashGetExTest, HSetExSetsFieldsWithTtls) {
  EXPECT_THAT(h.Run({"HSETEX", "h", "FIELDS", "2", "f1", "v1", "f2", "v2"}), IsInt(1));
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "2", "f1", "f2"}), IsIntArray({-1, -1}));
  EXPECT_THAT(h.Run({"HSETEX", "h", "EX", "100", "FIELDS", "1", "f2", "v22"}), IsInt(1));
  EXPECT_THAT(h.Run({"HGET", "h", "f2"}), IsBulk("v22"));
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "2", "f1", "f2"}), IsIntArray({-1, 100}));
  EXPECT_THAT(h.Run({"HSETEX", "h", "KEEPTTL", "FIELDS", "1", "f2", "v222"}), IsInt(1));
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "1", "f2"}), IsIntArray({100}));
  // Without KEEPTTL or a time, a field's TTL is discarded, as HSET does.
  EXPECT_THAT(h.Run({"HSETEX", "h", "FIELDS", "1", "f2", "v2"}), IsInt(1));
  EXPECT_THAT(h.Run({"HTTL", "h", "FIELDS", "1", "f2"}), IsIntArray({-1}));
  EXPECT_THAT(h.Run({"HSETEX", "h", "PX", "1500", "FIELDS", "1", "f3", "v3"}), IsInt(1));
  h.AdvanceTime(1600);
  EXPECT_THAT(h.Run({"HEXISTS", "h", "f3"}), IsInt(0));
}

TEST_F(HashGetExTest, HSetExFnxFxx) {
  EXPECT_THAT(h.Run({"HSETEX", "h", "FXX", "FIELDS", "2", "f1", "v1", "f2", "v2"}), IsInt(0));
  EXPECT_THAT(h.Run({"EXISTS", "h"}), IsInt(0));
  EXPECT_THAT(h.Run({"HSETEX", "h", "FNX", "FIELDS", "1", "f1", "v1"}), IsInt(1));
  EXPECT_THAT(h.Run({"HSETEX", "h", "FNX", "FIELDS", "2", "f1", "v1", "f2", "v2"}), IsInt(0));
  EXPECT_THAT(h.Run({"HSETEX", "h", "FXX", "FIELDS", "2", "f1", "x", "f2", "y"}), IsInt(0));
  EXPECT_THAT(h.Run({"HLEN", "h"}), IsInt(1));
  EXPECT_THAT(h.Run({"HSETEX", "h", "PX", "5000", "FXX", "FIELDS", "1", "f1", "v11"}), IsInt(1));
  EXPECT_THAT(h.Run({"HGET", "h", "f1"}), IsBulk("v11"));
  EXPECT_THAT(h.Run({"HPTTL", "h", "FIELDS", "1", "f1"}), IsIntArray({5000}));
}

TEST_F(HashGetExTest, HSetExTimeInThePastLeavesNoField) {
  const std::string past = std::to_string(h.NowMs() / 1000 - 1);
  EXPECT_THAT(h.Run({"HSETEX", "h", "EXAT", past, "FIELDS", "2", "f1", "v1", "f2", "v2"}),
              IsInt(1));
  EXPECT_THAT(h.Run({"EXISTS", "h"}), IsInt(0));
  ASSERT_THAT(h.Run({"HSET", "h", "f1", "v1", "keep", "v"}), IsInt(2));
  EXPECT_THAT(h.Run({"HSETEX", "h", "PX", "0", "FIELDS", "1", "f1", "x"}), IsInt(1));
  EXPECT_THAT(h.Run({"HKEYS", "h"}), IsBulkArray({"keep"}));
}

TEST_F(HashGetExTest, HSetExErrors) {
  const char* arity = "ERR wrong number of arguments for 'hsetex' command";
  for (Cmd c : std::vector<Cmd>{{"HSETEX", "h", "FIELDS", "1"},
                                {"HSETEX", "h", "FIELDS", "2", "a", "b"},
                                {"HSETEX", "h", "FIELDS", "2", "a", "b", "c"},
                                {"HSETEX", "h", "FIELDS", "1", "a", "b", "unknown"}}) {
    EXPECT_THAT(h.Run(c), IsError(arity)) << c.size();
  }
  EXPECT_THAT(h.Run({"HSETEX", "h", "nx", "FIELDS", "1", "a", "b"}),
              IsError("ERR unknown argument: nx"));
  EXPECT_THAT(h.Run({"HSETEX", "h", "1", "FIELDS", "1", "a", "b"}),
              IsError("ERR unknown argument: 1"));
  EXPECT_THAT(h.Run({"HSETEX", "h", "FXX", "FNX", "EX", "100", "FIELDS", "1", "a", "b"}),
              IsError("ERR Only one of FXX or FNX arguments can be specified"));
  EXPECT_THAT(h.Run({"HSETEX", "h", "FNX", "FNX", "FIELDS", "1", "a", "b"}),
              IsError("ERR Only one of FXX or FNX arguments can be specified"));
  const char* one = "ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified";
  EXPECT_THAT(h.Run({"HSETEX", "h", "EX", "100", "PX", "1000", "FIELDS", "1", "a", "b"}),
              IsError(one));
  EXPECT_THAT(h.Run({"HSETEX", "h", "KEEPTTL", "KEEPTTL", "FIELDS", "1", "a", "b"}), IsError(one));
  EXPECT_THAT(h.Run({"HSETEX", "h", "EX", "100", "KEEPTTL", "FIELDS", "1", "a", "b"}),
              IsError(one));
  EXPECT_THAT(h.Run({"HSETEX", "h", "ex", "FIELDS", "1", "a", "b"}),
              IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"HSETEX", "h", "EXAT", std::to_string(int64_t{1} << 48), "1", "a", "b"}),
              IsError("ERR invalid expire time in 'hsetex' command"));
  EXPECT_THAT(h.Run({"HSETEX", "h", "EXAT", "-1", "1", "a", "b"}),
              IsError("ERR invalid expire time, must be >= 0"));
  for (const char* n : {"x", "9223372036854775808", "0", "-1"})
    EXPECT_THAT(h.Run({"HSETEX", "h", "FIELDS", n, "a", "b"}),
                IsError("ERR invalid number of fields")) << n;
  // The arguments are read before the key is looked up.
  ASSERT_THAT(h.Run({"SET", "s", "v"}), IsOk());
  EXPECT_THAT(h.Run({"HSETEX", "s", "FIELDS", "1", "f1", "v1"}), IsError(kWrongType));
  EXPECT_THAT(h.Run({"HSETEX", "s", "nx", "FIELDS", "1", "f1", "v1"}),
              IsError("ERR unknown argument: nx"));
  EXPECT_THAT(h.Run({"EXISTS", "h"}), IsInt(0));
}

// ---- propagation and events ---------------------------------------------------------------

TEST_F(HashGetExTest, PropagatedAsDeterministicCommands) {
  const std::string t = std::to_string(h.NowMs() + 100000);
  auto rec = std::make_unique<PropagationRecorder>(h);
  h.Run({"HSETEX", "h", "FIELDS", "1", "f1", "v1"});
  h.Run({"HSETEX", "h", "FXX", "EX", "100", "FIELDS", "1", "f1", "v2"});
  h.Run({"HSETEX", "h", "PX", "100000", "FNX", "FIELDS", "1", "f2", "v2"});
  h.Run({"HSETEX", "h", "FNX", "FIELDS", "1", "f2", "v2"});  // refused: nothing
  h.Run({"HSETEX", "h", "KEEPTTL", "FIELDS", "1", "f2", "v3"});
  h.Run({"HSETEX", "h", "FXX", "FIELDS", "1", "f2", "v4"});
  h.Run({"HSETEX", "h", "PX", "0", "FIELDS", "2", "f2", "zz", "nofield", "zz"});
  h.Run({"HSET", "g", "a", "1", "b", "2", "c", "3"});
  h.Run({"HGETEX", "g", "FIELDS", "1", "a"});             // no change: nothing
  h.Run({"HGETEX", "g", "EX", "100", "FIELDS", "2", "a", "nofield"});
  h.Run({"HGETEX", "g", "PERSIST", "FIELDS", "2", "a", "b"});
  h.Run({"HGETEX", "g", "PERSIST", "FIELDS", "1", "a"});  // already persistent: nothing
  h.Run({"HGETEX", "g", "PXAT", "1", "FIELDS", "2", "b", "nofield"});
  h.Run({"HGETDEL", "g", "FIELDS", "2", "c", "nofield"});
  h.Run({"HGETDEL", "g", "FIELDS", "1", "nofield"});      // nothing deleted: nothing
  std::vector<Cmd> cmds;
  for (auto& c : rec->commands())
    if (c.argv[0] != "SELECT") cmds.push_back(c.argv);
  rec.reset();
  // HSETEX goes out as HSET (what a redis-server 7.0 replica can apply), then its
  // fields' TTLs (a new time, or the ones KEEPTTL kept) as HPEXPIREAT; past times as one
  // HDEL per field, as Redis 8 propagates them.
  EXPECT_THAT(cmds, ElementsAre(Cmd{"HSET", "h", "f1", "v1"},
                                Cmd{"MULTI"}, Cmd{"HSET", "h", "f1", "v2"},
                                Cmd{"HPEXPIREAT", "h", t, "FIELDS", "1", "f1"}, Cmd{"EXEC"},
                                Cmd{"MULTI"}, Cmd{"HSET", "h", "f2", "v2"},
                                Cmd{"HPEXPIREAT", "h", t, "FIELDS", "1", "f2"}, Cmd{"EXEC"},
                                Cmd{"MULTI"}, Cmd{"HSET", "h", "f2", "v3"},
                                Cmd{"HPEXPIREAT", "h", t, "FIELDS", "1", "f2"}, Cmd{"EXEC"},
                                Cmd{"HSET", "h", "f2", "v4"},
                                Cmd{"MULTI"}, Cmd{"HDEL", "h", "f2"}, Cmd{"HDEL", "h", "nofield"},
                                Cmd{"EXEC"},
                                Cmd{"HSET", "g", "a", "1", "b", "2", "c", "3"},
                                Cmd{"HPEXPIREAT", "g", t, "FIELDS", "2", "a", "nofield"},
                                Cmd{"HPERSIST", "g", "FIELDS", "2", "a", "b"},
                                Cmd{"HDEL", "g", "b"},
                                Cmd{"HDEL", "g", "c", "nofield"}));
}

// The event sequences Redis 8's suite (unit/pubsub.tcl, "HSETEX, HGETEX and HGETDEL
// notifications", "FXX/FNX with HSETEX cmd") asserts.
TEST_F(HashGetExTest, KeyspaceEvents) {
  auto ev = std::make_unique<EventRecorder>(h, ~0u);
  h.Run({"HSETEX", "h", "FIELDS", "1", "f1", "v1"});                 // hset
  h.Run({"HSETEX", "h", "EX", "100", "FIELDS", "1", "f2", "v2"});    // hset hexpire
  h.Run({"HGETEX", "h", "PERSIST", "FIELDS", "1", "f2"});            // hpersist
  h.Run({"HGETEX", "h", "PX", "100", "FIELDS", "1", "f2"});          // hexpire
  h.Run({"HGETEX", "h", "PXAT", "1", "FIELDS", "1", "f2"});          // hdel
  h.Run({"HGETDEL", "h", "FIELDS", "1", "f1"});                      // hdel del
  h.Run({"HSETEX", "h", "PX", "0", "FIELDS", "1", "f", "v"});        // hset hdel del
  h.Run({"HSETEX", "h", "PX", "10", "FIELDS", "1", "f1", "v1"});     // hset hexpire
  h.Run({"HSETEX", "h", "FIELDS", "1", "f2", "v2"});                 // hset
  h.AdvanceTime(20);
  EXPECT_THAT(h.Run({"HGETDEL", "h", "FIELDS", "1", "f1"}), IsArrayOf({IsNull()}));  // hexpired
  h.Run({"HGETDEL", "h", "FIELDS", "1", "f2"});                      // hdel del
  h.Run({"HSET", "h", "f", "v", "f2", "v"});                         // hset
  h.Run({"HPEXPIRE", "h", "10", "FIELDS", "1", "f"});                // hexpire
  h.AdvanceTime(15);
  EXPECT_THAT(h.Run({"HSETEX", "h", "FXX", "PX", "10", "FIELDS", "1", "f", "v"}),
              IsInt(0));                                             // hexpired
  std::vector<std::string> seen;
  for (auto& e : ev->events()) {
    EXPECT_EQ(e.key, "h");
    seen.push_back(e.event);
  }
  ev.reset();
  EXPECT_THAT(seen, ElementsAre("hset", "hset", "hexpire", "hpersist", "hexpire", "hdel", "hdel",
                                "del", "hset", "hdel", "del", "hset", "hexpire", "hset",
                                "hexpired", "hdel", "del", "hset", "hexpire", "hexpired"));
}

// WATCH sees exactly the calls that changed the hash.
TEST_F(HashGetExTest, WatchIsTouchedOnlyByChanges) {
  ASSERT_THAT(h.Run({"HSET", "h", "f", "v"}), IsInt(1));
  auto watched_exec_survives = [&](const Cmd& other) {
    EXPECT_THAT(h.RunOn(0, {"WATCH", "h"}), IsOk());
    h.RunOn(1, other);
    EXPECT_THAT(h.RunOn(0, {"MULTI"}), IsOk());
    h.RunOn(0, {"HGET", "h", "f"});
    return !::testing::Matches(IsNullArray())(h.RunOn(0, {"EXEC"}));
  };
  EXPECT_TRUE(watched_exec_survives({"HGETEX", "h", "FIELDS", "1", "f"}));
  EXPECT_TRUE(watched_exec_survives({"HGETEX", "h", "PERSIST", "FIELDS", "1", "f"}));
  EXPECT_TRUE(watched_exec_survives({"HGETDEL", "h", "FIELDS", "1", "nofield"}));
  EXPECT_TRUE(watched_exec_survives({"HSETEX", "h", "FNX", "FIELDS", "1", "f", "x"}));
  EXPECT_FALSE(watched_exec_survives({"HGETEX", "h", "EX", "100", "FIELDS", "1", "f"}));
  EXPECT_FALSE(watched_exec_survives({"HSETEX", "h", "FXX", "FIELDS", "1", "f", "y"}));
  EXPECT_FALSE(watched_exec_survives({"HGETDEL", "h", "FIELDS", "1", "f"}));
}

}  // namespace
}  // namespace ferrite::test
