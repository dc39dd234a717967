// LatencyHistogram (INFO latencystats): percentiles within the bucket's 12.5% of the
// recorded values, ranks as HDR computes them, and reset.
#include "host/latency_histogram.h"

#include <gtest/gtest.h>

namespace ferrite::host {
namespace {

TEST(LatencyHistogram, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.ValueAtPercentile(50), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 0; v < 8; v++) h.Record(v);
  EXPECT_EQ(h.ValueAtPercentile(100), 7u);
  EXPECT_EQ(h.ValueAtPercentile(50), 3u);
}

TEST(LatencyHistogram, PercentilesWithinABucket) {
  LatencyHistogram h;
  // 1000 values 1000..1999 and 10 outliers at 1'000'000.
  for (uint64_t v = 1000; v < 2000; v++) h.Record(v);
  for (int i = 0; i < 10; i++) h.Record(1000000);
  uint64_t p50 = h.ValueAtPercentile(50);  // true value: 1504
  EXPECT_GE(p50, 1504u);
  EXPECT_LE(p50, 1504u + 1504u / 8);
  uint64_t p99 = h.ValueAtPercentile(99);  // true value: 1989
  EXPECT_GE(p99, 1989u);
  EXPECT_LE(p99, 1989u + 1989u / 8);
  uint64_t p999 = h.ValueAtPercentile(99.9);  // among the outliers
  EXPECT_GE(p999, 1000000u);
  EXPECT_LE(p999, 1000000u + 1000000u / 8);
}

TEST(LatencyHistogram, HugeValuesLandInTheLastBucket) {
  LatencyHistogram h;
  h.Record(~uint64_t{0});
  EXPECT_GT(h.ValueAtPercentile(100), uint64_t{1} << 48);
}

TEST(LatencyHistogram, ResetForgets) {
  LatencyHistogram h;
  h.Record(12345);
  h.Reset();
  EXPECT_EQ(h.ValueAtPercentile(99), 0u);
}

}  // namespace
}  // namespace ferrite::host
