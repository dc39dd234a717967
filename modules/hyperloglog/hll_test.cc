// Tests of the HLL representation without a host. Expected bytes and counts are what
// redis-server 7.0.15 produces for the same elements (GET of the key after PFADD, and
// PFCOUNT), so a difference in hashing, opcode editing or estimation shows here.
#include "hll.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace ferrite::mod::hll {
namespace {

constexpr size_t kMax = 3000;  // hll-sparse-max-bytes default

std::string AddAll(std::vector<std::string> elems, size_t max = kMax) {
  std::string h = NewHll();
  for (auto& e : elems) EXPECT_NE(Add(h, e, max), SetResult::kInvalid);
  return h;
}

TEST(Hll, NewIsSparseAllZero) {
  std::string h = NewHll();
  EXPECT_EQ(h, std::string("HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff", 18));
  EXPECT_TRUE(LooksLikeHll(h));
  EXPECT_EQ(Count(h, nullptr), 0u);
  EXPECT_EQ(DecodeSparse(h), "Z:16384");
}

TEST(Hll, SameBytesAsRedisForThreeElements) {
  std::string h = AddAll({"a", "b", "c"});
  InvalidateCount(reinterpret_cast<uint8_t*>(h.data()));
  EXPECT_EQ(h, std::string("HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80`\xf3\x80P\xb1\x84K\xfb\x80" "BZ", 27));
  EXPECT_EQ(DecodeSparse(h), "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
  bool invalid = false;
  EXPECT_EQ(Count(h, &invalid), 3u);
  EXPECT_FALSE(invalid);
  uint64_t card = 0;
  EXPECT_FALSE(CachedCount(h, &card));
  StoreCount(reinterpret_cast<uint8_t*>(h.data()), 3);
  ASSERT_TRUE(CachedCount(h, &card));
  EXPECT_EQ(card, 3u);
}

TEST(Hll, CountsMatchRedisSparseAndDense) {
  std::vector<std::string> mid, big;
  for (int i = 1; i <= 500; i++) mid.push_back("m" + std::to_string(i));
  for (int i = 1; i <= 2000; i++) big.push_back("e" + std::to_string(i));
  std::string h = AddAll(mid);
  EXPECT_EQ(Encoding(h), kSparse);
  EXPECT_EQ(h.size(), 1049u);
  EXPECT_EQ(Count(h, nullptr), 499u);
  std::string d = AddAll(big);
  EXPECT_EQ(Encoding(d), kDense);
  EXPECT_EQ(d.size(), kDenseSize);
  EXPECT_EQ(Count(d, nullptr), 2000u);
}

TEST(Hll, SparseAndDenseAgreeAndConvert) {
  std::mt19937 rng(3);
  for (int n : {0, 1, 10, 100, 1000, 3000}) {
    std::string sparse = NewHll(), dense = NewHll();
    ASSERT_TRUE(SparseToDense(dense));
    for (int i = 0; i < n; i++) {
      std::string e = std::to_string(rng());
      Add(sparse, e, 1u << 30);  // never promoted for size
      Add(dense, e, kMax);
    }
    EXPECT_EQ(Count(sparse, nullptr), Count(dense, nullptr)) << n;
    std::vector<uint8_t> a(kRegisters), b(kRegisters);
    ASSERT_TRUE(MergeInto(a.data(), sparse));
    ASSERT_TRUE(MergeInto(b.data(), dense));
    EXPECT_EQ(a, b);
    EXPECT_EQ(CountRaw(a.data()), Count(dense, nullptr));
    std::string converted = sparse;
    ASSERT_TRUE(SparseToDense(converted));
    EXPECT_EQ(converted.substr(kHeaderSize), dense.substr(kHeaderSize));
  }
}

TEST(Hll, SparseLimitPromotes) {
  std::string h = NewHll();
  int i = 0;
  while (Encoding(h) == kSparse) {
    ASSERT_LE(h.size(), 300u);
    Add(h, std::to_string(i++), 300);
  }
  EXPECT_EQ(h.size(), kDenseSize);
  EXPECT_GT(i, 10);
}

TEST(Hll, CorruptSparseIsDetected) {
  std::string h = NewHll();
  h.pop_back();  // XZERO cut in half: covers fewer registers
  bool invalid = false;
  Count(h, &invalid);
  EXPECT_TRUE(invalid);
  std::string copy = h;
  EXPECT_FALSE(SparseToDense(copy));
  std::vector<uint8_t> max(kRegisters);
  EXPECT_FALSE(MergeInto(max.data(), h));
  std::string too_long = NewHll() + std::string("\x80", 1);  // one register too many
  invalid = false;
  Count(too_long, &invalid);
  EXPECT_TRUE(invalid);
  EXPECT_EQ(SparseSet(too_long, 100, 1, kMax), SetResult::kUpdated);  // Redis edits it too
  std::string empty_body(kHeaderSize, '\0');
  memcpy(empty_body.data(), "HYLL\x01", 5);
  EXPECT_EQ(SparseSet(empty_body, 0, 1, kMax), SetResult::kInvalid);
}

TEST(Hll, HeaderChecks) {
  EXPECT_FALSE(LooksLikeHll("HYLL"));
  std::string h = NewHll();
  h[0] = 'h';
  EXPECT_FALSE(LooksLikeHll(h));
  h = NewHll();
  h[4] = 2;
  EXPECT_FALSE(LooksLikeHll(h));
  h = NewHll();
  h[4] = kDense;  // dense must be exactly kDenseSize long
  EXPECT_FALSE(LooksLikeHll(h));
  ASSERT_TRUE(SparseToDense(h = NewHll()));
  EXPECT_TRUE(LooksLikeHll(h));
}

TEST(Hll, DenseRegisterPacking) {
  std::vector<uint8_t> regs(kDenseSize - kHeaderSize, 0);
  std::mt19937 rng(5);
  std::vector<uint8_t> want(kRegisters);
  for (long i = 0; i < kRegisters; i++) {
    want[i] = rng() & kRegisterMax;
    DenseSet(regs.data(), regs.size(), i, want[i]);
  }
  for (long i = 0; i < kRegisters; i++) ASSERT_EQ(DenseGet(regs.data(), i), want[i]) << i;
}

}  // namespace
}  // namespace ferrite::mod::hll
