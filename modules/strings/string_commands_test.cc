// Family tests of the strings module through the in-process harness: the real
// strings.so (plus keys.so for TTL/EXISTS, lists.so for a non-string key). Expected
// replies are redis-server 7.0.15's.
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "tests/harness/harness.h"
#include "strings_module.h"

namespace ferrite::mod::strings {
namespace {

using test::Harness;
using test::HarnessOptions;
using test::IsArrayOf;
using test::IsBulk;
using test::IsBulkArray;
using test::IsEmptyArray;
using test::IsError;
using test::IsInt;
using test::IsIntArray;
using test::IsNull;
using test::IsOk;
using ::testing::ElementsAre;

const char* const kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
const char* const kNotInt = "ERR value is not an integer or out of range";
const char* const kSyntax = "ERR syntax error";
const char* const kTooLarge = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- arity, derived from the command table -------------------------------------------

TEST(StringsArity, EveryCommandRejectsTooFewAndTooManyArguments) {
  Harness h;
  for (const auto& spec : StringCommandTable()) {
    const std::string err = "ERR wrong number of arguments for '" + Lower(spec.name) +
                            "' command";
    const int need = spec.arity > 0 ? spec.arity : -spec.arity;
    std::vector<std::string> too_few = {spec.name};
    for (int i = 1; i < need - 1; i++) too_few.push_back("x");
    EXPECT_THAT(h.Run(too_few), IsError(err)) << spec.name;
    if (spec.arity > 0) {
      std::vector<std::string> too_many = {spec.name};
      for (int i = 1; i < need + 1; i++) too_many.push_back("1");
      EXPECT_THAT(h.Run(too_many), IsError(err)) << spec.name;
    }
  }
}

TEST(StringsArity, MsetNeedsPairs) {
  Harness h;
  EXPECT_THAT(h.Run({"MSET", "a", "1", "b"}),
              IsError("ERR wrong number of arguments for 'mset' command"));
  EXPECT_THAT(h.Run({"MSETNX", "a", "1", "b"}),
              IsError("ERR wrong number of arguments for 'msetnx' command"));
  EXPECT_THAT(h.Run({"EXISTS", "a"}), IsInt(0));
}

// ---- GET / SET ------------------------------------------------------------------------

TEST(StringsSet, GetSetRoundTripAndMissingKey) {
  Harness h;
  EXPECT_THAT(h.Run({"GET", "k"}), IsNull());
  EXPECT_THAT(h.Run({"SET", "k", "v"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("v"));
  EXPECT_THAT(h.Run({"SET", "k", ""}), IsOk());
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk(""));
  EXPECT_THAT(h.Run({"EXISTS", "k"}), IsInt(1));
  std::string bin("a\0b\r\n", 5);
  EXPECT_THAT(h.Run({"SET", "bin", bin}), IsOk());
  EXPECT_THAT(h.Run({"GET", "bin"}), IsBulk(bin));
}

TEST(StringsSet, NxXxGet) {
  Harness h;
  EXPECT_THAT(h.Run({"SET", "k", "1", "XX"}), IsNull());
  EXPECT_THAT(h.Run({"SET", "k", "1", "XX", "GET"}), IsNull());
  EXPECT_THAT(h.Run({"EXISTS", "k"}), IsInt(0));
  EXPECT_THAT(h.Run({"SET", "k", "1", "NX"}), IsOk());
  EXPECT_THAT(h.Run({"SET", "k", "2", "NX"}), IsNull());
  EXPECT_THAT(h.Run({"SET", "k", "2", "nx", "get"}), IsBulk("1"));
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("1"));
  EXPECT_THAT(h.Run({"SET", "k", "3", "XX", "GET"}), IsBulk("1"));
  EXPECT_THAT(h.Run({"SET", "k", "4", "GET", "GET"}), IsBulk("3"));
  EXPECT_THAT(h.Run({"SET", "new", "x", "GET"}), IsNull());
  EXPECT_THAT(h.Run({"GET", "new"}), IsBulk("x"));
}

TEST(StringsSet, OptionErrors) {
  Harness h;
  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {"NX", "XX"}, {"EX", "10", "PX", "10"}, {"KEEPTTL", "EX", "10"}, {"EX"},
           {"PERSIST"}, {"FOO"}}) {
    std::vector<std::string> cmd = {"SET", "k", "v"};
    cmd.insert(cmd.end(), bad.begin(), bad.end());
    EXPECT_THAT(h.Run(cmd), IsError(kSyntax)) << cmd[3];
  }
  const char* invalid = "ERR invalid expire time in 'set' command";
  EXPECT_THAT(h.Run({"SET", "k", "v", "EX", "0"}), IsError(invalid));
  EXPECT_THAT(h.Run({"SET", "k", "v", "PX", "-1"}), IsError(invalid));
  EXPECT_THAT(h.Run({"SET", "k", "v", "EX", "9223372036854775807"}), IsError(invalid));
  EXPECT_THAT(h.Run({"SET", "k", "v", "EX", "9223372036854775"}), IsError(invalid));
  EXPECT_THAT(h.Run({"SET", "k", "v", "EX", "abc"}), IsError(kNotInt));
  EXPECT_THAT(h.Run({"SETEX", "k", "0", "v"}),
              IsError("ERR invalid expire time in 'setex' command"));
  EXPECT_THAT(h.Run({"PSETEX", "k", "-5", "v"}),
              IsError("ERR invalid expire time in 'psetex' command"));
  EXPECT_THAT(h.Run({"EXISTS", "k"}), IsInt(0));
}

TEST(StringsSet, SetNxAndMset) {
  Harness h;
  EXPECT_THAT(h.Run({"SETNX", "k", "1"}), IsInt(1));
  EXPECT_THAT(h.Run({"SETNX", "k", "2"}), IsInt(0));
  EXPECT_THAT(h.Run({"MSET", "a", "1", "b", "2"}), IsOk());
  EXPECT_THAT(h.Run({"MGET", "a", "nokey", "b", "k"}),
              IsArrayOf({IsBulk("1"), IsNull(), IsBulk("2"), IsBulk("1")}));
  EXPECT_THAT(h.Run({"MSETNX", "c", "3", "a", "x"}), IsInt(0));
  EXPECT_THAT(h.Run({"EXISTS", "c"}), IsInt(0));
  EXPECT_THAT(h.Run({"MSETNX", "c", "3", "d", "4"}), IsInt(1));
  EXPECT_THAT(h.Run({"MGET", "c", "d"}), IsBulkArray({"3", "4"}));
}

// ---- memcached client flags (through the MC.* helpers of this module) -----------------

int64_t McFlags(Harness& h, const std::string& key) {
  test::Reply r = h.Run({"MC.GET", key});
  return r.elems.size() > 2 ? r.elems[2].integer : -1;
}

TEST(StringsFlags, WholeValueWritesResetFlagsEditsKeepThem) {
  Harness h;
  for (const char* cmd : {"SET", "GETSET", "MSET", "SETEX", "INCR", "APPEND"}) {
    ASSERT_THAT(h.Run({"MC.SET", "k", "5", "SET", "7"}),
                test::IsArrayOf({test::IsSimple("STORED"), ::testing::_, ::testing::_}));
    ASSERT_EQ(McFlags(h, "k"), 7);
    std::string c = cmd;
    if (c == "SET" || c == "GETSET" || c == "MSET") h.Run({c, "k", "6"});
    if (c == "SETEX") h.Run({c, "k", "100", "6"});
    if (c == "INCR" || c == "APPEND") h.Run(c == "INCR" ? std::vector<std::string>{c, "k"}
                                                        : std::vector<std::string>{c, "k", "0"});
    const bool resets = c == "SET" || c == "GETSET" || c == "MSET" || c == "SETEX";
    EXPECT_EQ(McFlags(h, "k"), resets ? 0 : 7) << cmd;
  }
}

// ---- expiry (host clock, no sleeping) --------------------------------------------------

TEST(StringsExpiry, RelativeExpiriesExpire) {
  Harness h;
  EXPECT_THAT(h.Run({"SET", "px", "v", "PX", "100"}), IsOk());
  EXPECT_THAT(h.Run({"SETEX", "ex", "10", "v"}), IsOk());
  EXPECT_THAT(h.Run({"PSETEX", "psx", "2000", "v"}), IsOk());
  EXPECT_THAT(h.Run({"TTL", "ex"}), IsInt(10));
  h.AdvanceTime(99);
  EXPECT_THAT(h.Run({"GET", "px"}), IsBulk("v"));
  h.AdvanceTime(2);
  EXPECT_THAT(h.Run({"GET", "px"}), IsNull());
  EXPECT_THAT(h.Run({"GET", "psx"}), IsBulk("v"));
  h.AdvanceTime(2000);
  EXPECT_THAT(h.Run({"GET", "psx"}), IsNull());
  EXPECT_THAT(h.Run({"GET", "ex"}), IsBulk("v"));
  h.AdvanceTime(8000);
  EXPECT_THAT(h.Run({"GET", "ex"}), IsNull());
}

TEST(StringsExpiry, KeepTtlAndOverwrites) {
  Harness h;
  EXPECT_THAT(h.Run({"SET", "k", "v", "EX", "100"}), IsOk());
  EXPECT_THAT(h.Run({"SET", "k", "w", "KEEPTTL"}), IsOk());
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(100));
  EXPECT_THAT(h.Run({"INCR", "n"}), IsInt(1));
  EXPECT_THAT(h.Run({"SET", "n", "5", "EX", "100"}), IsOk());
  EXPECT_THAT(h.Run({"INCR", "n"}), IsInt(6));                // in-place edits keep it
  EXPECT_THAT(h.Run({"INCRBYFLOAT", "n", "0.5"}), IsBulk("6.5"));
  EXPECT_THAT(h.Run({"APPEND", "n", "0"}), IsInt(4));
  EXPECT_THAT(h.Run({"SETRANGE", "n", "0", "7"}), IsInt(4));
  EXPECT_THAT(h.Run({"TTL", "n"}), IsInt(100));
  EXPECT_THAT(h.Run({"SET", "k", "x"}), IsOk());             // whole writes clear it
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(-1));
  EXPECT_THAT(h.Run({"GETSET", "n", "1"}), IsBulk("7.50"));
  EXPECT_THAT(h.Run({"TTL", "n"}), IsInt(-1));
  EXPECT_THAT(h.Run({"SET", "m", "1", "EX", "100"}), IsOk());
  EXPECT_THAT(h.Run({"MSET", "m", "2"}), IsOk());
  EXPECT_THAT(h.Run({"TTL", "m"}), IsInt(-1));
}

TEST(StringsExpiry, AbsoluteTimes) {
  Harness h;
  EXPECT_THAT(h.Run({"SET", "past", "v", "PXAT", "1"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "past"}), IsNull());
  EXPECT_THAT(h.Run({"SET", "far", "v", "EXAT", "9223372036854775"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "far"}), IsBulk("v"));
}

TEST(StringsGetEx, SetsAndRemovesExpiry) {
  Harness h;
  EXPECT_THAT(h.Run({"GETEX", "nokey", "EX", "0"}), IsNull());
  EXPECT_THAT(h.Run({"SET", "k", "v"}), IsOk());
  EXPECT_THAT(h.Run({"GETEX", "k"}), IsBulk("v"));
  EXPECT_THAT(h.Run({"GETEX", "k", "EX", "100"}), IsBulk("v"));
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(100));
  EXPECT_THAT(h.Run({"GETEX", "k", "PERSIST"}), IsBulk("v"));
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(-1));
  EXPECT_THAT(h.Run({"GETEX", "k", "PX", "50"}), IsBulk("v"));
  h.AdvanceTime(51);
  EXPECT_THAT(h.Run({"GET", "k"}), IsNull());
  EXPECT_THAT(h.Run({"SET", "k", "v"}), IsOk());
  EXPECT_THAT(h.Run({"GETEX", "k", "PXAT", "1"}), IsBulk("v"));  // past: deletes
  EXPECT_THAT(h.Run({"EXISTS", "k"}), IsInt(0));
}

TEST(StringsGetEx, Errors) {
  Harness h;
  EXPECT_THAT(h.Run({"SET", "k", "v"}), IsOk());
  EXPECT_THAT(h.Run({"GETEX", "k", "EX", "0"}),
              IsError("ERR invalid expire time in 'getex' command"));
  EXPECT_THAT(h.Run({"GETEX", "k", "PERSIST", "EX", "1"}), IsError(kSyntax));
  EXPECT_THAT(h.Run({"GETEX", "k", "KEEPTTL"}), IsError(kSyntax));
  EXPECT_THAT(h.Run({"GETEX", "nokey", "FOO"}), IsError(kSyntax));
  EXPECT_THAT(h.Run({"GETEX", "k", "EX", "x"}), IsError(kNotInt));
}

TEST(StringsGetDel, DeletesOnce) {
  Harness h;
  EXPECT_THAT(h.Run({"SET", "k", "v"}), IsOk());
  EXPECT_THAT(h.Run({"GETDEL", "k"}), IsBulk("v"));
  EXPECT_THAT(h.Run({"GETDEL", "k"}), IsNull());
  EXPECT_THAT(h.Run({"EXISTS", "k"}), IsInt(0));
}

// ---- counters -------------------------------------------------------------------------

TEST(StringsCounters, IncrDecr) {
  Harness h;
  EXPECT_THAT(h.Run({"INCR", "n"}), IsInt(1));
  EXPECT_THAT(h.Run({"INCRBY", "n", "41"}), IsInt(42));
  EXPECT_THAT(h.Run({"DECR", "n"}), IsInt(41));
  EXPECT_THAT(h.Run({"DECRBY", "n", "-9"}), IsInt(50));
  EXPECT_THAT(h.Run({"GET", "n"}), IsBulk("50"));
  EXPECT_THAT(h.Run({"INCRBY", "n", "1.5"}), IsError(kNotInt));
  EXPECT_THAT(h.Run({"DECRBY", "n", "-9223372036854775808"}),
              IsError("ERR decrement would overflow"));
  EXPECT_THAT(h.Run({"SET", "big", "9223372036854775807"}), IsOk());
  EXPECT_THAT(h.Run({"INCR", "big"}), IsError("ERR increment or decrement would overflow"));
  EXPECT_THAT(h.Run({"GET", "big"}), IsBulk("9223372036854775807"));
  for (const char* bad : {" 1", "01", "+1", "abc", ""}) {
    EXPECT_THAT(h.Run({"SET", "s", bad}), IsOk());
    EXPECT_THAT(h.Run({"INCR", "s"}), IsError(kNotInt)) << bad;
  }
}

TEST(StringsCounters, IncrByFloat) {
  Harness h;
  EXPECT_THAT(h.Run({"INCRBYFLOAT", "f", "10.5"}), IsBulk("10.5"));
  EXPECT_THAT(h.Run({"INCRBYFLOAT", "f", "0.1"}), IsBulk("10.6"));
  EXPECT_THAT(h.Run({"INCRBYFLOAT", "f", "-5.0e3"}), IsBulk("-4989.39999999999999991"));
  EXPECT_THAT(h.Run({"SET", "g", "3"}), IsOk());
  EXPECT_THAT(h.Run({"INCRBYFLOAT", "g", "2"}), IsBulk("5"));
  EXPECT_THAT(h.Run({"INCRBYFLOAT", "g", "abc"}), IsError("ERR value is not a valid float"));
  EXPECT_THAT(h.Run({"INCRBYFLOAT", "g", "inf"}),
              IsError("ERR increment would produce NaN or Infinity"));
  EXPECT_THAT(h.Run({"GET", "g"}), IsBulk("5"));
}

// ---- ranges, APPEND, limits ------------------------------------------------------------

TEST(StringsRanges, AppendStrlenGetRangeSetRange) {
  Harness h;
  EXPECT_THAT(h.Run({"APPEND", "s", "Hello"}), IsInt(5));
  EXPECT_THAT(h.Run({"APPEND", "s", " World"}), IsInt(11));
  EXPECT_THAT(h.Run({"STRLEN", "s"}), IsInt(11));
  EXPECT_THAT(h.Run({"STRLEN", "nokey"}), IsInt(0));
  EXPECT_THAT(h.Run({"GETRANGE", "s", "0", "4"}), IsBulk("Hello"));
  EXPECT_THAT(h.Run({"GETRANGE", "s", "-5", "-1"}), IsBulk("World"));
  EXPECT_THAT(h.Run({"SUBSTR", "s", "-1", "-5"}), IsBulk(""));
  EXPECT_THAT(h.Run({"GETRANGE", "nokey", "0", "-1"}), IsBulk(""));
  EXPECT_THAT(h.Run({"GETRANGE", "s", "x", "1"}), IsError(kNotInt));
  EXPECT_THAT(h.Run({"SETRANGE", "s", "6", "Redis"}), IsInt(11));
  EXPECT_THAT(h.Run({"SETRANGE", "s", "13", "!"}), IsInt(14));
  EXPECT_THAT(h.Run({"GET", "s"}), IsBulk(std::string("Hello Redis\0\0!", 14)));
  EXPECT_THAT(h.Run({"SETRANGE", "s", "-1", "x"}), IsError("ERR offset is out of range"));
  EXPECT_THAT(h.Run({"SETRANGE", "s", "0", ""}), IsInt(14));
  EXPECT_THAT(h.Run({"SETRANGE", "nokey", "5", ""}), IsInt(0));
  EXPECT_THAT(h.Run({"EXISTS", "nokey"}), IsInt(0));
  EXPECT_THAT(h.Run({"APPEND", "empty", ""}), IsInt(0));
  EXPECT_THAT(h.Run({"EXISTS", "empty"}), IsInt(1));
  // Nothing onto an existing empty string: no bytes to copy into a null block (UBSan).
  EXPECT_THAT(h.Run({"APPEND", "empty", ""}), IsInt(0));
  EXPECT_THAT(h.Run({"GET", "empty"}), IsBulk(""));
}

TEST(StringsRanges, ProtoMaxBulkLenLimitsGrowth) {
  HarnessOptions opts;
  opts.config = {{"limits.proto_max_bulk_len", "1mb"}};
  Harness h(opts);
  const int64_t limit = 1024 * 1024;
  EXPECT_THAT(h.Run({"SETRANGE", "k", std::to_string(limit), "x"}), IsError(kTooLarge));
  EXPECT_THAT(h.Run({"SETRANGE", "k", "9223372036854775807", "x"}), IsError(kTooLarge));
  EXPECT_THAT(h.Run({"EXISTS", "k"}), IsInt(0));
  EXPECT_THAT(h.Run({"SETRANGE", "k", std::to_string(limit - 1), "x"}), IsInt(limit));
  EXPECT_THAT(h.Run({"APPEND", "k", "y"}), IsError(kTooLarge));
  EXPECT_THAT(h.Run({"SETRANGE", "k", std::to_string(limit - 1), "xy"}), IsError(kTooLarge));
  EXPECT_THAT(h.Run({"STRLEN", "k"}), IsInt(limit));
  // LCS refuses a DP table larger than the limit: (600+1)^2 * 4 bytes > 1 MB.
  EXPECT_THAT(h.Run({"SET", "a", std::string(600, 'a')}), IsOk());
  EXPECT_THAT(h.Run({"LCS", "a", "a", "LEN"}),
              IsError("ERR Insufficient memory, transient memory for LCS exceeds "
                      "proto-max-bulk-len"));
}

// ---- LCS -------------------------------------------------------------------------------

TEST(StringsLcs, Forms) {
  Harness h;
  EXPECT_THAT(h.Run({"MSET", "a", "ohmytext", "b", "mynewtext"}), IsOk());
  EXPECT_THAT(h.Run({"LCS", "a", "b"}), IsBulk("mytext"));
  EXPECT_THAT(h.Run({"LCS", "a", "b", "LEN"}), IsInt(6));
  EXPECT_THAT(h.Run({"LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}),
              IsArrayOf({IsBulk("matches"),
                         IsArrayOf({IsArrayOf({IsIntArray({4, 7}), IsIntArray({5, 8}),
                                               IsInt(4)})}),
                         IsBulk("len"), IsInt(6)}));
  EXPECT_THAT(h.Run({"LCS", "a", "b", "IDX"}),
              IsArrayOf({IsBulk("matches"),
                         IsArrayOf({IsArrayOf({IsIntArray({4, 7}), IsIntArray({5, 8})}),
                                    IsArrayOf({IsIntArray({2, 3}), IsIntArray({0, 1})})}),
                         IsBulk("len"), IsInt(6)}));
  EXPECT_THAT(h.Run({"LCS", "nokey", "b"}), IsBulk(""));
  EXPECT_THAT(h.Run({"LCS", "a", "b", "LEN", "IDX"}),
              IsError("ERR If you want both the length and indexes, please just use IDX."));
  EXPECT_THAT(h.Run({"LCS", "a", "b", "MINMATCHLEN"}), IsError(kSyntax));
  EXPECT_THAT(h.Run({"LCS", "a", "b", "MINMATCHLEN", "x"}), IsError(kNotInt));
}

// ---- wrong type (a list from lists.so) -------------------------------------------------

TEST(StringsWrongType, EveryCommand) {
  HarnessOptions opts;
  opts.plugins = {"strings", "keys", "lists"};
  Harness h(opts);
  ASSERT_THAT(h.Run({"RPUSH", "l", "x"}), IsInt(1));
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"GET", "l"}, {"SET", "l", "v", "GET"}, {"GETSET", "l", "v"}, {"GETDEL", "l"},
           {"GETEX", "l", "EX", "0"}, {"APPEND", "l", "x"}, {"STRLEN", "l"}, {"INCR", "l"},
           {"DECRBY", "l", "1"}, {"INCRBYFLOAT", "l", "1"}, {"GETRANGE", "l", "0", "1"},
           {"SETRANGE", "l", "0", ""}}) {
    EXPECT_THAT(h.Run(cmd), IsError(kWrongType)) << cmd[0];
  }
  EXPECT_THAT(h.Run({"LCS", "l", "nokey"}),
              IsError("ERR The specified keys must contain string values"));
  EXPECT_THAT(h.Run({"MGET", "l"}), IsArrayOf({IsNull()}));
  EXPECT_THAT(h.Run({"SETNX", "l", "v"}), IsInt(0));
  EXPECT_THAT(h.Run({"SET", "l", "v", "NX"}), IsNull());
  EXPECT_THAT(h.Run({"TYPE", "l"}), test::IsSimple("list"));
  EXPECT_THAT(h.Run({"SET", "l", "v"}), IsOk());  // SET replaces any type
  EXPECT_THAT(h.Run({"GET", "l"}), IsBulk("v"));
}

// ---- propagation and keyspace events ---------------------------------------------------

using Cmd = std::vector<std::string>;

// Propagated commands without the SELECTs the host adds for the AOF.
std::vector<Cmd> Commands(const test::PropagationRecorder& rec) {
  std::vector<Cmd> out;
  for (auto& c : rec.commands())
    if (c.argv[0] != "SELECT") out.push_back(c.argv);
  return out;
}

TEST(StringsPropagation, DeterministicForms) {
  Harness h;
  const int64_t now = h.NowMs();
  const std::string in_100s = std::to_string(now + 100000);
  auto rec = std::make_unique<test::PropagationRecorder>(h);
  h.Run({"SET", "p1", "v", "EX", "100", "NX", "GET"});
  h.Run({"SET", "p2", "v", "GET"});
  h.Run({"SET", "p2", "w", "GET", "XX", "get"});
  h.Run({"SET", "p3", "v", "XX"});  // nothing written: nothing propagated
  h.Run({"SETEX", "p4", "100", "v"});
  h.Run({"GETSET", "p4", "x"});
  h.Run({"GETEX", "p4", "EX", "100"});
  h.Run({"GETEX", "p4", "PERSIST"});
  h.Run({"GETEX", "p4", "PERSIST"});  // no expiry to remove: nothing
  h.Run({"GETEX", "p4"});
  h.Run({"INCRBYFLOAT", "f", "1.5"});
  h.Run({"GETDEL", "f"});
  h.Run({"GETDEL", "f"});
  h.Run({"SETNX", "f", "1"});
  h.Run({"SETNX", "f", "1"});
  h.Run({"MSETNX", "f", "1", "g", "2"});
  h.Run({"SETRANGE", "b", "0", ""});
  h.Run({"GETEX", "f", "PXAT", "1"});
  std::vector<Cmd> cmds = Commands(*rec);
  rec.reset();

  EXPECT_THAT(cmds, ElementsAre(Cmd{"SET", "p1", "v", "PXAT", in_100s},
                                    Cmd{"SET", "p2", "v"},
                                    Cmd{"SET", "p2", "w", "XX"},
                                    Cmd{"SET", "p4", "v", "PXAT", in_100s},
                                    Cmd{"SET", "p4", "x"},
                                    Cmd{"PEXPIREAT", "p4", in_100s},
                                    Cmd{"PERSIST", "p4"},
                                    Cmd{"SET", "f", "1.5", "KEEPTTL"},
                                    Cmd{"DEL", "f"},
                                    Cmd{"SETNX", "f", "1"},
                                    Cmd{"DEL", "f"}));
}


TEST(StringsEvents, SameNamesAsRedis) {
  HarnessOptions opts;
  opts.config = {{"server.notify_keyspace_events", "KEA"}};
  Harness h(opts);
  auto ev = std::make_unique<test::EventRecorder>(h, ~0u);
  h.Run({"SET", "e1", "v", "EX", "100"});
  h.Run({"SET", "e1", "v", "NX"});
  h.Run({"SETRANGE", "e1", "1", "x"});
  h.Run({"APPEND", "e1", "z"});
  h.Run({"APPEND", "e2", ""});
  h.Run({"INCR", "n"});
  h.Run({"INCRBYFLOAT", "n", "1.5"});
  h.Run({"GETDEL", "n"});
  h.Run({"GETEX", "e1", "PX", "100000"});
  h.Run({"GETEX", "e1", "PERSIST"});
  h.Run({"GETSET", "e1", "q"});
  h.Run({"MSET", "m1", "1", "m2", "2"});
  h.Run({"GETEX", "m1", "PXAT", "1"});
  std::vector<std::pair<std::string, std::string>> seen;
  for (auto& e : ev->events()) seen.emplace_back(e.event, e.key);
  ev.reset();
  using E = std::pair<std::string, std::string>;
  EXPECT_THAT(seen, ElementsAre(E{"set", "e1"}, E{"expire", "e1"}, E{"setrange", "e1"},
                                   E{"append", "e1"}, E{"append", "e2"}, E{"incrby", "n"},
                                   E{"incrbyfloat", "n"}, E{"del", "n"}, E{"expire", "e1"},
                                   E{"persist", "e1"}, E{"set", "e1"}, E{"set", "m1"},
                                   E{"set", "m2"}, E{"del", "m1"}));
}

}  // namespace
}  // namespace ferrite::mod::strings
