// The pieces both memcached codecs share: memcached's number rules (fast digit path and
// strtoX fallback agree), the reply arena, and argv building past its inline buffer.
#include "mc_common.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferrite::proto::mc {
namespace {

TEST(McNumbers, FastPathAndFallbackAgree) {
  uint32_t u = 0;
  EXPECT_TRUE(ParseU32("42", &u));
  EXPECT_EQ(u, 42u);
  EXPECT_TRUE(ParseU32("+7", &u));  // strtoul accepts a sign: the fallback path
  EXPECT_EQ(u, 7u);
  EXPECT_TRUE(ParseU32("4294967297", &u));  // truncated to 32 bits, as memcached does
  EXPECT_EQ(u, 1u);
  EXPECT_FALSE(ParseU32("-1", &u));
  EXPECT_FALSE(ParseU32("1x", &u));
  EXPECT_FALSE(ParseU32("", &u));
  int32_t i = 0;
  EXPECT_TRUE(ParseI32("2147483647", &i));
  EXPECT_EQ(i, 2147483647);
  EXPECT_FALSE(ParseI32("2147483648", &i));
  EXPECT_TRUE(ParseI32("-5", &i));
  EXPECT_EQ(i, -5);
  uint64_t v = 0;
  EXPECT_TRUE(ParseU64("999999999999999999", &v));  // 18 digits: fast path
  EXPECT_EQ(v, 999999999999999999ull);
  EXPECT_TRUE(ParseU64("18446744073709551615", &v));  // 20 digits: strtoull
  EXPECT_EQ(v, 18446744073709551615ull);
  EXPECT_FALSE(ParseU64("18446744073709551616", &v));
  EXPECT_FALSE(PlainDigits("1234567890123456789", &v));  // 19 digits: not the fast path
  EXPECT_FALSE(PlainDigits(" 1", &v));
}

TEST(McReplyArena, FieldsAndReuse) {
  McReply r;
  for (int round = 0; round < 3; round++) {
    r.Clear();
    std::string big(1000 + round, 'v');  // grows the arena: earlier slices must not dangle
    r.AddStr("first");
    r.AddInt(-42);
    r.AddStr(big);
    r.AddStr("17");
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r.Str(0), "first");
    EXPECT_EQ(r.Int(1), -42);
    EXPECT_EQ(r.Str(1), "");  // an integer field has no text
    EXPECT_EQ(r.Str(2), big);
    EXPECT_EQ(r.Int(3), 17);  // a string field reads as its number
    EXPECT_EQ(r.Str(4), "");
    EXPECT_EQ(r.Int(4), 0);
  }
}

TEST(McReplyArena, CaptureSinkFillsIt) {
  McCapture c;
  c.Reset();
  const ferrite_reply_sink* s = McCapture::Sink();
  s->array(&c, 4);
  s->simple(&c, "HIT", 3);
  s->bulk(&c, "value", 5);
  s->integer(&c, 7);
  s->integer(&c, 123456789012345);
  EXPECT_EQ(c.reply.status, McStatus::kHit);
  ASSERT_EQ(c.reply.size(), 3u);
  EXPECT_EQ(c.reply.Str(0), "value");
  EXPECT_EQ(c.reply.Int(1), 7);
  EXPECT_EQ(c.reply.Int(2), 123456789012345);
}

TEST(McArgvNumbers, InlineBufferThenOverflow) {
  McArgv a;
  for (int round = 0; round < 2; round++) {
    a.Clear();
    a.Add("CMD");
    std::vector<std::string> want = {"CMD"};
    for (int i = 0; i < 40; i++) {  // 40 x up to 20 digits: well past the inline buffer
      int64_t n = (i % 2 ? -1 : 1) * (int64_t{1234567890123} * (i + 1));
      if (i % 3 == 0) {
        a.UNum(static_cast<uint64_t>(i) * 1000000007ull);
        want.push_back(std::to_string(static_cast<uint64_t>(i) * 1000000007ull));
      } else {
        a.Num(n);
        want.push_back(std::to_string(n));
      }
    }
    EXPECT_EQ(a.Strings(), want);
    EXPECT_EQ(a.argc(), 41);
  }
}

TEST(McArgvNumbers, NumFromReusesOnlyCanonicalTokens) {
  McArgv a;
  int32_t wrapped = static_cast<int32_t>(4294967297LL);  // what memcached's parse leaves
  a.NumFrom("42", 42).NumFrom("0", 0).NumFrom("007", 7).NumFrom("+5", 5);
  a.NumFrom("4294967297", wrapped).NumFrom("-3", -3);
  EXPECT_EQ(a.Strings(), (std::vector<std::string>{"42", "0", "7", "5", "1", "-3"}));
  std::string canonical = "123", padded = "0123";
  a.Clear();
  a.NumFrom(canonical, 123).NumFrom(padded, 123);
  EXPECT_EQ(a.argv()[0].ptr, canonical.data());  // the client's bytes, not a copy
  EXPECT_NE(a.argv()[1].ptr, padded.data());     // re-formatted as "123"
  EXPECT_EQ(a.Strings(), (std::vector<std::string>{"123", "123"}));
}

}  // namespace
}  // namespace ferrite::proto::mc
