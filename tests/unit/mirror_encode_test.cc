// The translation of propagated writes into the meta commands the mirror sends an old
// memcached (host/mirror_encode.h). The sending itself is tested end to end against a
// real memcached in tests/e2e/test_mirror_writes.py.
#include "host/mirror_encode.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferrite::host {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;  // ms

std::string Encode(std::vector<std::string> args, bool resp = false) {
  std::vector<ferrite_slice> argv;
  for (auto& a : args) argv.push_back({a.data(), a.size()});
  std::string out;
  if (!EncodeMirrorCommand(static_cast<int>(argv.size()), argv.data(), {resp, kNow}, &out))
    return "<none>";
  return out;
}

TEST(MirrorEncode, MemcachedStoresCarryFlagsAndTheRemainingTtl) {
  EXPECT_EQ(Encode({"MC.SET", "k", "hello", "SET", "42"}), "ms k 5 F42 q\r\nhello\r\n");
  EXPECT_EQ(Encode({"MC.SET", "k", "v", "SET", "0", "PXAT", std::to_string(kNow + 99'001)}),
            "ms k 1 F0 T100 q\r\nv\r\n");  // rounded up: the copy never expires first
  // Past 30 days memcached wants an absolute time.
  int64_t far = kNow + 40LL * 86400 * 1000;
  EXPECT_EQ(Encode({"MC.SET", "k", "v", "SET", "1", "PXAT", std::to_string(far)}),
            "ms k 1 F1 T" + std::to_string(far / 1000) + " q\r\nv\r\n");
  // A deadline already passed: the item is gone here, so it goes there too.
  EXPECT_EQ(Encode({"MC.SET", "k", "v", "SET", "1", "PXAT", std::to_string(kNow)}), "md k q\r\n");
  EXPECT_EQ(Encode({"MC.SET", "k", "tail", "APPEND", "0"}), "ms k 4 MA q\r\ntail\r\n");
  // The verbatim form of a client's set: memcached's own exptime, passed through.
  EXPECT_EQ(Encode({"MC.SET", "k", "v", "SET", "3", "EX", "0"}), "ms k 1 F3 q\r\nv\r\n");
  EXPECT_EQ(Encode({"MC.SET", "k", "v", "ADD", "3", "EX", "500"}), "ms k 1 F3 T500 q\r\nv\r\n");
  EXPECT_EQ(Encode({"MC.SET", "k", "v", "CAS", "3", "EX", "9", "CAS", "77"}),
            "ms k 1 F3 T9 q\r\nv\r\n");
  EXPECT_EQ(Encode({"MC.SET", "k", "v", "SET", "3", "EX", "-1"}), "md k q\r\n");
  EXPECT_EQ(Encode({"MC.SET", "k", "v", "SET", "3", "EX", "4000000"}), "md k q\r\n");
  EXPECT_EQ(Encode({"MC.SET", "k", "v", "SET", "3", "BRIEF"}), "ms k 1 F3 q\r\nv\r\n");
  EXPECT_EQ(Encode({"MC.SET", "k", "v", "SET", "0", "VIVIFY", "5"}), "<none>");
}

TEST(MirrorEncode, DeletesTouchesAndFlushes) {
  EXPECT_EQ(Encode({"DEL", "a", "b"}), "md a q\r\nmd b q\r\n");
  EXPECT_EQ(Encode({"UNLINK", "a"}), "md a q\r\n");
  EXPECT_EQ(Encode({"PEXPIREAT", "a", std::to_string(kNow + 5000)}), "mg a T5 q\r\n");
  EXPECT_EQ(Encode({"PEXPIREAT", "a", std::to_string(kNow - 1)}), "md a q\r\n");
  EXPECT_EQ(Encode({"PERSIST", "a"}), "mg a T0 q\r\n");
  EXPECT_EQ(Encode({"FLUSHDB"}), "flush_all noreply\r\n");
  EXPECT_EQ(Encode({"FLUSHALL", "ASYNC"}), "flush_all noreply\r\n");
  // memcached's stale mark (meta md I, a stale ms I) goes over as md I
  EXPECT_EQ(Encode({"MC.DELETE", "a", "STALE"}), "md a I q\r\n");
  EXPECT_EQ(Encode({"MC.DELETE", "a"}), "<none>");
}

TEST(MirrorEncode, RespStringsOnlyWhenAskedAndOtherTypesNever) {
  EXPECT_EQ(Encode({"SET", "k", "v"}), "<none>");
  EXPECT_EQ(Encode({"SET", "k", "v"}, true), "ms k 1 F0 q\r\nv\r\n");
  EXPECT_EQ(Encode({"SET", "k", "v", "PXAT", std::to_string(kNow + 1000)}, true),
            "ms k 1 F0 T1 q\r\nv\r\n");
  EXPECT_EQ(Encode({"SET", "k", "v", "KEEPTTL"}, true), "<none>");
  EXPECT_EQ(Encode({"RPUSH", "l", "a"}, true), "<none>");
  EXPECT_EQ(Encode({"SELECT", "0"}), "<none>");
  EXPECT_EQ(Encode({"MULTI"}), "<none>");
}

TEST(MirrorEncode, KeyStatesAfterOtherRespWrites) {
  auto state = [](std::string_view key, const std::string_view* value, uint32_t flags,
                  int64_t at) {
    std::string out;
    EncodeMirrorState(key, value, flags, at, kNow, &out);
    return out;
  };
  std::string_view v = "12";
  EXPECT_EQ(state("n", &v, 0, -1), "ms n 2 F0 q\r\n12\r\n");
  EXPECT_EQ(state("n", &v, 7, kNow + 2'500), "ms n 2 F7 T3 q\r\n12\r\n");
  EXPECT_EQ(state("n", &v, 0, kNow), "md n q\r\n");    // expired by now
  EXPECT_EQ(state("n", nullptr, 0, -1), "md n q\r\n");  // gone (RENAME's source)
  EXPECT_EQ(state("a b", &v, 0, -1), "ms YSBi 2 b F0 q\r\n12\r\n");
}

TEST(MirrorEncode, KeysTextCannotCarryGoBase64) {
  EXPECT_EQ(Encode({"DEL", std::string("a\0b", 3)}), "md YQBi b q\r\n");
  EXPECT_EQ(Encode({"MC.SET", "a b", "v", "SET", "0"}), "ms YSBi 1 b F0 q\r\nv\r\n");
}

}  // namespace
}  // namespace ferrite::host
