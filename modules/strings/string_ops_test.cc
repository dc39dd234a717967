// Value-level rules of the string commands, checked without a host. Expected values
// were taken from redis-server 7.0.15.
#include "string_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferrite::mod::strings {
namespace {

struct Argv {
  std::vector<std::string> words;
  std::vector<ferrite_slice> slices;
  explicit Argv(std::vector<std::string> w) : words(std::move(w)) {
    for (auto& s : words) slices.push_back({s.data(), s.size()});
  }
  int argc() const { return static_cast<int>(slices.size()); }
};

// Parses options and copies the expiry argument out before the argv goes away.
struct Parsed {
  bool ok = false;
  SetOptions o;
  std::string expire_arg;
};

Parsed Parse(std::vector<std::string> head, std::vector<std::string> opts, OptsFor cmd) {
  head.insert(head.end(), opts.begin(), opts.end());
  Argv a(head);
  Parsed p;
  int start = cmd == OptsFor::kSet ? 3 : 2;
  p.ok = ParseSetOptions(a.argc(), a.slices.data(), start, cmd, &p.o);
  p.expire_arg = std::string(p.o.expire_arg);
  p.o.expire_arg = {};
  return p;
}

Parsed ParseSetP(std::vector<std::string> opts) {
  return Parse({"SET", "k", "v"}, std::move(opts), OptsFor::kSet);
}
bool ParseSet(std::vector<std::string> opts) { return ParseSetP(std::move(opts)).ok; }
Parsed ParseGetExP(std::vector<std::string> opts) {
  return Parse({"GETEX", "k"}, std::move(opts), OptsFor::kGetEx);
}
bool ParseGetEx(std::vector<std::string> opts) { return ParseGetExP(std::move(opts)).ok; }

TEST(SetOptionsTest, AcceptsWhatRedisAccepts) {
  Parsed p = ParseSetP({});
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(p.o.cond, Cond::kNone);
  p = ParseSetP({"nx", "GET", "ex", "10"});
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(p.o.cond, Cond::kNx);
  EXPECT_TRUE(p.o.get);
  EXPECT_EQ(p.o.expire, ExpireOpt::kEx);
  EXPECT_EQ(p.expire_arg, "10");
  EXPECT_TRUE(ParseSet({"NX", "NX"}));
  EXPECT_TRUE(ParseSet({"GET", "GET"}));
  EXPECT_TRUE(ParseSet({"XX", "KEEPTTL"}));
  // The same expiry twice is allowed; the last one wins.
  p = ParseSetP({"EX", "10", "EX", "20"});
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(p.expire_arg, "20");
  p = ParseSetP({"PXAT", "5"});
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(p.o.expire, ExpireOpt::kPxAt);
}

TEST(SetOptionsTest, RejectsConflictsAndUnknownWords) {
  EXPECT_FALSE(ParseSet({"NX", "XX"}));
  EXPECT_FALSE(ParseSet({"XX", "NX"}));
  EXPECT_FALSE(ParseSet({"EX", "10", "PX", "100"}));
  EXPECT_FALSE(ParseSet({"EXAT", "10", "PXAT", "100"}));
  EXPECT_FALSE(ParseSet({"KEEPTTL", "EX", "10"}));
  EXPECT_FALSE(ParseSet({"EX", "10", "KEEPTTL"}));
  EXPECT_FALSE(ParseSet({"EX"}));  // missing value
  EXPECT_FALSE(ParseSet({"PERSIST"}));
  EXPECT_FALSE(ParseSet({"FOO"}));
  EXPECT_FALSE(ParseSet({"NXX"}));
}

TEST(SetOptionsTest, GetExOptions) {
  Parsed p = ParseGetExP({});
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(p.o.expire, ExpireOpt::kNone);
  p = ParseGetExP({"persist"});
  EXPECT_TRUE(p.ok);
  EXPECT_TRUE(p.o.persist);
  EXPECT_TRUE(ParseGetEx({"EX", "10", "EX", "20"}));
  EXPECT_FALSE(ParseGetEx({"PERSIST", "EX", "10"}));
  EXPECT_FALSE(ParseGetEx({"EX", "10", "PERSIST"}));
  EXPECT_FALSE(ParseGetEx({"KEEPTTL"}));
  EXPECT_FALSE(ParseGetEx({"NX"}));
  EXPECT_FALSE(ParseGetEx({"GET"}));
}

TEST(ResolveExpireTest, RelativeAndAbsolute) {
  int64_t at = 0;
  EXPECT_EQ(ResolveExpire("10", ExpireOpt::kEx, 1000, &at), ExpireStatus::kOk);
  EXPECT_EQ(at, 11000);
  EXPECT_EQ(ResolveExpire("10", ExpireOpt::kPx, 1000, &at), ExpireStatus::kOk);
  EXPECT_EQ(at, 1010);
  EXPECT_EQ(ResolveExpire("10", ExpireOpt::kExAt, 1000, &at), ExpireStatus::kOk);
  EXPECT_EQ(at, 10000);
  EXPECT_EQ(ResolveExpire("10", ExpireOpt::kPxAt, 1000, &at), ExpireStatus::kOk);
  EXPECT_EQ(at, 10);
}

TEST(ResolveExpireTest, InvalidValues) {
  int64_t at = 0;
  const int64_t now = 1700000000000;
  EXPECT_EQ(ResolveExpire("abc", ExpireOpt::kEx, now, &at), ExpireStatus::kNotInteger);
  EXPECT_EQ(ResolveExpire("1.5", ExpireOpt::kEx, now, &at), ExpireStatus::kNotInteger);
  EXPECT_EQ(ResolveExpire("0", ExpireOpt::kEx, now, &at), ExpireStatus::kInvalid);
  EXPECT_EQ(ResolveExpire("-1", ExpireOpt::kPx, now, &at), ExpireStatus::kInvalid);
  EXPECT_EQ(ResolveExpire("9223372036854775807", ExpireOpt::kEx, now, &at),
            ExpireStatus::kInvalid);
  // Seconds that fit as ms but overflow once the clock is added.
  EXPECT_EQ(ResolveExpire("9223372036854775", ExpireOpt::kEx, now, &at),
            ExpireStatus::kInvalid);
  EXPECT_EQ(ResolveExpire("9223372036854775807", ExpireOpt::kPx, now, &at),
            ExpireStatus::kInvalid);
  // The same numbers are fine as absolute times.
  EXPECT_EQ(ResolveExpire("9223372036854775", ExpireOpt::kExAt, now, &at), ExpireStatus::kOk);
  EXPECT_EQ(at, 9223372036854775000);
  EXPECT_EQ(ResolveExpire("9223372036854775807", ExpireOpt::kPxAt, now, &at),
            ExpireStatus::kOk);
  EXPECT_EQ(InvalidExpireText("setex"), "ERR invalid expire time in 'setex' command");
}

TEST(AddInt64Test, Increments) {
  int64_t v = 0;
  EXPECT_EQ(AddInt64(std::nullopt, 5, &v), IncrStatus::kOk);
  EXPECT_EQ(v, 5);
  EXPECT_EQ(AddInt64("-10", 3, &v), IncrStatus::kOk);
  EXPECT_EQ(v, -7);
  EXPECT_EQ(AddInt64("9223372036854775806", 1, &v), IncrStatus::kOk);
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_EQ(AddInt64("9223372036854775807", 1, &v), IncrStatus::kOverflow);
  EXPECT_EQ(AddInt64("-9223372036854775808", -1, &v), IncrStatus::kOverflow);
  EXPECT_EQ(AddInt64("-9223372036854775808", 1, &v), IncrStatus::kOk);
  for (const char* bad : {"", " 1", "1 ", "+1", "01", "-0", "1.0", "abc",
                          "9223372036854775808"}) {
    EXPECT_EQ(AddInt64(std::string_view(bad), 1, &v), IncrStatus::kNotInteger) << bad;
  }
}

TEST(AddLongDoubleTest, FormatsLikeRedis) {
  std::string out;
  EXPECT_EQ(AddLongDouble(std::nullopt, "10.5", &out), FloatStatus::kOk);
  EXPECT_EQ(out, "10.5");
  EXPECT_EQ(AddLongDouble("10.5", "0.1", &out), FloatStatus::kOk);
  EXPECT_EQ(out, "10.6");
  EXPECT_EQ(AddLongDouble("10.5", "-10.5", &out), FloatStatus::kOk);
  EXPECT_EQ(out, "0");
  EXPECT_EQ(AddLongDouble("1.5", "0x10", &out), FloatStatus::kOk);  // strtold syntax
  EXPECT_EQ(out, "17.5");
  EXPECT_EQ(AddLongDouble("17.5", "5.0e3", &out), FloatStatus::kOk);
  EXPECT_EQ(out, "5017.5");
  EXPECT_EQ(AddLongDouble("5.0e3", "200", &out), FloatStatus::kOk);
  EXPECT_EQ(out, "5200");
  EXPECT_EQ(AddLongDouble("-4", "1", &out), FloatStatus::kOk);
  EXPECT_EQ(out, "-3");
}

TEST(AddLongDoubleTest, Errors) {
  std::string out;
  EXPECT_EQ(AddLongDouble("abc", "1", &out), FloatStatus::kNotFloat);
  EXPECT_EQ(AddLongDouble("1", "abc", &out), FloatStatus::kNotFloat);
  EXPECT_EQ(AddLongDouble("1", " 1", &out), FloatStatus::kNotFloat);
  EXPECT_EQ(AddLongDouble("", "1", &out), FloatStatus::kNotFloat);
  EXPECT_EQ(AddLongDouble("1", "nan", &out), FloatStatus::kNotFloat);
  EXPECT_EQ(AddLongDouble("1", "inf", &out), FloatStatus::kNanOrInfinity);
  EXPECT_EQ(AddLongDouble("inf", "-inf", &out), FloatStatus::kNanOrInfinity);
  EXPECT_EQ(AddLongDouble(std::string(5120, '1'), "1", &out), FloatStatus::kNotFloat);
}

TEST(SubstringTest, RedisIndexRules) {
  std::string_view s = "Hello World";
  EXPECT_EQ(Substring(s, 0, 3), "Hell");
  EXPECT_EQ(Substring(s, -3, -1), "rld");
  EXPECT_EQ(Substring(s, 0, -1), "Hello World");
  EXPECT_EQ(Substring(s, 10, 100), "d");
  EXPECT_EQ(Substring(s, 5, 3), "");
  EXPECT_EQ(Substring(s, -1, -5), "");
  EXPECT_EQ(Substring(s, -100, 2), "Hel");
  EXPECT_EQ(Substring(s, INT64_MIN, INT64_MAX), "Hello World");
  EXPECT_EQ(Substring("", 0, -1), "");
  EXPECT_EQ(Substring("", 0, 0), "");
}

TEST(FitsLimitTest, NeverOverflows) {
  EXPECT_TRUE(FitsLimit(536870911, 1, 536870912));
  EXPECT_FALSE(FitsLimit(536870912, 1, 536870912));
  EXPECT_FALSE(FitsLimit(0, 536870913, 536870912));
  EXPECT_FALSE(FitsLimit(UINT64_MAX, 1, 536870912));
  EXPECT_FALSE(FitsLimit(INT64_MAX, 5, 536870912));
  EXPECT_TRUE(FitsLimit(0, 0, 0));
}

TEST(LcsTest, StringLengthAndRanges) {
  LcsResult r = ComputeLcs("ohmytext", "mynewtext", LcsWant::kString, 0);
  EXPECT_EQ(r.lcs, "mytext");
  EXPECT_EQ(r.len, 6u);
  ASSERT_EQ(r.ranges.size(), 2u);
  EXPECT_EQ(r.ranges[0].a_start, 4u);
  EXPECT_EQ(r.ranges[0].a_end, 7u);
  EXPECT_EQ(r.ranges[0].b_start, 5u);
  EXPECT_EQ(r.ranges[0].b_end, 8u);
  EXPECT_EQ(r.ranges[1].a_start, 2u);
  EXPECT_EQ(r.ranges[1].a_end, 3u);
  EXPECT_EQ(r.ranges[1].b_start, 0u);
  EXPECT_EQ(r.ranges[1].b_end, 1u);

  LcsResult filtered = ComputeLcs("ohmytext", "mynewtext", LcsWant::kString, 4);
  ASSERT_EQ(filtered.ranges.size(), 1u);
  EXPECT_EQ(filtered.ranges[0].Len(), 4u);

  LcsResult len_only = ComputeLcs("ohmytext", "mynewtext", LcsWant::kLength, 0);
  EXPECT_EQ(len_only.len, 6u);
  EXPECT_TRUE(len_only.lcs.empty());
  EXPECT_TRUE(len_only.ranges.empty());
}

TEST(LcsTest, EmptyAndDisjoint) {
  EXPECT_EQ(ComputeLcs("", "abc", LcsWant::kString, 0).len, 0u);
  EXPECT_EQ(ComputeLcs("abc", "xyz", LcsWant::kString, 0).lcs, "");
  EXPECT_TRUE(ComputeLcs("abc", "xyz", LcsWant::kString, 0).ranges.empty());
  EXPECT_EQ(LcsTableBytes("ab", "abc"), 3u * 4u * 4u);
}

}  // namespace
}  // namespace ferrite::mod::strings
