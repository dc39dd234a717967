// DIGEST's hash and the IF* conditions, without a host. The expected digests are the
// ones Redis 8.4 documents (redis.io DIGEST page) and asserts in its own test suite.
#include "value_digest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ferrite::mod::strings {
namespace {

TEST(ValueDigest, MatchesRedisDocumentedDigests) {
  EXPECT_EQ(DigestHex(ValueDigest("Hello world")), "b6acb9d84a38ff74");
  // Leading zeros are kept: always 16 digits.
  EXPECT_EQ(DigestHex(ValueDigest("v8lf0c11xh8ymlqztfd3eeq16kfn4sspw7fqmnuuq3k3t75em5wdizg"
                                  "cdw7uc26nnf961u2jkfzkjytls2kwlj7626sd")),
            "00006c38adf31777");
  EXPECT_EQ(DigestHex(0), "0000000000000000");
  EXPECT_EQ(DigestHex(UINT64_MAX), "ffffffffffffffff");
}

TEST(ValueDigest, ParsesExactlySixteenHexDigitsInEitherCase) {
  uint64_t v = 0;
  EXPECT_TRUE(ParseDigest("b6acb9d84a38ff74", &v));
  EXPECT_EQ(v, 0xb6acb9d84a38ff74ULL);
  EXPECT_TRUE(ParseDigest("B6ACB9D84A38FF74", &v));
  EXPECT_EQ(v, 0xb6acb9d84a38ff74ULL);
  EXPECT_FALSE(ParseDigest("6acb9d84a38ff74", &v));    // 15
  EXPECT_FALSE(ParseDigest("0b6acb9d84a38ff74", &v));  // 17
  EXPECT_FALSE(ParseDigest("", &v));
  EXPECT_FALSE(ParseDigest("b6acb9d84a38ff7g", &v));
  EXPECT_FALSE(ParseDigest("1234567890", &v));
}

TEST(ValueCondition, MissingKeyFailsEqualityAndPassesInequality) {
  EXPECT_EQ(CheckValueCond(Cond::kIfEq, "x", std::nullopt), CondOutcome::kFail);
  EXPECT_EQ(CheckValueCond(Cond::kIfDeq, "1234567890", std::nullopt), CondOutcome::kFail);
  EXPECT_EQ(CheckValueCond(Cond::kIfNe, "x", std::nullopt), CondOutcome::kPass);
  // No value to compare with: a malformed digest is not looked at (Redis' order).
  EXPECT_EQ(CheckValueCond(Cond::kIfDne, "1234567890", std::nullopt), CondOutcome::kPass);
}

TEST(ValueCondition, ComparesValuesAndDigests) {
  const std::string d = DigestHex(ValueDigest("hello"));
  EXPECT_EQ(CheckValueCond(Cond::kIfEq, "hello", "hello"), CondOutcome::kPass);
  EXPECT_EQ(CheckValueCond(Cond::kIfEq, "hellO", "hello"), CondOutcome::kFail);
  EXPECT_EQ(CheckValueCond(Cond::kIfNe, "hello", "hello"), CondOutcome::kFail);
  EXPECT_EQ(CheckValueCond(Cond::kIfNe, "", "hello"), CondOutcome::kPass);
  EXPECT_EQ(CheckValueCond(Cond::kIfEq, "", ""), CondOutcome::kPass);
  EXPECT_EQ(CheckValueCond(Cond::kIfDeq, d, "hello"), CondOutcome::kPass);
  EXPECT_EQ(CheckValueCond(Cond::kIfDne, d, "hello"), CondOutcome::kFail);
  EXPECT_EQ(CheckValueCond(Cond::kIfDeq, d, "world"), CondOutcome::kFail);
  EXPECT_EQ(CheckValueCond(Cond::kIfDne, d, "world"), CondOutcome::kPass);
  EXPECT_EQ(CheckValueCond(Cond::kIfDeq, d.substr(1), "hello"), CondOutcome::kBadDigest);
  EXPECT_EQ(CheckValueCond(Cond::kIfDne, "", "hello"), CondOutcome::kBadDigest);
}

}  // namespace
}  // namespace ferrite::mod::strings
