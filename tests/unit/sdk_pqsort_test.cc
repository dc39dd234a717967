// ferrite/pqsort.hpp: Redis' partial quicksort. The golden orders below are what Redis
// 7.0.15's own pqsort() produces for these inputs (elements that tie come out in its
// order, which is the point of the header); the random cases check the contract.
#include "ferrite/pqsort.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace ferrite::sdk {
namespace {

struct E {
  int key, id;
};
int Cmp(const E& a, const E& b) { return a.key < b.key ? -1 : a.key > b.key ? 1 : 0; }

std::vector<int> Ids(const std::vector<E>& v, size_t from, size_t to) {
  std::vector<int> out;
  for (size_t i = from; i <= to; i++) out.push_back(v[i].id);
  return out;
}

std::vector<E> Keys(int n, int mul, int mod) {
  std::vector<E> v;
  for (int i = 0; i < n; i++) v.push_back({(i * mul) % mod, i});
  return v;
}

TEST(PartialQuickSort, TiesComeOutInRedisOrder) {
  auto v = Keys(50, 7, 4);  // median of medians, partitions, recursion pruning
  PartialQuickSort(v.data(), v.size(), Cmp, 0, 9);
  EXPECT_THAT(Ids(v, 0, 9), ::testing::ElementsAre(12, 20, 4, 16, 0, 40, 36, 44, 8, 32));
  v = Keys(50, 7, 4);
  PartialQuickSort(v.data(), v.size(), Cmp, 20, 29);
  EXPECT_THAT(Ids(v, 20, 29), ::testing::ElementsAre(31, 35, 39, 43, 47, 30, 2, 10, 26, 42));
  v = Keys(12, 1, 2);  // 8 <= n <= 40: median of three
  PartialQuickSort(v.data(), v.size(), Cmp, 0, 3);
  EXPECT_THAT(Ids(v, 0, 3), ::testing::ElementsAre(0, 2, 4, 6));
}

TEST(PartialQuickSort, WantedRangeHoldsWhatAFullSortPutsThere) {
  std::mt19937 rng(1);
  for (int t = 0; t < 2000; t++) {
    const int n = 1 + static_cast<int>(rng() % 200);
    std::vector<E> v;
    for (int i = 0; i < n; i++) v.push_back({static_cast<int>(rng() % 30), i});
    const size_t lo = rng() % n, hi = lo + rng() % (n - lo);
    std::vector<E> full = v;
    std::stable_sort(full.begin(), full.end(), [](auto& a, auto& b) { return Cmp(a, b) < 0; });
    PartialQuickSort(v.data(), v.size(), Cmp, static_cast<std::ptrdiff_t>(lo),
                     static_cast<std::ptrdiff_t>(hi));
    for (size_t i = lo; i <= hi; i++) ASSERT_EQ(v[i].key, full[i].key) << t << " " << i;
    std::vector<int> ids;
    for (auto& e : v) ids.push_back(e.id);
    std::sort(ids.begin(), ids.end());
    for (int i = 0; i < n; i++) ASSERT_EQ(ids[i], i);  // a permutation
  }
}

}  // namespace
}  // namespace ferrite::sdk
