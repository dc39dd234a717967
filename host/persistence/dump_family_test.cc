// DUMP / RESTORE through the in-process harness with the real type plugins: payloads
// produced by redis-server 7.0.15 (compact encodings included) restore here, every type
// round-trips, and RESTORE's checks, errors, events and propagation are Redis 7.0's.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "host/persistence/crc64.h"
#include "host/persistence/dump.h"
#include "tests/harness/harness.h"

namespace ferrite::host::persist {
namespace {

using test::Harness;
using test::HarnessOptions;
using test::IsBulk;
using test::IsBulkArray;
using test::IsError;
using test::IsInt;
using test::IsNull;
using test::IsOk;
using ::testing::ElementsAre;
using Cmd = std::vector<std::string>;

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

class DumpTest : public ::testing::Test {
 protected:
  DumpTest() : h(Opts()) { RegisterDumpCommands(&h.host()); }
  static HarnessOptions Opts() {
    HarnessOptions o;
    o.plugins = {"strings", "keys", "lists", "hashes", "sets", "zsets"};
    o.config = {{"server.notify_keyspace_events", "KEA"}};
    return o;
  }
  Harness h;
};

// DUMP payloads of redis-server 7.0.15 (redis-py's r.dump(...).hex()).
TEST_F(DumpTest, RedisPayloadsRestore) {
  struct {
    const char* key;
    const char* hex;
  } fixtures[] = {
      {"s", "000568656c6c6f0a006372df766534200a"},
      {"n", "00c139300a009d94ea2793fc08b9"},
      {"l", "1201020f0f00000003008161028162020101ff0a00e01bab4a47ce5922"},
      {"si", "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b"},
      {"ss", "0202017901780a000cdf6b3db330bcf0"},
      {"z", "1114140000000400816102010181620283322e3504ff0a00d44c6ea4f644d9d7"},
      {"h", "10121200000004008166028176028167020101ff0a0023c1a5e35dfae81c"},
  };
  for (auto& f : fixtures) ASSERT_THAT(h.Run({"RESTORE", f.key, "0", Hex(f.hex)}), IsOk()) << f.key;
  EXPECT_THAT(h.Run({"GET", "s"}), IsBulk("hello"));
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "n"}), IsBulk("int"));
  EXPECT_THAT(h.Run({"LRANGE", "l", "0", "-1"}), IsBulkArray({"a", "b", "1"}));
  EXPECT_THAT(h.Run({"SMEMBERS", "si"}), test::IsUnorderedBulkArray({"1", "2", "3"}));
  EXPECT_THAT(h.Run({"SMEMBERS", "ss"}), test::IsUnorderedBulkArray({"x", "y"}));
  EXPECT_THAT(h.Run({"ZRANGE", "z", "0", "-1", "WITHSCORES"}),
              test::IsArrayOf({IsBulk("a"), test::IsDouble(1), IsBulk("b"), test::IsDouble(2.5)}));
  EXPECT_THAT(h.Run({"HMGET", "h", "f", "g"}), IsBulkArray({"v", "1"}));
  EXPECT_THAT(h.Run({"HLEN", "h"}), IsInt(2));
  // Ours for a string is byte-identical to Redis'.
  EXPECT_THAT(h.Run({"DUMP", "s"}), IsBulk(Hex("000568656c6c6f0a006372df766534200a")));
}

TEST_F(DumpTest, EveryTypeRoundTrips) {
  h.Run({"SET", "s", std::string(100, 'x')});  // LZF-compressed in the payload
  h.Run({"RPUSH", "l", "a", "b"});
  h.Run({"SADD", "st", "1", "x"});
  h.Run({"ZADD", "z", "1.5", "m", "-inf", "n"});
  h.Run({"HSET", "h", "f", "v"});
  for (const char* k : {"s", "l", "st", "z", "h"}) {
    test::Reply d = h.Run({"DUMP", k});
    ASSERT_EQ(d.type, FERRITE_REPLY_BULK) << k;
    std::string copy = std::string(k) + "2";
    ASSERT_THAT(h.Run({"RESTORE", copy, "0", d.str}), IsOk()) << k;
    // Sets come back in their own iteration order; the others byte for byte.
    if (std::string(k) != "st") {
      EXPECT_THAT(h.Run({"DUMP", copy}), IsBulk(d.str)) << k;
    }
    EXPECT_THAT(h.Run({"TYPE", copy}), test::IsSimple(h.Run({"TYPE", k}).str));
  }
  EXPECT_THAT(h.Run({"ZRANGE", "z2", "0", "-1", "WITHSCORES"}),
              test::IsArrayOf({IsBulk("n"), test::IsDouble(-INFINITY), IsBulk("m"),
                               test::IsDouble(1.5)}));
  EXPECT_THAT(h.Run({"SMEMBERS", "st2"}), test::IsUnorderedBulkArray({"1", "x"}));
  EXPECT_THAT(h.Run({"DUMP", "nokey"}), IsNull());
}

TEST_F(DumpTest, RestoreChecksAndErrors) {
  std::string p = h.Run({"DUMP", "nokey"}).str;
  h.Run({"SET", "k", "v"});
  p = h.Run({"DUMP", "k"}).str;
  EXPECT_THAT(h.Run({"RESTORE", "k", "0", p}), IsError("BUSYKEY Target key name already exists."));
  EXPECT_THAT(h.Run({"RESTORE", "n", "-1", p}), IsError("ERR Invalid TTL value, must be >= 0"));
  EXPECT_THAT(h.Run({"RESTORE", "n", "x", p}),
              IsError("ERR value is not an integer or out of range"));
  std::string bad = p;
  bad[0] ^= 1;
  EXPECT_THAT(h.Run({"RESTORE", "n", "0", bad}),
              IsError("ERR DUMP payload version or checksum are wrong"));
  std::string newer = p;
  newer[newer.size() - 10] = 11;  // RDB 11: newer than this server's 10
  EXPECT_THAT(h.Run({"RESTORE", "n", "0", newer}),
              IsError("ERR DUMP payload version or checksum are wrong"));
  EXPECT_THAT(h.Run({"RESTORE", "n", "0", "short"}),
              IsError("ERR DUMP payload version or checksum are wrong"));
  // A valid footer over garbage: no value type, a truncated list, an empty list.
  for (std::string body : {std::string("\xc8"), std::string("\x01\x05\x01", 3),
                           std::string("\x01\x00", 2)}) {
    std::string q = body + std::string("\x0a\x00", 2);
    uint64_t crc = Crc64(0, q.data(), q.size());
    for (int i = 0; i < 8; i++) q.push_back(static_cast<char>(crc >> (8 * i)));
    EXPECT_THAT(h.Run({"RESTORE", "n", "0", q}), IsError("ERR Bad data format"));
  }
  EXPECT_THAT(h.Run({"RESTORE", "n", "0", p, "IDLETIME", "-1"}),
              IsError("ERR Invalid IDLETIME value, must be >= 0"));
  EXPECT_THAT(h.Run({"RESTORE", "n", "0", p, "FREQ", "256"}),
              IsError("ERR Invalid FREQ value, must be >= 0 and <= 255"));
  EXPECT_THAT(h.Run({"RESTORE", "n", "0", p, "IDLETIME", "1", "FREQ", "1"}),
              IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"RESTORE", "n", "0", p, "BOGUS"}), IsError("ERR syntax error"));
  EXPECT_THAT(h.Run({"EXISTS", "n"}), IsInt(0));
  EXPECT_THAT(h.Run({"RESTORE", "k", "0", p, "REPLACE", "IDLETIME", "1000"}), IsOk());
  EXPECT_GE(h.Run({"OBJECT", "IDLETIME", "k"}).integer, 1000);
}

// A plain hash (RDB type 4) longer than hash-max-listpack-entries loads straight into a
// table: every field and value arrives, a field given twice is still refused, and a
// count far beyond the bytes that follow fails as a bad payload.
TEST_F(DumpTest, LongHashRestores) {
  auto payload = [](const std::string& body) {
    std::string q = body + std::string("\x0a\x00", 2);
    uint64_t crc = Crc64(0, q.data(), q.size());
    for (int i = 0; i < 8; i++) q.push_back(static_cast<char>(crc >> (8 * i)));
    return q;
  };
  auto str = [](const std::string& s) { return std::string(1, static_cast<char>(s.size())) + s; };
  // RDB length 600: 0x4258 (14-bit form).
  std::string body = std::string("\x04\x42\x58", 3);
  for (int i = 0; i < 600; i++)
    body += str("f" + std::to_string(i)) + str("v" + std::to_string(i));
  ASSERT_THAT(h.Run({"RESTORE", "big", "0", payload(body)}), IsOk());
  EXPECT_THAT(h.Run({"HLEN", "big"}), IsInt(600));
  EXPECT_THAT(h.Run({"HGET", "big", "f0"}), IsBulk("v0"));
  EXPECT_THAT(h.Run({"HGET", "big", "f599"}), IsBulk("v599"));
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "big"}), IsBulk("hashtable"));
  // What DUMP writes restores to the same hash.
  std::string d = h.Run({"DUMP", "big"}).str;
  ASSERT_THAT(h.Run({"RESTORE", "big2", "0", d}), IsOk());
  EXPECT_THAT(h.Run({"HLEN", "big2"}), IsInt(600));
  EXPECT_THAT(h.Run({"HGET", "big2", "f311"}), IsBulk("v311"));

  std::string dup = std::string("\x04\x42\x58", 3);
  for (int i = 0; i < 600; i++)
    dup += str("f" + std::to_string(i == 599 ? 7 : i)) + str("v" + std::to_string(i));
  EXPECT_THAT(h.Run({"RESTORE", "dup", "0", payload(dup)}), IsError("ERR Bad data format"));
  // 2^31 - 1 fields announced (32-bit length form), two present.
  std::string huge = std::string("\x04\x80\x7f\xff\xff\xff", 6) + str("a") + str("1") +
                     str("b") + str("2");
  EXPECT_THAT(h.Run({"RESTORE", "huge", "0", payload(huge)}), IsError("ERR Bad data format"));
  EXPECT_THAT(h.Run({"EXISTS", "dup", "huge"}), IsInt(0));
}

TEST_F(DumpTest, TtlEventsAndPropagation) {
  h.Run({"SET", "k", "v"});
  std::string p = h.Run({"DUMP", "k"}).str;
  const int64_t now = h.NowMs();
  auto rec = std::make_unique<test::PropagationRecorder>(h);
  auto ev = std::make_unique<test::EventRecorder>(h, ~0u);
  EXPECT_THAT(h.Run({"RESTORE", "a", "5000", p}), IsOk());
  EXPECT_THAT(h.Run({"RESTORE", "b", std::to_string(now + 9000), p, "ABSTTL"}), IsOk());
  EXPECT_THAT(h.Run({"RESTORE", "k", "1", p, "REPLACE", "ABSTTL"}), IsOk());  // in the past
  EXPECT_THAT(h.Run({"RESTORE", "gone", "1", p, "ABSTTL"}), IsOk());  // nothing to delete
  std::vector<Cmd> cmds;
  for (auto& c : rec->commands())
    if (c.argv[0] != "SELECT") cmds.push_back(c.argv);
  std::vector<std::string> events;
  for (auto& e : ev->events()) events.push_back(e.event + ":" + e.key);
  rec.reset();
  ev.reset();
  EXPECT_THAT(cmds, ElementsAre(Cmd{"RESTORE", "a", std::to_string(now + 5000), p, "ABSTTL"},
                                Cmd{"RESTORE", "b", std::to_string(now + 9000), p, "ABSTTL"},
                                Cmd{"DEL", "k"}));
  EXPECT_THAT(events, ElementsAre("restore:a", "restore:b", "del:k"));
  EXPECT_THAT(h.Run({"PTTL", "a"}), IsInt(5000));
  EXPECT_THAT(h.Run({"EXISTS", "k", "gone"}), IsInt(0));
}

}  // namespace
}  // namespace ferrite::host::persist
