// Value-level tests of the bitmap arithmetic (no host). Expected values are redis-server
// 7.0.15's answers to the same inputs (the examples of the Redis documentation among
// them), or follow from the definitions where noted.
#include "bitmap_ops.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ferrite::mod::strings {
namespace {

constexpr int64_t k512MB = 512LL * 1024 * 1024;

TEST(BitOffset, LimitsAndHashForm) {
  uint64_t off = 0;
  EXPECT_TRUE(ParseBitOffset("0", 0, k512MB, &off));
  EXPECT_EQ(off, 0u);
  EXPECT_TRUE(ParseBitOffset("4294967295", 0, k512MB, &off));  // last bit of 512 MB
  EXPECT_EQ(off, 4294967295u);
  EXPECT_FALSE(ParseBitOffset("4294967296", 0, k512MB, &off));
  EXPECT_FALSE(ParseBitOffset("-1", 0, k512MB, &off));
  EXPECT_FALSE(ParseBitOffset("1.0", 0, k512MB, &off));
  EXPECT_FALSE(ParseBitOffset("", 0, k512MB, &off));
  EXPECT_FALSE(ParseBitOffset("#1", 0, k512MB, &off));  // no '#' for SETBIT/GETBIT
  EXPECT_TRUE(ParseBitOffset("#3", 8, k512MB, &off));
  EXPECT_EQ(off, 24u);
  EXPECT_FALSE(ParseBitOffset("#", 8, k512MB, &off));
  // 2^58 + 1 fields of 64 bits: the product wraps to 64, which Redis then accepts.
  EXPECT_TRUE(ParseBitOffset("#288230376151711745", 64, k512MB, &off));
  EXPECT_EQ(off, 64u);
  EXPECT_FALSE(ParseBitOffset("8", 0, 1, &off));  // byte 1 of a 1-byte limit
}

TEST(BitFieldType, SignedTo64UnsignedTo63) {
  FieldType t;
  EXPECT_TRUE(ParseFieldType("i64", &t));
  EXPECT_TRUE(t.is_signed);
  EXPECT_EQ(t.bits, 64);
  EXPECT_TRUE(ParseFieldType("u63", &t));
  EXPECT_FALSE(t.is_signed);
  EXPECT_FALSE(ParseFieldType("u64", &t));
  EXPECT_FALSE(ParseFieldType("i65", &t));
  EXPECT_FALSE(ParseFieldType("i0", &t));
  EXPECT_FALSE(ParseFieldType("I8", &t));  // case matters
  EXPECT_FALSE(ParseFieldType("u", &t));
  EXPECT_FALSE(ParseFieldType("", &t));
}

TEST(BitCount, ByteAndBitRanges) {
  const std::string s = "foobar";
  EXPECT_EQ(CountBits(s, 0, -1, RangeUnit::kByte), 26);
  EXPECT_EQ(CountBits(s, 0, 0, RangeUnit::kByte), 4);
  EXPECT_EQ(CountBits(s, 1, 1, RangeUnit::kByte), 6);
  EXPECT_EQ(CountBits(s, 1, 1, RangeUnit::kBit), 1);
  EXPECT_EQ(CountBits(s, 5, 30, RangeUnit::kBit), 17);
  EXPECT_EQ(CountBits(s, -1, -2, RangeUnit::kByte), 0);
  EXPECT_EQ(CountBits(s, 100, 200, RangeUnit::kByte), 0);
  EXPECT_EQ(CountBits(s, -100, 100, RangeUnit::kByte), 26);
  EXPECT_EQ(CountBits("", 0, -1, RangeUnit::kBit), 0);
}

TEST(BitCount, BitRangeEqualsBitByBitCount) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 2000; iter++) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    const int64_t bits = static_cast<int64_t>(s.size()) * 8;
    int64_t start = static_cast<int64_t>(rng() % 400) - 200;
    int64_t end = static_cast<int64_t>(rng() % 400) - 200;
    // Definition: the clamped inclusive bit range.
    int64_t a = start < 0 ? bits + start : start, b = end < 0 ? bits + end : end;
    a = std::max<int64_t>(a, 0);
    b = std::min<int64_t>(std::max<int64_t>(b, 0), bits - 1);
    int64_t want = 0;
    if (!(start < 0 && end < 0 && start > end)) {
      for (int64_t i = a; i <= b; i++) want += (static_cast<uint8_t>(s[i >> 3]) >> (7 - (i & 7))) & 1;
    }
    ASSERT_EQ(CountBits(s, start, end, RangeUnit::kBit), want) << start << " " << end;
  }
}

// Popcount reads 32 then 8 bytes at a time, then single bytes: every length and
// alignment around those steps counts what a bit-by-bit loop counts.
TEST(BitCount, PopcountEqualsBitByBitCount) {
  std::mt19937 rng(11);
  std::vector<uint8_t> buf(300);
  for (int iter = 0; iter < 50; iter++) {
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    for (size_t off = 0; off < 8; off++) {
      for (size_t n = 0; off + n <= 140; n++) {
        uint64_t want = 0;
        for (size_t i = 0; i < n * 8; i++) want += (buf[off + (i >> 3)] >> (i & 7)) & 1;
        ASSERT_EQ(Popcount(buf.data() + off, n), want) << off << " " << n;
      }
    }
  }
  std::vector<uint8_t> ones(1 << 20, 0xff);
  EXPECT_EQ(Popcount(ones.data(), ones.size()), uint64_t{8} << 20);
}

TEST(BitPos, DocumentationExamples) {
  const std::string a("\xff\xf0\x00", 3), b("\x00\xff\xf0", 3), z(3, '\0');
  EXPECT_EQ(FindBit(a, 0, {}, {}, RangeUnit::kByte), 12);
  EXPECT_EQ(FindBit(b, 1, 0, {}, RangeUnit::kByte), 8);
  EXPECT_EQ(FindBit(b, 1, 2, {}, RangeUnit::kByte), 16);
  EXPECT_EQ(FindBit(b, 1, 2, -1, RangeUnit::kByte), 16);
  EXPECT_EQ(FindBit(b, 1, 7, 15, RangeUnit::kBit), 8);
  EXPECT_EQ(FindBit(z, 1, {}, {}, RangeUnit::kByte), -1);
  // Looking for a 0 among ones: past the end without an end argument, -1 with one.
  const std::string ones(2, '\xff');
  EXPECT_EQ(FindBit(ones, 0, {}, {}, RangeUnit::kByte), 16);
  EXPECT_EQ(FindBit(ones, 0, 0, {}, RangeUnit::kByte), 16);
  EXPECT_EQ(FindBit(ones, 0, 0, -1, RangeUnit::kByte), -1);
  EXPECT_EQ(FindBit(ones, 0, 3, 9, RangeUnit::kBit), -1);
  EXPECT_EQ(FindBit("", 0, {}, {}, RangeUnit::kByte), -1);
}

TEST(FirstBit, WordsAndTail) {
  std::string s(37, '\0');
  s[29] = 0x10;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  EXPECT_EQ(FirstBit(p, s.size(), 1), 29 * 8 + 3);
  EXPECT_EQ(FirstBit(p, s.size(), 0), 0);
  std::string ones(37, '\xff');
  ones[36] = '\xfe';
  p = reinterpret_cast<const uint8_t*>(ones.data());
  EXPECT_EQ(FirstBit(p, ones.size(), 0), 36 * 8 + 7);
  EXPECT_EQ(FirstBit(p, 36, 0), 36 * 8);
}

TEST(BitOp, EveryOperatorAgainstItsDefinition) {
  std::mt19937 rng(11);
  for (int iter = 0; iter < 300; iter++) {
    size_t n = 1 + rng() % 4;
    std::vector<std::string> owned(n);
    for (auto& s : owned) {
      s.resize(rng() % 50);
      for (char& c : s) c = static_cast<char>(rng());
    }
    std::vector<std::string_view> srcs(owned.begin(), owned.end());
    size_t maxlen = 0;
    for (auto& s : owned) maxlen = std::max(maxlen, s.size());
    for (BitOpKind op : {BitOpKind::kAnd, BitOpKind::kOr, BitOpKind::kXor, BitOpKind::kNot,
                         BitOpKind::kDiff, BitOpKind::kDiff1, BitOpKind::kAndOr, BitOpKind::kOne}) {
      if (op == BitOpKind::kNot && n != 1) continue;
      if (static_cast<int>(n) < BitOpMinSources(op)) continue;
      std::string got = BitOp(op, srcs);
      ASSERT_EQ(got.size(), maxlen);
      for (size_t bit = 0; bit < maxlen * 8; bit++) {
        int count = 0, first = 0, rest = 0;
        for (size_t i = 0; i < n; i++) {
          int v = bit / 8 < owned[i].size() ? (owned[i][bit / 8] >> (7 - bit % 8)) & 1 : 0;
          count += v;
          if (i == 0) first = v;
          else rest |= v;
        }
        int want = 0;
        switch (op) {
          case BitOpKind::kAnd: want = count == static_cast<int>(n); break;
          case BitOpKind::kOr: want = count > 0; break;
          case BitOpKind::kXor: want = count & 1; break;
          case BitOpKind::kNot: want = !first; break;
          case BitOpKind::kDiff: want = first && !rest; break;
          case BitOpKind::kDiff1: want = !first && rest; break;
          case BitOpKind::kAndOr: want = first && rest; break;
          case BitOpKind::kOne: want = count == 1; break;
        }
        ASSERT_EQ((got[bit / 8] >> (7 - bit % 8)) & 1, want) << BitOpName(op) << " bit " << bit;
      }
    }
  }
}

TEST(BitOp, NamesAndSourceCounts) {
  EXPECT_EQ(ParseBitOp("andor"), BitOpKind::kAndOr);
  EXPECT_EQ(ParseBitOp("Diff1"), BitOpKind::kDiff1);
  EXPECT_FALSE(ParseBitOp("nand"));
  EXPECT_EQ(BitOpMinSources(BitOpKind::kDiff), 2);
  EXPECT_EQ(BitOpMinSources(BitOpKind::kOne), 1);
  EXPECT_STREQ(BitOpName(BitOpKind::kDiff1), "DIFF1");
}

TEST(BitField, LayoutIsMostSignificantBitFirst) {
  BitOverlay b("");
  SetUnsignedField(b, 7, 5, 23);  // the bitops.c example: 00000001|01110000
  EXPECT_EQ(b.Get(0), 0x01);
  EXPECT_EQ(b.Get(1), 0x70);
  EXPECT_EQ(GetUnsignedField(b, 7, 5), 23u);
  EXPECT_EQ(GetSignedField(b, 7, 5), 23 - 32);
  BitOverlay base(std::string_view("\x80", 1));
  EXPECT_EQ(GetSignedField(base, 0, 64), INT64_MIN);
  EXPECT_EQ(base.Written().size(), 0u);
}

TEST(BitField, OverflowModes) {
  bool changed = false;
  FieldType u2{false, 2}, i8{true, 8}, i64{true, 64};
  // The documentation's u2 counter: SAT stops at 3, WRAP goes round to 0.
  BitOverlay b("");
  for (int64_t want : {1, 2, 3, 3}) {
    EXPECT_EQ(WriteField(b, FieldWrite::kIncrBy, u2, 102, 1, Overflow::kSat, &changed), want);
  }
  for (int64_t want : {1, 2, 3, 0}) {
    EXPECT_EQ(WriteField(b, FieldWrite::kIncrBy, u2, 100, 1, Overflow::kWrap, &changed), want);
  }
  EXPECT_EQ(WriteField(b, FieldWrite::kSet, i8, 0, 127, Overflow::kWrap, &changed), 0);
  EXPECT_EQ(WriteField(b, FieldWrite::kIncrBy, i8, 0, 1, Overflow::kWrap, &changed), -128);
  EXPECT_EQ(WriteField(b, FieldWrite::kIncrBy, i8, 0, -1, Overflow::kSat, &changed), -128);
  EXPECT_EQ(WriteField(b, FieldWrite::kSet, i8, 0, 127, Overflow::kWrap, &changed), -128);
  EXPECT_EQ(WriteField(b, FieldWrite::kIncrBy, i8, 0, 1, Overflow::kFail, &changed), std::nullopt);
  EXPECT_EQ(GetSignedField(b, 0, 8), 127);
  EXPECT_EQ(WriteField(b, FieldWrite::kSet, i8, 0, 300, Overflow::kSat, &changed), 127);
  EXPECT_EQ(GetSignedField(b, 0, 8), 127);
  EXPECT_FALSE(changed);
  EXPECT_EQ(WriteField(b, FieldWrite::kSet, i8, 0, 300, Overflow::kWrap, &changed), 127);
  EXPECT_EQ(GetSignedField(b, 0, 8), 44);  // 300 - 256
  EXPECT_TRUE(changed);
  EXPECT_EQ(WriteField(b, FieldWrite::kSet, i64, 128, INT64_MAX, Overflow::kFail, &changed), 0);
  EXPECT_EQ(WriteField(b, FieldWrite::kIncrBy, i64, 128, 1, Overflow::kSat, &changed), INT64_MAX);
  EXPECT_EQ(WriteField(b, FieldWrite::kIncrBy, i64, 128, 1, Overflow::kWrap, &changed), INT64_MIN);
  EXPECT_EQ(WriteField(b, FieldWrite::kIncrBy, i64, 128, -1, Overflow::kFail, &changed), std::nullopt);
  // An unsigned SET of a negative value is a huge one: SAT stores the maximum.
  FieldType u8{false, 8};
  EXPECT_EQ(WriteField(b, FieldWrite::kSet, u8, 200, -1, Overflow::kSat, &changed), 0);
  EXPECT_EQ(GetUnsignedField(b, 200, 8), 255u);
  EXPECT_EQ(WriteField(b, FieldWrite::kIncrBy, u8, 200, -256, Overflow::kSat, &changed), 0);
}

}  // namespace
}  // namespace ferrite::mod::strings
