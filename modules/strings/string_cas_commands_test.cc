// Family tests of Redis 8.4's compare-and-set string commands through the in-process
// harness: SET ... IFEQ/IFNE/IFDEQ/IFDNE, DIGEST, DELEX and MSETEX. Expected behaviour
// is redis.io's documentation of these commands and the cases Redis 8.4's own suite
// (tests/unit/type/string.tcl) asserts; redis-server 7.0 has none of them.
#include <string>
#include <utility>
#include <vector>

#include "tests/harness/harness.h"

namespace ferrite::mod::strings {
namespace {

using test::Harness;
using test::HarnessOptions;
using test::IsBulk;
using test::IsError;
using test::IsInt;
using test::IsNull;
using test::IsOk;
using ::testing::ElementsAre;

const char* const kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
const char* const kSyntax = "ERR syntax error";
const char* const kBadDigest = "ERR The digest must be exactly 16 hexadecimal characters";

std::string Digest(Harness& h, const std::string& key) { return h.Run({"DIGEST", key}).str; }

// A digest that is well formed but not the value's: the last hex digit changed.
std::string OtherDigest(std::string d) {
  d.back() = d.back() == '0' ? '1' : '0';
  return d;
}

Harness WithLists() {
  HarnessOptions opts;
  opts.plugins = {"strings", "keys", "lists"};
  return Harness(opts);
}

// ---- DIGEST ----------------------------------------------------------------------------

TEST(StringsDigest, HexOfXxh3NullForMissingWrongTypeForOthers) {
  HarnessOptions opts;
  opts.plugins = {"strings", "keys", "lists"};
  Harness h(opts);
  ASSERT_THAT(h.Run({"SET", "key1", "Hello world"}), IsOk());
  EXPECT_THAT(h.Run({"DIGEST", "key1"}), IsBulk("b6acb9d84a38ff74"));  // redis.io example
  EXPECT_THAT(h.Run({"DIGEST", "nokey"}), IsNull());
  ASSERT_THAT(h.Run({"RPUSH", "l", "x"}), IsInt(1));
  EXPECT_THAT(h.Run({"DIGEST", "l"}), IsError(kWrongType));
  ASSERT_THAT(h.Run({"SET", "a", "identical"}), IsOk());
  ASSERT_THAT(h.Run({"SET", "b", "identical"}), IsOk());
  EXPECT_EQ(Digest(h, "a"), Digest(h, "b"));
  ASSERT_THAT(h.Run({"SET", "n", "12345"}), IsOk());
  EXPECT_EQ(Digest(h, "n").size(), 16u);
}

// ---- SET IF* -----------------------------------------------------------------------------

TEST(StringsSetIf, ValueConditions) {
  Harness h;
  ASSERT_THAT(h.Run({"SET", "k", "hello"}), IsOk());
  EXPECT_THAT(h.Run({"SET", "k", "world", "IFEQ", "different"}), IsNull());
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("hello"));
  EXPECT_THAT(h.Run({"SET", "k", "world", "ifeq", "hello"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("world"));
  EXPECT_THAT(h.Run({"SET", "k", "x", "IFNE", "world"}), IsNull());
  EXPECT_THAT(h.Run({"SET", "k", "x", "IfNe", "other"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("x"));
  // A missing key: IFEQ does not create it, IFNE does.
  EXPECT_THAT(h.Run({"SET", "m", "v", "IFEQ", "v"}), IsNull());
  EXPECT_THAT(h.Run({"EXISTS", "m"}), IsInt(0));
  EXPECT_THAT(h.Run({"SET", "m", "v", "IFNE", "v"}), IsOk());
  EXPECT_THAT(h.Run({"GET", "m"}), IsBulk("v"));
  // Empty strings compare like any other.
  ASSERT_THAT(h.Run({"SET", "e", ""}), IsOk());
  EXPECT_THAT(h.Run({"SET", "e", "w", "IFNE", ""}), IsNull());
  EXPECT_THAT(h.Run({"SET", "e", "w", "IFEQ", ""}), IsOk());
}

TEST(StringsSetIf, DigestConditions) {
  Harness h;
  ASSERT_THAT(h.Run({"SET", "k", "hello"}), IsOk());
  const std::string d = Digest(h, "k");
  EXPECT_THAT(h.Run({"SET", "k", "w", "IFDEQ", OtherDigest(d)}), IsNull());
  EXPECT_THAT(h.Run({"SET", "k", "w", "IFDNE", d}), IsNull());
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("hello"));
  std::string upper = d;
  for (char& c : upper) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  EXPECT_THAT(h.Run({"SET", "k", "w", "IFDEQ", upper}), IsOk());
  EXPECT_THAT(h.Run({"SET", "k", "z", "IFDNE", d}), IsOk());  // "w" has another digest
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("z"));
  // Malformed digests are refused when there is a value to compare with...
  for (const std::string& bad : {d.substr(1), "0" + d, std::string(), std::string(16, 'g')}) {
    EXPECT_THAT(h.Run({"SET", "k", "n", "IFDEQ", bad}), IsError(kBadDigest)) << bad;
    EXPECT_THAT(h.Run({"SET", "k", "n", "IFDNE", bad}), IsError(kBadDigest)) << bad;
  }
  // ...and not looked at for a missing key.
  EXPECT_THAT(h.Run({"SET", "m", "v", "IFDEQ", "1234567890"}), IsNull());
  EXPECT_THAT(h.Run({"SET", "m", "v", "IFDNE", "1234567890"}), IsOk());
}

TEST(StringsSetIf, GetRepliesTheOldValueWhateverTheOutcome) {
  Harness h;
  ASSERT_THAT(h.Run({"SET", "k", "hello"}), IsOk());
  EXPECT_THAT(h.Run({"SET", "k", "world", "IFEQ", "different", "GET"}), IsBulk("hello"));
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("hello"));
  EXPECT_THAT(h.Run({"SET", "k", "world", "GET", "IFEQ", "hello"}), IsBulk("hello"));
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("world"));
  EXPECT_THAT(h.Run({"SET", "m", "v", "IFNE", "x", "GET"}), IsNull());
  EXPECT_THAT(h.Run({"GET", "m"}), IsBulk("v"));
  EXPECT_THAT(h.Run({"SET", "n", "v", "IFEQ", "x", "GET"}), IsNull());
  EXPECT_THAT(h.Run({"EXISTS", "n"}), IsInt(0));
}

TEST(StringsSetIf, ExpiryAppliesOnlyWhenTheConditionHolds) {
  Harness h;
  ASSERT_THAT(h.Run({"SET", "k", "hello"}), IsOk());
  EXPECT_THAT(h.Run({"SET", "k", "world", "IFEQ", "nope", "EX", "10"}), IsNull());
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(-1));
  EXPECT_THAT(h.Run({"SET", "k", "world", "IFEQ", "hello", "EX", "10"}), IsOk());
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(10));
  EXPECT_THAT(h.Run({"SET", "k", "again", "IFNE", "x", "KEEPTTL"}), IsOk());
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(10));
}

TEST(StringsSetIf, SyntaxAndTypeErrors) {
  Harness h = WithLists();
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"SET", "k", "v", "IFEQ"},
           {"SET", "k", "v", "IFDNE"},
           {"SET", "k", "v", "NX", "IFEQ", "a"},
           {"SET", "k", "v", "IFEQ", "a", "XX"},
           {"SET", "k", "v", "IFEQ", "a", "IFNE", "b"},
           {"SET", "k", "v", "IFDEQ", "0000000000000000", "IFEQ", "b"},
           {"GETEX", "k", "IFEQ", "a"}}) {
    EXPECT_THAT(h.Run(cmd), IsError(kSyntax)) << cmd[3];
  }
  ASSERT_THAT(h.Run({"RPUSH", "l", "element"}), IsInt(1));
  EXPECT_THAT(h.Run({"SET", "l", "v", "IFEQ", "element"}), IsError(kWrongType));
  EXPECT_THAT(h.Run({"SET", "l", "v", "IFNE", "x"}), IsError(kWrongType));
  EXPECT_THAT(h.Run({"SET", "l", "v", "IFDEQ", "1234567890"}), IsError(kWrongType));
  EXPECT_THAT(h.Run({"SET", "l", "v", "IFDNE", "1234567890"}), IsError(kWrongType));
  EXPECT_THAT(h.Run({"LLEN", "l"}), IsInt(1));
}

// ---- DELEX -----------------------------------------------------------------------------

TEST(StringsDelEx, WithoutConditionDeletesAnyType) {
  Harness h = WithLists();
  ASSERT_THAT(h.Run({"SET", "s", "v"}), IsOk());
  ASSERT_THAT(h.Run({"RPUSH", "l", "x"}), IsInt(1));
  EXPECT_THAT(h.Run({"DELEX", "s"}), IsInt(1));
  EXPECT_THAT(h.Run({"DELEX", "l"}), IsInt(1));
  EXPECT_THAT(h.Run({"DELEX", "l"}), IsInt(0));
  EXPECT_THAT(h.Run({"EXISTS", "s", "l"}), IsInt(0));
}

TEST(StringsDelEx, Conditions) {
  Harness h;
  ASSERT_THAT(h.Run({"SET", "k", "hello"}), IsOk());
  EXPECT_THAT(h.Run({"DELEX", "k", "IFEQ", "world"}), IsInt(0));
  EXPECT_THAT(h.Run({"DELEX", "k", "IFNE", "hello"}), IsInt(0));
  const std::string d = Digest(h, "k");
  EXPECT_THAT(h.Run({"DELEX", "k", "IFDEQ", OtherDigest(d)}), IsInt(0));
  EXPECT_THAT(h.Run({"DELEX", "k", "IFDNE", d}), IsInt(0));
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("hello"));
  EXPECT_THAT(h.Run({"DELEX", "k", "ifdeq", d}), IsInt(1));
  EXPECT_THAT(h.Run({"EXISTS", "k"}), IsInt(0));
  ASSERT_THAT(h.Run({"SET", "k", "-999"}), IsOk());
  EXPECT_THAT(h.Run({"DELEX", "k", "IFEQ", "-999"}), IsInt(1));
  ASSERT_THAT(h.Run({"SET", "k", "x"}), IsOk());
  EXPECT_THAT(h.Run({"DELEX", "k", "IFNE", "y"}), IsInt(1));
  ASSERT_THAT(h.Run({"SET", "k", "x"}), IsOk());
  EXPECT_THAT(h.Run({"DELEX", "k", "IFDNE", OtherDigest(Digest(h, "k"))}), IsInt(1));
  // A missing key is never deleted, whatever the condition and its argument.
  for (const char* c : {"IFEQ", "IFNE", "IFDEQ", "IFDNE"})
    EXPECT_THAT(h.Run({"DELEX", "nokey", c, "1234567890"}), IsInt(0)) << c;
}

TEST(StringsDelEx, Errors) {
  Harness h = WithLists();
  const char* arity = "ERR wrong number of arguments for 'delex' command";
  // Checked before the key is looked up, so a missing key gets them too.
  EXPECT_THAT(h.Run({"DELEX", "nokey", "IFEQ"}), IsError(arity));
  ASSERT_THAT(h.Run({"SET", "k", "x"}), IsOk());
  EXPECT_THAT(h.Run({"DELEX", "k", "IFEQ"}), IsError(arity));
  EXPECT_THAT(h.Run({"DELEX", "k", "IFEQ", "x", "extra"}), IsError(arity));
  for (const char* bad : {"INVALID", "IF", "EQ"})
    EXPECT_THAT(h.Run({"DELEX", "k", bad, "x"}), IsError("ERR Invalid condition. Use IFEQ, IFNE, IFDEQ, or IFDNE"));
  EXPECT_THAT(h.Run({"DELEX", "k", "IFDEQ", "abc"}), IsError(kBadDigest));
  ASSERT_THAT(h.Run({"RPUSH", "l", "element"}), IsInt(1));
  EXPECT_THAT(h.Run({"DELEX", "l", "IFEQ", "element"}), IsError(kWrongType));
  EXPECT_THAT(h.Run({"EXISTS", "k", "l"}), IsInt(2));
}

// ---- MSETEX ----------------------------------------------------------------------------

TEST(StringsMSetEx, SetsAllKeysWithOneExpiry) {
  Harness h;
  EXPECT_THAT(h.Run({"MSETEX", "2", "a", "1", "b", "2", "EX", "5"}), IsInt(1));
  EXPECT_THAT(h.Run({"MGET", "a", "b"}), test::IsBulkArray({"1", "2"}));
  EXPECT_THAT(h.Run({"TTL", "a"}), IsInt(5));
  EXPECT_THAT(h.Run({"PTTL", "b"}), IsInt(5000));
  EXPECT_THAT(h.Run({"MSETEX", "1", "c", "3", "px", "1500"}), IsInt(1));
  EXPECT_THAT(h.Run({"PTTL", "c"}), IsInt(1500));
  const int64_t at = h.NowMs() + 7000;
  EXPECT_THAT(h.Run({"MSETEX", "1", "d", "4", "PXAT", std::to_string(at)}), IsInt(1));
  EXPECT_THAT(h.Run({"PEXPIRETIME", "d"}), IsInt(at));
  EXPECT_THAT(h.Run({"MSETEX", "1", "d", "5", "EXAT", std::to_string(at / 1000 + 10)}), IsInt(1));
  EXPECT_THAT(h.Run({"EXPIRETIME", "d"}), IsInt(at / 1000 + 10));
  // Without an expiry option, like MSET: values written, TTLs removed.
  EXPECT_THAT(h.Run({"MSETEX", "2", "a", "x", "b", "y"}), IsInt(1));
  EXPECT_THAT(h.Run({"TTL", "a"}), IsInt(-1));
  h.AdvanceTime(1600);
  EXPECT_THAT(h.Run({"EXISTS", "c"}), IsInt(0));
}

TEST(StringsMSetEx, KeepTtlAndConditions) {
  Harness h = WithLists();
  ASSERT_THAT(h.Run({"SETEX", "k", "100", "old"}), IsOk());
  EXPECT_THAT(h.Run({"MSETEX", "1", "k", "new", "KEEPTTL"}), IsInt(1));
  EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("new"));
  EXPECT_THAT(h.Run({"TTL", "k"}), IsInt(100));
  EXPECT_THAT(h.Run({"MSETEX", "2", "n1", "v1", "n2", "v2", "NX", "EX", "10"}), IsInt(1));
  EXPECT_THAT(h.Run({"MSETEX", "2", "n3", "v", "n1", "v", "NX"}), IsInt(0));
  EXPECT_THAT(h.Run({"EXISTS", "n3"}), IsInt(0));
  EXPECT_THAT(h.Run({"MSETEX", "2", "n1", "a", "zz", "b", "XX", "EX", "10"}), IsInt(0));
  EXPECT_THAT(h.Run({"GET", "n1"}), IsBulk("v1"));
  // Flags in any order after the pairs; existence is all that XX asks, of any type.
  ASSERT_THAT(h.Run({"RPUSH", "l", "x"}), IsInt(1));
  EXPECT_THAT(h.Run({"MSETEX", "2", "n1", "a", "l", "b", "PX", "3000", "XX"}), IsInt(1));
  EXPECT_THAT(h.Run({"GET", "l"}), IsBulk("b"));
  EXPECT_THAT(h.Run({"PTTL", "n1"}), IsInt(3000));
}

TEST(StringsMSetEx, Errors) {
  Harness h;
  EXPECT_THAT(h.Run({"MSETEX", "key1", "val1", "ex", "10"}),
              IsError("ERR invalid numkeys value"));
  for (const char* n : {"0", "-1", "2147483648"})
    EXPECT_THAT(h.Run({"MSETEX", n, "k", "v", "ex", "10"}), IsError("ERR invalid numkeys value"));
  EXPECT_THAT(h.Run({"MSETEX", "2", "key1", "val1", "key2"}),
              IsError("ERR wrong number of key-value pairs"));
  EXPECT_THAT(h.Run({"MSETEX", "2147483647", "key1", "val1", "ex", "10"}),
              IsError("ERR wrong number of key-value pairs"));
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"MSETEX", "1", "k", "v", "invalid_flag"},
           {"MSETEX", "1", "k", "v", "NX", "XX"},
           {"MSETEX", "1", "k", "v", "EX", "10", "PX", "5000"},
           {"MSETEX", "1", "k", "v", "EXAT", "1735689600", "PXAT", "1735689600000"},
           {"MSETEX", "1", "k", "v", "KEEPTTL", "EX", "10"},
           {"MSETEX", "1", "k", "v", "GET"},
           {"MSETEX", "1", "k", "v", "EX"}}) {
    EXPECT_THAT(h.Run(cmd), IsError(kSyntax)) << cmd[4];
  }
  EXPECT_THAT(h.Run({"MSETEX", "1", "k", "v", "EX", "abc"}),
              IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(h.Run({"MSETEX", "1", "k", "v", "EX", "0"}),
              IsError("ERR invalid expire time in 'msetex' command"));
  EXPECT_THAT(h.Run({"EXISTS", "k"}), IsInt(0));
  EXPECT_THAT(h.Run({"COMMAND", "GETKEYS", "MSETEX", "2", "a", "1", "b", "2", "NX"}),
              test::IsBulkArray({"a", "b"}));
}

// ---- propagation and keyspace events ---------------------------------------------------

using Cmd = std::vector<std::string>;

TEST(StringsCasPropagation, DeterministicForms) {
  Harness h;
  const std::string in_100s = std::to_string(h.NowMs() + 100000);
  ASSERT_THAT(h.Run({"SET", "k", "v"}), IsOk());
  auto rec = std::make_unique<test::PropagationRecorder>(h);
  h.Run({"SET", "k", "w", "IFEQ", "nope"});    // not written: not propagated
  h.Run({"SET", "k", "w", "IFEQ", "v", "GET"});
  h.Run({"SET", "k", "GET", "GET", "IFNE", "GET"});  // the value and IFNE's argument stay
  h.Run({"SET", "k", "w", "ifeq", "GET", "get"});
  h.Run({"SET", "k", "x", "IFNE", "v", "EX", "100"});
  h.Run({"DELEX", "k", "IFEQ", "nope"});
  h.Run({"DELEX", "k", "IFEQ", "x"});
  h.Run({"DELEX", "k"});
  h.Run({"MSETEX", "1", "a", "1", "NX", "EX", "100"});
  h.Run({"MSETEX", "1", "a", "1", "NX"});           // refused: nothing
  h.Run({"MSETEX", "2", "a", "2", "b", "3", "KEEPTTL"});
  h.Run({"MSETEX", "2", "a", "4", "b", "5", "XX"});
  h.Run({"SET", "k", "y", "IFNE", "x", "KEEPTTL"});
  std::vector<Cmd> cmds;
  for (auto& c : rec->commands())
    if (c.argv[0] != "SELECT") cmds.push_back(c.argv);
  rec.reset();
  // Every form is one a redis-server 7.0 replica applies: the IF* condition and MSETEX's
  // NX/XX were decided here, relative times become PXAT.
  EXPECT_THAT(cmds, ElementsAre(Cmd{"SET", "k", "w"},
                                Cmd{"SET", "k", "GET"},
                                Cmd{"SET", "k", "w"},
                                Cmd{"SET", "k", "x", "PXAT", in_100s},
                                Cmd{"DEL", "k"},
                                Cmd{"SET", "a", "1", "PXAT", in_100s},
                                Cmd{"MULTI"},
                                Cmd{"SET", "a", "2", "KEEPTTL"},
                                Cmd{"SET", "b", "3", "KEEPTTL"},
                                Cmd{"EXEC"},
                                Cmd{"MSET", "a", "4", "b", "5"},
                                Cmd{"SET", "k", "y", "KEEPTTL"}));
}

TEST(StringsCasEvents, SameNamesAsSetAndDel) {
  HarnessOptions opts;
  opts.config = {{"server.notify_keyspace_events", "KEA"}};
  Harness h(opts);
  ASSERT_THAT(h.Run({"SET", "k", "v"}), IsOk());
  auto ev = std::make_unique<test::EventRecorder>(h, ~0u);
  h.Run({"SET", "k", "w", "IFEQ", "nope"});
  h.Run({"SET", "k", "w", "IFEQ", "v", "EX", "10"});
  h.Run({"DELEX", "k", "IFNE", "w"});
  h.Run({"DELEX", "k", "IFEQ", "w"});
  h.Run({"MSETEX", "2", "a", "1", "b", "2", "PX", "100"});
  h.Run({"MSETEX", "1", "a", "1", "NX"});
  std::vector<std::pair<std::string, std::string>> seen;
  for (auto& e : ev->events()) seen.emplace_back(e.event, e.key);
  ev.reset();
  using E = std::pair<std::string, std::string>;
  EXPECT_THAT(seen, ElementsAre(E{"set", "k"}, E{"expire", "k"}, E{"del", "k"}, E{"set", "a"},
                                   E{"expire", "a"}, E{"set", "b"}, E{"expire", "b"}));
}

TEST(StringsCasWatch, ConditionalWritesTouchWatchOnlyWhenTheyWrite) {
  Harness h;
  ASSERT_THAT(h.Run({"SET", "k", "v"}), IsOk());
  ASSERT_THAT(h.RunOn(0, {"WATCH", "k"}), IsOk());
  EXPECT_THAT(h.RunOn(1, {"SET", "k", "w", "IFEQ", "nope"}), IsNull());
  EXPECT_THAT(h.RunOn(1, {"DELEX", "k", "IFNE", "v"}), IsInt(0));
  ASSERT_THAT(h.RunOn(0, {"MULTI"}), IsOk());
  ASSERT_THAT(h.RunOn(0, {"GET", "k"}), test::IsSimple("QUEUED"));
  EXPECT_THAT(h.RunOn(0, {"EXEC"}), test::IsArrayOf({IsBulk("v")}));
  ASSERT_THAT(h.RunOn(0, {"WATCH", "k"}), IsOk());
  EXPECT_THAT(h.RunOn(1, {"SET", "k", "w", "IFEQ", "v"}), IsOk());
  ASSERT_THAT(h.RunOn(0, {"MULTI"}), IsOk());
  ASSERT_THAT(h.RunOn(0, {"GET", "k"}), test::IsSimple("QUEUED"));
  EXPECT_THAT(h.RunOn(0, {"EXEC"}), test::IsNullArray());
}

}  // namespace
}  // namespace ferrite::mod::strings
