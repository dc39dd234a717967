// Family tests of the bitmap commands through the in-process harness (strings.so,
// keys.so, lists.so for a key of another type). Expected replies are redis-server
// 7.0.15's; events and propagation are the ones Redis emits.
#include <memory>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ferrite::mod::strings {
namespace {

using test::Harness;
using test::HarnessOptions;
using test::IsArrayOf;
using test::IsBulk;
using test::IsError;
using test::IsInt;
using test::IsIntArray;
using test::IsNull;
using test::IsOk;
using ::testing::ElementsAre;
using Cmd = std::vector<std::string>;

const char* const kBadOffset = "ERR bit offset is not an integer or out of range";
const char* const kNotInt = "ERR value is not an integer or out of range";
const char* const kSyntax = "ERR syntax error";
const char* const kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
const char* const kBadType =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
    "but i64 is.";

HarnessOptions WithLists() {
  HarnessOptions o;
  o.plugins = {"strings", "keys", "lists"};
  o.config = {{"server.notify_keyspace_events", "KEA"}};
  return o;
}

std::vector<Cmd> Commands(const test::PropagationRecorder& rec) {
  std::vector<Cmd> out;
  for (auto& c : rec.commands())
    if (c.argv[0] != "SELECT") out.push_back(c.argv);
  return out;
}

TEST(Bitmaps, SetBitGetBitGrowAndErrors) {
  Harness h;
  EXPECT_THAT(h.Run({"SETBIT", "b", "7", "1"}), IsInt(0));
  EXPECT_THAT(h.Run({"GET", "b"}), IsBulk("\x01"));
  EXPECT_THAT(h.Run({"SETBIT", "b", "7", "1"}), IsInt(1));
  EXPECT_THAT(h.Run({"SETBIT", "b", "23", "1"}), IsInt(0));
  EXPECT_THAT(h.Run({"STRLEN", "b"}), IsInt(3));
  EXPECT_THAT(h.Run({"GETBIT", "b", "23"}), IsInt(1));
  EXPECT_THAT(h.Run({"GETBIT", "b", "22"}), IsInt(0));
  EXPECT_THAT(h.Run({"GETBIT", "b", "1000000"}), IsInt(0));
  EXPECT_THAT(h.Run({"GETBIT", "nokey", "0"}), IsInt(0));
  EXPECT_THAT(h.Run({"SETBIT", "b", "7", "0"}), IsInt(1));
  EXPECT_THAT(h.Run({"GETBIT", "b", "7"}), IsInt(0));
  EXPECT_THAT(h.Run({"SETBIT", "b", "-1", "1"}), IsError(kBadOffset));
  EXPECT_THAT(h.Run({"SETBIT", "b", "4294967296", "1"}), IsError(kBadOffset));
  EXPECT_THAT(h.Run({"GETBIT", "b", "x"}), IsError(kBadOffset));
  EXPECT_THAT(h.Run({"SETBIT", "b", "0", "2"}),
              IsError("ERR bit is not an integer or out of range"));
  EXPECT_THAT(h.Run({"SETBIT", "b", "0", "-1"}),
              IsError("ERR bit is not an integer or out of range"));
  // An integer-looking value is addressed as its text.
  ASSERT_THAT(h.Run({"SET", "n", "1"}), IsOk());
  EXPECT_THAT(h.Run({"GETBIT", "n", "2"}), IsInt(1));
  EXPECT_THAT(h.Run({"GETBIT", "n", "7"}), IsInt(1));
}

TEST(Bitmaps, OffsetLimitFollowsProtoMaxBulkLen) {
  Harness h;
  ASSERT_THAT(h.Run({"CONFIG", "SET", "proto-max-bulk-len", "1048576"}), IsOk());
  EXPECT_THAT(h.Run({"SETBIT", "b", "8388608", "1"}), IsError(kBadOffset));
  EXPECT_THAT(h.Run({"SETBIT", "b", "8388607", "1"}), IsInt(0));
  EXPECT_THAT(h.Run({"STRLEN", "b"}), IsInt(1048576));
  EXPECT_THAT(h.Run({"BITFIELD", "b", "SET", "u8", "#1048576", "1"}), IsError(kBadOffset));
}

TEST(Bitmaps, BitCountForms) {
  Harness h;
  ASSERT_THAT(h.Run({"SET", "s", "foobar"}), IsOk());
  EXPECT_THAT(h.Run({"BITCOUNT", "s"}), IsInt(26));
  EXPECT_THAT(h.Run({"BITCOUNT", "s", "1", "1"}), IsInt(6));
  EXPECT_THAT(h.Run({"BITCOUNT", "s", "1", "1", "byte"}), IsInt(6));
  EXPECT_THAT(h.Run({"BITCOUNT", "s", "5", "30", "BIT"}), IsInt(17));
  EXPECT_THAT(h.Run({"BITCOUNT", "s", "0"}), IsError(kSyntax));
  EXPECT_THAT(h.Run({"BITCOUNT", "s", "0", "1", "bits"}), IsError(kSyntax));
  EXPECT_THAT(h.Run({"BITCOUNT", "s", "-1", "-2", "bits"}), IsInt(0));  // 7.0's order
  EXPECT_THAT(h.Run({"BITCOUNT", "s", "0", "1", "BIT", "x"}), IsError(kSyntax));
  EXPECT_THAT(h.Run({"BITCOUNT", "s", "a", "1"}), IsError(kNotInt));
  EXPECT_THAT(h.Run({"BITCOUNT", "nokey", "a", "b", "c"}), IsInt(0));
}

TEST(Bitmaps, BitPosForms) {
  Harness h;
  ASSERT_THAT(h.Run({"SET", "s", std::string("\x00\xff\xf0", 3)}), IsOk());
  EXPECT_THAT(h.Run({"BITPOS", "s", "1"}), IsInt(8));
  EXPECT_THAT(h.Run({"BITPOS", "s", "1", "2"}), IsInt(16));
  EXPECT_THAT(h.Run({"BITPOS", "s", "1", "7", "15", "BIT"}), IsInt(8));
  EXPECT_THAT(h.Run({"BITPOS", "s", "0", "1", "1"}), IsInt(-1));
  EXPECT_THAT(h.Run({"BITPOS", "s", "0", "1"}), IsInt(20));
  EXPECT_THAT(h.Run({"BITPOS", "nokey", "1"}), IsInt(-1));
  EXPECT_THAT(h.Run({"BITPOS", "nokey", "0"}), IsInt(0));
  EXPECT_THAT(h.Run({"BITPOS", "s", "2"}), IsError("ERR The bit argument must be 1 or 0."));
  EXPECT_THAT(h.Run({"BITPOS", "s", "x"}), IsError(kNotInt));
  EXPECT_THAT(h.Run({"BITPOS", "s", "1", "0", "1", "BITS"}), IsError(kSyntax));
  EXPECT_THAT(h.Run({"BITPOS", "s", "1", "0", "1", "BIT", "x"}), IsError(kSyntax));
}

TEST(Bitmaps, BitOpOperatorsAndDestination) {
  Harness h;
  ASSERT_THAT(h.Run({"SET", "a", std::string("\xf0\x0f", 2)}), IsOk());
  ASSERT_THAT(h.Run({"SET", "b", "\x3c"}), IsOk());
  EXPECT_THAT(h.Run({"BITOP", "AND", "d", "a", "b"}), IsInt(2));
  EXPECT_THAT(h.Run({"GET", "d"}), IsBulk(std::string("\x30\x00", 2)));
  EXPECT_THAT(h.Run({"BITOP", "or", "d", "a", "b", "nokey"}), IsInt(2));
  EXPECT_THAT(h.Run({"GET", "d"}), IsBulk(std::string("\xfc\x0f", 2)));
  EXPECT_THAT(h.Run({"BITOP", "NOT", "d", "b"}), IsInt(1));
  EXPECT_THAT(h.Run({"GET", "d"}), IsBulk("\xc3"));
  EXPECT_THAT(h.Run({"BITOP", "DIFF", "d", "a", "b"}), IsInt(2));
  EXPECT_THAT(h.Run({"GET", "d"}), IsBulk(std::string("\xc0\x0f", 2)));
  EXPECT_THAT(h.Run({"BITOP", "DIFF1", "d", "a", "b"}), IsInt(2));
  EXPECT_THAT(h.Run({"GET", "d"}), IsBulk(std::string("\x0c\x00", 2)));
  EXPECT_THAT(h.Run({"BITOP", "ANDOR", "d", "a", "b"}), IsInt(2));
  EXPECT_THAT(h.Run({"GET", "d"}), IsBulk(std::string("\x30\x00", 2)));
  EXPECT_THAT(h.Run({"BITOP", "ONE", "d", "a", "b", "a"}), IsInt(2));
  EXPECT_THAT(h.Run({"GET", "d"}), IsBulk(std::string("\x0c\x00", 2)));
  EXPECT_THAT(h.Run({"BITOP", "NOT", "d", "a", "b"}),
              IsError("ERR BITOP NOT must be called with a single source key."));
  EXPECT_THAT(h.Run({"BITOP", "diff1", "d", "a"}),
              IsError("ERR BITOP DIFF1 must be called with at least two source keys."));
  EXPECT_THAT(h.Run({"BITOP", "NAND", "d", "a"}), IsError(kSyntax));
  // The result replaces destkey like SET: the old expiry goes.
  ASSERT_THAT(h.Run({"EXPIRE", "d", "100"}), IsInt(1));
  EXPECT_THAT(h.Run({"BITOP", "AND", "d", "a"}), IsInt(2));
  EXPECT_THAT(h.Run({"TTL", "d"}), IsInt(-1));
  // Only missing or empty sources: destkey is deleted.
  EXPECT_THAT(h.Run({"BITOP", "OR", "d", "nokey", "nokey2"}), IsInt(0));
  EXPECT_THAT(h.Run({"EXISTS", "d"}), IsInt(0));
}

TEST(Bitmaps, BitFieldSubcommands) {
  Harness h;
  EXPECT_THAT(h.Run({"BITFIELD", "f", "SET", "i8", "0", "100", "GET", "i8", "0"}),
              IsIntArray({0, 100}));
  EXPECT_THAT(h.Run({"BITFIELD", "f", "INCRBY", "i8", "0", "100", "OVERFLOW", "SAT", "INCRBY",
                     "i8", "0", "100", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "100"}),
              IsArrayOf({IsInt(-56), IsInt(44), IsNull()}));
  EXPECT_THAT(h.Run({"BITFIELD", "f", "SET", "u8", "#1", "255", "GET", "u8", "8", "GET", "i64",
                     "0", "GET", "u63", "#10000"}),
              IsArrayOf({IsInt(0), IsInt(255), IsInt(3242310256730046464), IsInt(0)}));
  EXPECT_THAT(h.Run({"BITFIELD", "f"}), IsArrayOf({}));
  EXPECT_THAT(h.Run({"BITFIELD_RO", "f", "GET", "u8", "8"}), IsIntArray({255}));
  EXPECT_THAT(h.Run({"BITFIELD_RO", "f", "SET", "u8", "8", "1"}),
              IsError("ERR BITFIELD_RO only supports the GET subcommand"));
  EXPECT_THAT(h.Run({"BITFIELD", "f", "GET", "u64", "0"}), IsError(kBadType));
  EXPECT_THAT(h.Run({"BITFIELD", "f", "GET", "i8"}), IsError(kSyntax));
  EXPECT_THAT(h.Run({"BITFIELD", "f", "OVERFLOW", "BOOM"}),
              IsError("ERR Invalid OVERFLOW type specified"));
  EXPECT_THAT(h.Run({"BITFIELD", "f", "SET", "i8", "0", "x"}), IsError(kNotInt));
  EXPECT_THAT(h.Run({"BITFIELD", "f", "GET", "i8", "-1"}), IsError(kBadOffset));
  EXPECT_THAT(h.Run({"BITFIELD", "nokey", "GET", "u8", "0"}), IsIntArray({0}));
  EXPECT_THAT(h.Run({"EXISTS", "nokey"}), IsInt(0));
  // Argument errors come before the key's type is looked at.
  HarnessOptions o = WithLists();
  Harness h2(o);
  ASSERT_THAT(h2.Run({"RPUSH", "l", "x"}), IsInt(1));
  EXPECT_THAT(h2.Run({"BITFIELD", "l", "GET", "u64", "0"}), IsError(kBadType));
  EXPECT_THAT(h2.Run({"BITFIELD", "l", "GET", "u8", "0"}), IsError(kWrongType));
}

TEST(Bitmaps, WrongTypeEveryCommand) {
  Harness h(WithLists());
  ASSERT_THAT(h.Run({"RPUSH", "l", "x"}), IsInt(1));
  for (Cmd cmd : std::vector<Cmd>{{"SETBIT", "l", "0", "1"},
                                  {"GETBIT", "l", "0"},
                                  {"BITCOUNT", "l"},
                                  {"BITPOS", "l", "1"},
                                  {"BITOP", "AND", "d", "nokey", "l"},
                                  {"BITFIELD", "l", "SET", "u8", "0", "1"},
                                  {"BITFIELD_RO", "l", "GET", "u8", "0"}}) {
    EXPECT_THAT(h.Run(cmd), IsError(kWrongType)) << cmd[0];
  }
  EXPECT_THAT(h.Run({"EXISTS", "d"}), IsInt(0));
  // BITOP onto a key of another type replaces it.
  ASSERT_THAT(h.Run({"SET", "s", "x"}), IsOk());
  EXPECT_THAT(h.Run({"BITOP", "OR", "l", "s"}), IsInt(1));
  EXPECT_THAT(h.Run({"GET", "l"}), IsBulk("x"));
}

// A write that changes nothing is no write: no event, nothing propagated, WATCH intact.
TEST(Bitmaps, EventsAndPropagation) {
  Harness h(WithLists());
  auto rec = std::make_unique<test::PropagationRecorder>(h);
  auto ev = std::make_unique<test::EventRecorder>(h, ~0u);
  h.Run({"SETBIT", "b", "3", "1"});
  h.Run({"SETBIT", "b", "3", "1"});  // same bit: nothing
  h.Run({"SETBIT", "b", "4", "0"});  // same bit, no growth: nothing
  h.Run({"BITFIELD", "b", "SET", "u4", "0", "2"});
  h.Run({"BITFIELD", "b", "SET", "u4", "0", "2"});  // same value: nothing
  h.Run({"BITFIELD", "b", "GET", "u4", "0"});
  h.Run({"BITOP", "NOT", "d", "b"});
  h.Run({"BITOP", "AND", "d", "nokey"});
  h.Run({"BITOP", "AND", "d", "nokey"});  // nothing left to delete: nothing
  std::vector<Cmd> cmds = Commands(*rec);
  std::vector<std::string> events;
  for (auto& e : ev->events()) events.push_back(e.event + ":" + e.key);
  rec.reset();
  ev.reset();
  EXPECT_THAT(cmds, ElementsAre(Cmd{"SETBIT", "b", "3", "1"},
                                Cmd{"BITFIELD", "b", "SET", "u4", "0", "2"},
                                Cmd{"BITOP", "NOT", "d", "b"}, Cmd{"BITOP", "AND", "d", "nokey"}));
  EXPECT_THAT(events, ElementsAre("setbit:b", "setbit:b", "set:d", "del:d"));
}

TEST(Bitmaps, WatchSeesOnlyRealChanges) {
  Harness h;
  ASSERT_THAT(h.Run({"SETBIT", "b", "1", "1"}), IsInt(0));
  ASSERT_THAT(h.RunOn(0, {"WATCH", "b"}), IsOk());
  h.RunOn(1, {"SETBIT", "b", "1", "1"});
  h.RunOn(1, {"BITFIELD", "b", "SET", "u1", "1", "1"});
  ASSERT_THAT(h.RunOn(0, {"MULTI"}), IsOk());
  h.RunOn(0, {"GETBIT", "b", "1"});
  EXPECT_THAT(h.RunOn(0, {"EXEC"}), IsIntArray({1}));
  ASSERT_THAT(h.RunOn(0, {"WATCH", "b"}), IsOk());
  h.RunOn(1, {"SETBIT", "b", "1", "0"});
  ASSERT_THAT(h.RunOn(0, {"MULTI"}), IsOk());
  h.RunOn(0, {"GETBIT", "b", "1"});
  EXPECT_THAT(h.RunOn(0, {"EXEC"}), test::IsNullArray());
}

}  // namespace
}  // namespace ferrite::mod::strings
