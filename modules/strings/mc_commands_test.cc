// Family tests for the hidden MC.* commands through the in-process harness (real
// strings.so): the reply contract of mc_commands.h, flags, cas, expiry with a moved
// clock, non-string keys, and the propagated forms' effect on state.
#include "tests/harness/harness.h"

#include <memory>
#include <string>
#include <vector>

namespace ferrite::test {
namespace {

// [STATUS, fields...] -> the status word
std::string Status(const Reply& r) {
  if (r.type == FERRITE_REPLY_ERROR) return "ERR:" + r.str;
  if (r.elems.empty()) return "?";
  return r.elems[0].str;
}
int64_t Field(const Reply& r, size_t i) { return r.elems.at(i + 1).integer; }
std::string Str(const Reply& r, size_t i) { return r.elems.at(i + 1).str; }

HarnessOptions WithLists() {
  HarnessOptions o;
  o.plugins = {"strings", "keys", "lists"};
  return o;
}

class McCommands : public ::testing::Test {
 protected:
  Harness h_{WithLists()};
};

TEST_F(McCommands, SetGetCarriesFlagsAndCas) {
  Reply s = h_.Run({"MC.SET", "k", "v", "SET", "42"});
  ASSERT_EQ(Status(s), "STORED");
  Reply g = h_.Run({"MC.GET", "k"});
  ASSERT_EQ(Status(g), "HIT");
  EXPECT_EQ(Str(g, 0), "v");
  EXPECT_EQ(Field(g, 1), 42);
  EXPECT_EQ(Field(g, 2), Field(s, 0));  // cas = version after the write
  EXPECT_EQ(Field(g, 3), -1);           // no ttl
  EXPECT_THAT(h_.Run({"GET", "k"}), IsBulk("v"));
  EXPECT_EQ(Status(h_.Run({"MC.GET", "nope"})), "MISS");
}

TEST_F(McCommands, AddReplaceAppendPrepend) {
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "b", "REPLACE", "0"})), "NOT_STORED");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "b", "APPEND", "0"})), "NOT_STORED");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "b", "ADD", "3"})), "STORED");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "x", "ADD", "0"})), "NOT_STORED");
  // An empty append/prepend to an empty item copies nothing (the string has no block).
  EXPECT_EQ(Status(h_.Run({"MC.SET", "e", "", "SET", "0"})), "STORED");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "e", "", "APPEND", "0"})), "STORED");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "e", "", "PREPEND", "0"})), "STORED");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "c", "APPEND", "9"})), "STORED");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "a", "PREPEND", "9"})), "STORED");
  Reply g = h_.Run({"MC.GET", "k"});
  EXPECT_EQ(Str(g, 0), "abc");
  EXPECT_EQ(Field(g, 1), 3);  // append/prepend keep the item's flags
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "z", "REPLACE", "1"})), "STORED");
  EXPECT_THAT(h_.Run({"GET", "k"}), IsBulk("z"));
}

TEST_F(McCommands, CasComparesTheKeyVersion) {
  int64_t cas = Field(h_.Run({"MC.SET", "k", "1", "SET", "0"}), 0);
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "2", "CAS", "0", "CAS", std::to_string(cas + 1)})),
            "EXISTS");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "2", "CAS", "0", "CAS", std::to_string(cas)})),
            "STORED");
  int64_t cas2 = Field(h_.Run({"MC.GET", "k"}), 2);
  EXPECT_NE(cas2, cas);
  h_.Run({"SET", "k", "resp"});  // any write changes it
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "3", "CAS", "0", "CAS", std::to_string(cas2)})),
            "EXISTS");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "nope", "3", "CAS", "0", "CAS", "1"})), "NOT_FOUND");
  EXPECT_EQ(Status(h_.Run({"MC.DELETE", "k", "CAS", "1"})), "EXISTS");
  EXPECT_EQ(Status(h_.Run({"MC.DELETE", "k"})), "DELETED");
  EXPECT_EQ(Status(h_.Run({"MC.DELETE", "k"})), "NOT_FOUND");
}

TEST_F(McCommands, ExptimeRelativeAbsoluteNegative) {
  h_.Run({"MC.SET", "r", "v", "SET", "0", "EX", "10"});
  EXPECT_EQ(Field(h_.Run({"MC.GET", "r"}), 3), 10);
  EXPECT_THAT(h_.Run({"TTL", "r"}), IsInt(10));
  h_.AdvanceTime(10001);
  EXPECT_EQ(Status(h_.Run({"MC.GET", "r"})), "MISS");
  h_.Run({"MC.SET", "n", "v", "SET", "0"});
  EXPECT_EQ(Status(h_.Run({"MC.SET", "n", "v", "SET", "0", "EX", "-1"})), "STORED");
  EXPECT_EQ(Status(h_.Run({"MC.GET", "n"})), "MISS");
  // > 30 days is an absolute unix time; one in the past expires at once
  EXPECT_EQ(Status(h_.Run({"MC.SET", "a", "v", "SET", "0", "EX", "2592001"})), "STORED");
  EXPECT_EQ(Status(h_.Run({"MC.GET", "a"})), "MISS");
}

// memcached links an already-expired item and answers its new CAS unique (binary
// header, meta c); found by tests/e2e/test_memcached_differential.py.
TEST_F(McCommands, ExpiredStoreAnswersAFreshCas) {
  Reply s = h_.Run({"MC.SET", "k", "v", "SET", "0"});
  Reply e = h_.Run({"MC.SET", "k", "w", "SET", "0", "EX", "-1"});
  ASSERT_EQ(Status(e), "STORED");
  EXPECT_NE(Field(e, 0), 0);
  EXPECT_NE(Field(e, 0), Field(s, 0));
  EXPECT_EQ(Status(h_.Run({"MC.GET", "k"})), "MISS");
  Reply n = h_.Run({"MC.SET", "new", "w", "SET", "0", "EX", "-1"});
  EXPECT_NE(Field(n, 0), 0);
  EXPECT_NE(Field(n, 0), Field(e, 0));
  EXPECT_THAT(h_.Run({"EXISTS", "new"}), IsInt(0));
  Reply a = h_.Run({"MC.ARITH", "c", "INCR", "1", "INITIAL", "7", "VIVIFY", "-1"});
  EXPECT_EQ(Str(a, 0), "7");
  EXPECT_NE(Field(a, 1), 0);
  EXPECT_NE(Field(a, 1), Field(n, 0));
  EXPECT_THAT(h_.Run({"EXISTS", "c"}), IsInt(0));
}

// ms C0 with mode A/P: memcached skips a zero cas on append/prepend, not on set.
TEST_F(McCommands, AppendWithCasZeroDoesNotCompare) {
  h_.Run({"MC.SET", "k", "b", "SET", "0"});
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "c", "APPEND", "0", "CAS", "0"})), "STORED");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "a", "PREPEND", "0", "CAS", "0"})), "STORED");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "a", "PREPEND", "0", "CAS", "1"})), "EXISTS");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "z", "CAS", "0", "CAS", "0"})), "EXISTS");
  EXPECT_THAT(h_.Run({"GET", "k"}), IsBulk("abc"));
}

TEST_F(McCommands, TouchAndGat) {
  h_.Run({"MC.SET", "k", "v", "SET", "0"});
  EXPECT_EQ(Status(h_.Run({"MC.TOUCH", "k", "100"})), "TOUCHED");
  EXPECT_THAT(h_.Run({"TTL", "k"}), IsInt(100));
  Reply g = h_.Run({"MC.GAT", "k", "TOUCH", "0"});
  EXPECT_EQ(Status(g), "HIT");
  EXPECT_THAT(h_.Run({"TTL", "k"}), IsInt(-1));
  EXPECT_EQ(Status(h_.Run({"MC.TOUCH", "nope", "1"})), "NOT_FOUND");
  Reply v = h_.Run({"MC.GAT", "new", "VIVIFY", "30"});
  EXPECT_EQ(Status(v), "HIT");
  EXPECT_EQ(Field(v, 5), 1);  // created
  EXPECT_EQ(Field(h_.Run({"MC.GAT", "new", "VIVIFY", "30"}), 5), 0);
}

// memcached applies meta T and N in flag order (the later sets a created item's TTL) and
// meta t prints the TTL as of its place, so the reply also carries the TTL before.
TEST_F(McCommands, TouchVivifyOrderAndTtlBefore) {
  h_.Run({"MC.SET", "k", "v", "SET", "0", "EX", "100"});
  Reply g = h_.Run({"MC.GAT", "k", "TOUCH", "50"});
  EXPECT_EQ(Field(g, 3), 50);
  EXPECT_EQ(Field(g, 6), 100);  // before the touch
  EXPECT_EQ(Field(h_.Run({"MC.GAT", "a", "TOUCH", "100", "VIVIFY", "30"}), 3), 30);
  EXPECT_EQ(Field(h_.Run({"MC.GAT", "b", "VIVIFY", "30", "TOUCH", "100"}), 3), 100);
  Reply c = h_.Run({"MC.GAT", "b", "TOUCH", "20", "VIVIFY", "30"});  // a hit: N ignored
  EXPECT_EQ(Field(c, 3), 20);
  EXPECT_EQ(Field(c, 6), 100);
  Reply n = h_.Run({"MC.ARITH", "n", "INCR", "1", "INITIAL", "5", "VIVIFY", "0", "TOUCH", "100"});
  EXPECT_EQ(Field(n, 2), 100);
  EXPECT_EQ(Field(n, 3), 1);    // created
  EXPECT_EQ(Field(n, 4), -1);   // nothing before
  Reply m = h_.Run({"MC.ARITH", "m", "INCR", "1", "INITIAL", "5", "TOUCH", "100", "VIVIFY", "0"});
  EXPECT_EQ(Field(m, 2), -1);
  Reply h = h_.Run({"MC.ARITH", "n", "INCR", "1", "TOUCH", "40"});
  EXPECT_EQ(Field(h, 2), 40);
  EXPECT_EQ(Field(h, 3), 0);
  EXPECT_EQ(Field(h, 4), 100);
}

TEST_F(McCommands, Arithmetic) {
  EXPECT_EQ(Status(h_.Run({"MC.ARITH", "n", "INCR", "1"})), "NOT_FOUND");
  Reply c = h_.Run({"MC.ARITH", "n", "INCR", "1", "INITIAL", "7", "VIVIFY", "0"});
  EXPECT_EQ(Str(c, 0), "7");
  EXPECT_EQ(Str(h_.Run({"MC.ARITH", "n", "INCR", "18446744073709551615"}), 0), "6");  // wraps
  EXPECT_EQ(Str(h_.Run({"MC.ARITH", "n", "DECR", "100"}), 0), "0");  // floors at 0
  h_.Run({"SET", "s", "abc"});
  EXPECT_EQ(Status(h_.Run({"MC.ARITH", "s", "INCR", "1"})), "NON_NUMERIC");
  EXPECT_EQ(Status(h_.Run({"MC.ARITH", "s", "INCR", "1", "CAS", "1"})), "EXISTS");
  h_.Run({"SET", "l", "1 2" + std::string(3000, 'v')});  // the number before a blank counts
  EXPECT_EQ(Str(h_.Run({"MC.ARITH", "l", "INCR", "1"}), 0), "2");
  h_.Run({"SET", "l", std::string(70, ' ') + "7"});
  EXPECT_EQ(Str(h_.Run({"MC.ARITH", "l", "INCR", "1"}), 0), "8");
  h_.Run({"SET", "l", std::string("007\0x", 5)});
  EXPECT_EQ(Str(h_.Run({"MC.ARITH", "l", "DECR", "1"}), 0), "6");
  h_.Run({"SET", "l", "12x"});
  EXPECT_EQ(Status(h_.Run({"MC.ARITH", "l", "INCR", "1"})), "NON_NUMERIC");
  h_.Run({"SET", "e", ""});  // empty: non-numeric before the cas compare, as in memcached
  EXPECT_EQ(Status(h_.Run({"MC.ARITH", "e", "INCR", "1", "CAS", "1"})), "NON_NUMERIC");
  h_.Run({"MC.SET", "f", "10", "SET", "5", "EX", "100"});
  EXPECT_EQ(Str(h_.Run({"MC.ARITH", "f", "INCR", "5"}), 0), "15");
  Reply g = h_.Run({"MC.GET", "f"});
  EXPECT_EQ(Field(g, 1), 5);  // flags kept
  EXPECT_EQ(Field(g, 3), 100);  // ttl kept
  EXPECT_THAT(h_.Run({"INCR", "f"}), IsInt(16));
}

TEST_F(McCommands, NonStringKeys) {
  ASSERT_THAT(h_.Run({"RPUSH", "l", "a"}), IsInt(1));
  EXPECT_EQ(Status(h_.Run({"MC.GET", "l"})), "MISS");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "l", "x", "ADD", "0"})), "NOT_STORED");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "l", "x", "APPEND", "0"})), "NOT_STORED");
  EXPECT_EQ(Status(h_.Run({"MC.ARITH", "l", "INCR", "1"})), "NOT_FOUND");
  EXPECT_EQ(Status(h_.Run({"MC.SET", "l", "x", "SET", "2"})), "STORED");
  EXPECT_THAT(h_.Run({"TYPE", "l"}), IsSimple("string"));
}

TEST_F(McCommands, FlushAndStats) {
  h_.Run({"MC.SET", "a", "1", "SET", "0"});
  h_.Run({"MC.SET", "b", "1", "SET", "0"});
  h_.Run({"MC.FLUSH", "10"});
  EXPECT_THAT(h_.Run({"TTL", "a"}), IsInt(10));
  EXPECT_EQ(Status(h_.Run({"MC.FLUSH"})), "OK");
  EXPECT_THAT(h_.Run({"DBSIZE"}), IsInt(0));
  Reply st = h_.Run({"MC.STATS"});
  EXPECT_EQ(Status(st), "OK");
  bool saw = false;
  for (size_t i = 1; i + 1 < st.elems.size(); i += 2) saw = saw || st.elems[i].str == "curr_items";
  EXPECT_TRUE(saw);
}

TEST_F(McCommands, BadArguments) {
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "v", "BOGUS", "0"})).rfind("ERR:", 0), 0u);
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "v", "SET", "4294967296"})).rfind("ERR:", 0), 0u);
  EXPECT_EQ(Status(h_.Run({"MC.SET", "k", "v", "SET", "0", "EX"})).rfind("ERR:", 0), 0u);
  EXPECT_EQ(Status(h_.Run({"MC.ARITH", "k", "MUL", "1"})).rfind("ERR:", 0), 0u);
}

TEST_F(McCommands, BriefHitIsValueFlagsCas) {
  int64_t cas = Field(h_.Run({"MC.SET", "k", "v", "SET", "7", "EX", "100"}), 0);
  for (const char* word : {"BRIEF", "brief"}) {
    Reply g = h_.Run({"MC.GET", "k", word});
    ASSERT_EQ(Status(g), "HIT");
    ASSERT_EQ(g.elems.size(), 4u);  // no ttl, idle or created
    EXPECT_EQ(Str(g, 0), "v");
    EXPECT_EQ(Field(g, 1), 7);
    EXPECT_EQ(Field(g, 2), cas);
  }
  EXPECT_EQ(h_.Run({"MC.GET", "k"}).elems.size(), 10u);  // HIT and nine fields
  EXPECT_EQ(Status(h_.Run({"MC.GET", "nope", "BRIEF"})), "MISS");
  Reply t = h_.Run({"MC.GAT", "k", "TOUCH", "50", "BRIEF"});
  ASSERT_EQ(t.elems.size(), 4u);
  EXPECT_EQ(Str(t, 0), "v");
  EXPECT_EQ(Status(h_.Run({"MC.GET", "k", "FULL"})).rfind("ERR:", 0), 0u);
  EXPECT_EQ(Status(h_.Run({"MC.GET", "k", "BRIEF", "x"})).rfind("ERR:", 0), 0u);
}

// A plain SET with no relative time goes out verbatim; anything with a clock or a cas
// compare in it is rewritten to the deterministic MC.SET ... PXAT form.
TEST_F(McCommands, PropagatedSetForms) {
  using Cmd = std::vector<std::string>;
  auto rec = std::make_unique<PropagationRecorder>(h_);
  const std::string at = std::to_string(h_.NowMs() + 100000);
  h_.Run({"MC.SET", "a", "v", "SET", "5", "EX", "0"});
  h_.Run({"MC.SET", "b", "v", "SET", "5"});
  h_.Run({"MC.SET", "c", "v", "SET", "5", "EX", "100"});
  h_.Run({"MC.SET", "d", "v", "ADD", "5"});
  int64_t cas = Field(h_.Run({"MC.GET", "d"}), 2);
  h_.Run({"MC.SET", "d", "w", "SET", "6", "CAS", std::to_string(cas)});
  std::vector<Cmd> got;
  for (auto& c : rec->commands())
    if (c.argv[0] != "SELECT") got.push_back(c.argv);
  EXPECT_EQ(got, (std::vector<Cmd>{{"MC.SET", "a", "v", "SET", "5", "EX", "0"},
                                   {"MC.SET", "b", "v", "SET", "5"},
                                   {"MC.SET", "c", "v", "SET", "5", "PXAT", at},
                                   {"MC.SET", "d", "v", "SET", "5"},
                                   {"MC.SET", "d", "w", "SET", "6"}}));
}

// Meta reads reply [HIT value flags cas ttl idle created ttl_before bits won]: the item's
// FERRITE_MC_* bits before the request and whether it won the recache token.
constexpr int kBits = 7, kWon = 8;

TEST_F(McCommands, VivifyWinsOnceThenTheTokenIsOut) {
  Reply a = h_.Run({"MC.GAT", "v", "VIVIFY", "30"});
  EXPECT_EQ(Field(a, 5), 1);
  EXPECT_EQ(Field(a, kBits), 0);
  EXPECT_EQ(Field(a, kWon), 1);
  Reply b = h_.Run({"MC.GET", "v"});
  EXPECT_EQ(Field(b, kBits), FERRITE_MC_WON | FERRITE_MC_FETCHED);
  EXPECT_EQ(Field(b, kWon), 0);
  h_.Run({"MC.SET", "v", "x", "SET", "0"});  // the recache: a new item, no marks
  Reply c = h_.Run({"MC.GET", "v"});
  EXPECT_EQ(Field(c, kBits), 0);
  EXPECT_EQ(Field(c, kWon), 0);
}

TEST_F(McCommands, RecacheWinsBelowTheTtlInFlagOrder) {
  h_.Run({"MC.SET", "r", "x", "SET", "0", "EX", "100"});
  EXPECT_EQ(Field(h_.Run({"MC.GET", "r", "RECACHE", "30"}), kWon), 0);
  EXPECT_EQ(Field(h_.Run({"MC.GET", "r", "RECACHE", "0"}), kWon), 0);
  EXPECT_EQ(Field(h_.Run({"MC.GET", "r", "RECACHE", "-5"}), kWon), 0);
  // R before T sees the old TTL (100), after T the new one (50)
  EXPECT_EQ(Field(h_.Run({"MC.GAT", "r", "RECACHE", "60", "TOUCH", "50"}), kWon), 0);
  EXPECT_EQ(Field(h_.Run({"MC.GAT", "r", "TOUCH", "50", "RECACHE", "60"}), kWon), 1);
  Reply z = h_.Run({"MC.GET", "r", "RECACHE", "60"});
  EXPECT_EQ(Field(z, kWon), 0);  // the token is out
  EXPECT_NE(Field(z, kBits) & FERRITE_MC_WON, 0);
  h_.Run({"MC.SET", "p", "x", "SET", "0"});  // no TTL: never
  EXPECT_EQ(Field(h_.Run({"MC.GET", "p", "RECACHE", "1000"}), kWon), 0);
}

TEST_F(McCommands, InvalidateKeepsTheItemStaleWithANewCas) {
  auto rec = std::make_unique<PropagationRecorder>(h_);
  int64_t cas = Field(h_.Run({"MC.SET", "i", "old", "SET", "3", "EX", "100"}), 0);
  h_.Run({"MC.GET", "i"});
  EXPECT_EQ(Status(h_.Run({"MC.DELETE", "i", "STALE", "CAS", "1"})), "EXISTS");
  EXPECT_EQ(Status(h_.Run({"MC.DELETE", "i", "STALE", "TOUCH", "30"})), "DELETED");
  Reply a = h_.Run({"MC.GET", "i"});
  EXPECT_EQ(Str(a, 0), "old");
  EXPECT_EQ(Field(a, 1), 3);
  EXPECT_NE(Field(a, 2), cas);
  EXPECT_EQ(Field(a, 3), 30);
  EXPECT_EQ(Field(a, kBits), FERRITE_MC_STALE | FERRITE_MC_FETCHED);  // fetched is kept
  EXPECT_EQ(Field(a, kWon), 1);
  Reply b = h_.Run({"MC.GET", "i", "NOBUMP"});
  EXPECT_EQ(Field(b, kBits), FERRITE_MC_STALE | FERRITE_MC_FETCHED | FERRITE_MC_WON);
  EXPECT_EQ(Field(b, kWon), 0);
  // a RESP write is a new item too
  h_.Run({"SET", "i", "new"});
  EXPECT_EQ(Field(h_.Run({"MC.GET", "i"}), kBits), 0);
  std::vector<std::vector<std::string>> got;
  for (auto& c : rec->commands())
    if (c.argv[0] == "MC.DELETE" || c.argv[0] == "PEXPIREAT") got.push_back(c.argv);
  EXPECT_EQ(got, (std::vector<std::vector<std::string>>{
                     {"PEXPIREAT", "i", std::to_string(h_.NowMs() + 30000)},
                     {"MC.DELETE", "i", "STALE"}}));
  // replayed, the propagated form marks the key stale again
  h_.Run({"MC.SET", "j", "v", "SET", "0"});
  h_.Run({"MC.DELETE", "j", "STALE"});
  EXPECT_EQ(Field(h_.Run({"MC.GET", "j"}), kWon), 1);
}

TEST_F(McCommands, StaleStoreNeedsALowerCasAndKeepsTtlAndToken) {
  int64_t cas = Field(h_.Run({"MC.SET", "s", "v1", "SET", "0", "EX", "100"}), 0);
  std::string lower = std::to_string(cas - 1);
  EXPECT_EQ(Status(h_.Run({"MC.SET", "s", "v2", "CAS", "0", "CAS", lower})), "EXISTS");
  Reply st = h_.Run({"MC.SET", "s", "v2", "CAS", "0", "EX", "5", "CAS", lower, "STALE"});
  EXPECT_EQ(Status(st), "STORED");
  Reply a = h_.Run({"MC.GET", "s"});
  EXPECT_EQ(Str(a, 0), "v2");
  EXPECT_EQ(Field(a, 3), 100);  // the item's TTL, not EX 5
  EXPECT_EQ(Field(a, kWon), 1);
  h_.Run({"MC.SET", "s", "v3", "CAS", "0", "CAS", lower, "STALE"});
  EXPECT_EQ(Field(h_.Run({"MC.GET", "s"}), kBits) & (FERRITE_MC_STALE | FERRITE_MC_WON),
            FERRITE_MC_STALE | FERRITE_MC_WON);  // a token already out stays out
  EXPECT_EQ(Status(h_.Run({"MC.SET", "s", "v4", "CAS", "0", "CAS", "0", "STALE"})), "EXISTS");
  int64_t now = Field(h_.Run({"MC.GET", "s"}), 2);
  h_.Run({"MC.SET", "s", "v5", "CAS", "0", "CAS", std::to_string(now), "STALE"});
  EXPECT_EQ(Field(h_.Run({"MC.GET", "s"}), kBits), 0);  // the current CAS: a normal store
}

TEST_F(McCommands, EmptyKeepsTheItemAndItsCas) {
  int64_t cas = Field(h_.Run({"MC.SET", "e", "value", "SET", "7", "EX", "100"}), 0);
  EXPECT_EQ(Status(h_.Run({"MC.DELETE", "e", "EMPTY"})), "DELETED");
  Reply a = h_.Run({"MC.GET", "e"});
  EXPECT_EQ(Str(a, 0), "");
  EXPECT_EQ(Field(a, 1), 0);
  EXPECT_EQ(Field(a, 2), cas);
  EXPECT_EQ(Field(a, 3), -1);
  h_.Run({"MC.DELETE", "e", "EMPTY", "FLAGS", "9", "TOUCH", "50", "NEWCAS", "777"});
  Reply b = h_.Run({"MC.GET", "e"});
  EXPECT_EQ(Field(b, 1), 9);
  EXPECT_EQ(Field(b, 2), 777);
  EXPECT_EQ(Field(b, 3), 50);
  h_.Run({"MC.DELETE", "e", "EMPTY", "STALE"});
  Reply c = h_.Run({"MC.GET", "e"});
  EXPECT_NE(Field(c, 2), 777);
  EXPECT_EQ(Field(c, kWon), 1);
}

TEST_F(McCommands, NewCasAndSizeAndAppendVivify) {
  Reply s = h_.Run({"MC.SET", "n", "abc", "SET", "0", "NEWCAS", "5000"});
  EXPECT_EQ(Field(s, 0), 5000);
  EXPECT_EQ(Field(s, 1), 3);
  Reply a = h_.Run({"MC.SET", "n", "de", "APPEND", "0", "NEWCAS", "5001"});
  EXPECT_EQ(Field(a, 0), 5001);
  EXPECT_EQ(Field(a, 1), 5);
  EXPECT_EQ(Field(h_.Run({"MC.ARITH", "m", "INCR", "1", "INITIAL", "3", "VIVIFY", "0",
                          "NEWCAS", "5002"}), 1), 5002);
  EXPECT_EQ(Field(h_.Run({"MC.GAT", "g", "VIVIFY", "0", "NEWCAS", "5003"}), 2), 5003);
  EXPECT_EQ(Status(h_.Run({"MC.SET", "av", "xy", "APPEND", "4"})), "NOT_STORED");
  Reply v = h_.Run({"MC.SET", "av", "xy", "APPEND", "4", "VIVIFY", "100"});
  EXPECT_EQ(Status(v), "STORED");
  Reply g = h_.Run({"MC.GET", "av"});
  EXPECT_EQ(Str(g, 0), "xy");
  EXPECT_EQ(Field(g, 1), 4);
  EXPECT_EQ(Field(g, 3), 100);
}

TEST_F(McCommands, FetchedMarkAndInPlaceArithmetic) {
  h_.Run({"MC.SET", "f", "10", "SET", "0"});
  EXPECT_EQ(Field(h_.Run({"MC.GET", "f", "NOBUMP"}), kBits), 0);
  EXPECT_EQ(Field(h_.Run({"MC.GET", "f"}), kBits), 0);  // the state before the request
  EXPECT_EQ(Field(h_.Run({"MC.GET", "f"}), kBits), FERRITE_MC_FETCHED);
  h_.Run({"MC.ARITH", "f", "INCR", "1"});  // 11 fits where 10 was: the item stays
  EXPECT_EQ(Field(h_.Run({"MC.META", "f"}), 5), FERRITE_MC_FETCHED);
  h_.Run({"MC.ARITH", "f", "INCR", "100"});  // 111 does not
  EXPECT_EQ(Field(h_.Run({"MC.META", "f"}), 5), 0);
  h_.Run({"MC.GET", "f", "BRIEF"});
  EXPECT_EQ(Field(h_.Run({"MC.META", "f"}), 5), FERRITE_MC_FETCHED);
  h_.Run({"MC.SET", "f", "x", "APPEND", "0"});
  EXPECT_EQ(Field(h_.Run({"MC.META", "f"}), 5), 0);
  h_.Run({"MC.TOUCH", "f", "100"});
  EXPECT_EQ(Field(h_.Run({"MC.META", "f"}), 5), FERRITE_MC_FETCHED);
}

}  // namespace
}  // namespace ferrite::test
