// Codec tests without a host: CRC-64 (Redis' check value), LZF round trips and corrupt
// input, the compact encodings (listpack, ziplist, intset) and the RDB string encodings.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "host/persistence/crc64.h"
#include "host/persistence/lzf.h"
#include "host/persistence/rdb_compact.h"
#include "host/persistence/rdb_format.h"
#include "host/persistence/rdb_writer.h"

namespace ferrite::host::persist {
namespace {

TEST(Crc64, MatchesRedisCheckValue) {
  // redis/src/crc64.c: crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca
  EXPECT_EQ(Crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
}

TEST(Crc64, IncrementalEqualsOneShot) {
  std::string s(1000, 'x');
  for (size_t i = 0; i < s.size(); i++) s[i] = static_cast<char>(i * 7);
  uint64_t one = Crc64(0, s.data(), s.size());
  uint64_t inc = Crc64(Crc64(0, s.data(), 333), s.data() + 333, s.size() - 333);
  EXPECT_EQ(one, inc);
}

std::string Roundtrip(const std::string& in, size_t* clen) {
  std::string c(in.size() * 33 / 32 + 64, '\0');  // literal runs cost 1 byte per 32
  *clen = LzfCompress(in.data(), in.size(), c.data(), c.size());
  if (*clen == 0) return "<incompressible>";
  std::string out(in.size(), '\0');
  if (!LzfDecompress(c.data(), *clen, out.data(), out.size())) return "<corrupt>";
  return out;
}

TEST(Lzf, RoundTripsRepetitiveAndRandomData) {
  std::mt19937 rng(42);
  for (size_t n : {1u, 2u, 3u, 21u, 100u, 8191u, 8192u, 70000u}) {
    std::string rep;
    while (rep.size() < n) rep += "abcabcabd-" + std::to_string(rep.size() % 13);
    rep.resize(n);
    size_t clen;
    EXPECT_TRUE(Roundtrip(rep, &clen) == rep) << n;
    std::string rnd(n, '\0');
    for (auto& ch : rnd) ch = static_cast<char>(rng());
    EXPECT_TRUE(Roundtrip(rnd, &clen) == rnd) << n;
  }
  std::string zeros(10000, '\0');
  size_t clen;
  EXPECT_TRUE(Roundtrip(zeros, &clen) == zeros);
  EXPECT_LT(clen, 200u);
}

TEST(Lzf, CompressReportsWhenOutputDoesNotFit) {
  std::string rnd(100, '\0');
  std::mt19937 rng(1);
  for (auto& ch : rnd) ch = static_cast<char>(rng());
  std::string out(96, '\0');
  EXPECT_EQ(LzfCompress(rnd.data(), rnd.size(), out.data(), out.size()), 0u);
}

TEST(Lzf, DecompressRejectsBadInput) {
  std::string out(10, '\0');
  // back reference before the start of the output
  const unsigned char bad_ref[] = {0x20, 0x05};
  EXPECT_FALSE(LzfDecompress(bad_ref, sizeof bad_ref, out.data(), out.size()));
  // literal run longer than the input
  const unsigned char short_lit[] = {0x05, 'a', 'b'};
  EXPECT_FALSE(LzfDecompress(short_lit, sizeof short_lit, out.data(), out.size()));
  // output length mismatch
  const unsigned char ok[] = {0x01, 'a', 'b'};
  EXPECT_FALSE(LzfDecompress(ok, sizeof ok, out.data(), out.size()));
  EXPECT_TRUE(LzfDecompress(ok, sizeof ok, out.data(), 2));
}

const std::vector<std::string> kItems = {"a", "", "hello world", "0", "12", "-1", "127", "128",
                                         "-4096", "4095", "70000", "-2147483649",
                                         "9223372036854775807", "-9223372036854775808",
                                         "007", std::string(100, 'x'), std::string(5000, 'y')};

TEST(Compact, ListpackRoundTrip) {
  std::vector<std::string> out;
  ASSERT_TRUE(DecodeListpack(EncodeListpackForTest(kItems), &out));
  EXPECT_EQ(out, kItems);
}

TEST(Compact, ZiplistRoundTrip) {
  std::vector<std::string> out;
  ASSERT_TRUE(DecodeZiplist(EncodeZiplistForTest(kItems), &out));
  EXPECT_EQ(out, kItems);
}

TEST(Compact, IntsetRoundTrip) {
  std::vector<std::string> out;
  ASSERT_TRUE(DecodeIntset(EncodeIntsetForTest({-5, 0, 7, INT64_MAX}), &out));
  EXPECT_EQ(out, (std::vector<std::string>{"-5", "0", "7", "9223372036854775807"}));
}

TEST(Compact, TruncatedInputIsRejectedAtEveryLength) {
  std::string lp = EncodeListpackForTest(kItems), zl = EncodeZiplistForTest(kItems);
  for (size_t n = 0; n < lp.size(); n++) {
    std::vector<std::string> out;
    std::string cut = lp.substr(0, n);
    EXPECT_FALSE(DecodeListpack(cut, &out)) << n;
  }
  for (size_t n = 0; n < zl.size(); n++) {
    std::vector<std::string> out;
    EXPECT_FALSE(DecodeZiplist(zl.substr(0, n), &out)) << n;
  }
}

TEST(Compact, ListpackWithWrongHeaderSizeIsRejected) {
  std::string lp = EncodeListpackForTest({"a", "b"});
  lp[0] = static_cast<char>(lp[0] + 1);
  std::vector<std::string> out;
  EXPECT_FALSE(DecodeListpack(lp, &out));
}

TEST(RdbStrings, IntegerAndLzfEncodingsAsRedis) {
  RdbOutput out(-1, true);
  out.String("12");           // int8
  out.String("-300");         // int16
  out.String("100000");       // int32
  out.String("4294967296");   // too big for 32 bits: raw
  out.String("012");          // not canonical: raw
  const std::string& m = out.memory();
  EXPECT_EQ(m.substr(0, 2), std::string("\xC0\x0C", 2));
  EXPECT_EQ(m.substr(2, 3), std::string("\xC1\xD4\xFE", 3));
  EXPECT_EQ(m.substr(5, 5), std::string("\xC2\xA0\x86\x01\x00", 5));
  EXPECT_EQ(m.substr(10, 11), std::string("\x0A") + "4294967296");
  EXPECT_EQ(m.substr(21, 4), std::string("\x03") + "012");
  RdbOutput lzf(-1, true);
  lzf.String(std::string(100, 'a'));
  EXPECT_EQ(static_cast<uint8_t>(lzf.memory()[0]), 0xC3);
  RdbOutput raw(-1, false);
  raw.String(std::string(100, 'a'));
  EXPECT_EQ(raw.memory().size(), 102u);  // 14-bit length + 100 bytes
}

TEST(RdbFormat, StrictInt64MatchesString2ll) {
  int64_t v;
  EXPECT_TRUE(StrictInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_FALSE(StrictInt64("9223372036854775808", &v));
  EXPECT_FALSE(StrictInt64("+1", &v));
  EXPECT_FALSE(StrictInt64("-0", &v));
  EXPECT_FALSE(StrictInt64(" 1", &v));
  EXPECT_TRUE(StrictInt64("0", &v));
}

}  // namespace
}  // namespace ferrite::host::persist
