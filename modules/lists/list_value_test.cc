// Data-structure tests for ListValue: no host involved.
#include "list_value.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>

namespace ferrite::mod::lists {
namespace {

std::vector<std::string> All(const ListValue& l) {
  std::vector<std::string> out;
  l.ForEach([&](std::string_view v) {
    out.emplace_back(v);
    return true;
  });
  return out;
}

TEST(ListValue, PushPopBothEnds) {
  ListValue l;
  l.Push(End::kTail, "b", -2);
  l.Push(End::kHead, "a", -2);
  l.Push(End::kTail, "", -2);
  EXPECT_EQ(l.Size(), 3u);
  EXPECT_EQ(All(l), (std::vector<std::string>{"a", "b", ""}));
  EXPECT_EQ(l.Pop(End::kTail), "");
  EXPECT_EQ(l.Pop(End::kHead), "a");
  EXPECT_EQ(l.Pop(End::kHead), "b");
  EXPECT_TRUE(l.Empty());
  EXPECT_EQ(l.NodeCount(), 0u);
}

// Redis 7.0 names every list "quicklist", one node or many; the fill limit decides how
// many nodes there are.
TEST(ListValue, NodesFollowTheEntryCountLimit) {
  ListValue l;
  for (int i = 0; i < 4; i++) l.Push(End::kTail, std::to_string(i), 4);
  EXPECT_EQ(l.NodeCount(), 1u);
  EXPECT_STREQ(l.Encoding(), "quicklist");
  l.Push(End::kTail, "x", 4);
  EXPECT_EQ(l.NodeCount(), 2u);
  EXPECT_STREQ(l.Encoding(), "quicklist");
  l.Pop(End::kTail);
  EXPECT_EQ(l.NodeCount(), 1u);
  EXPECT_STREQ(l.Encoding(), "quicklist");
}

TEST(ListValue, NodesFollowTheByteLimit) {
  ListValue l;
  std::string big(1000, 'x');
  for (int i = 0; i < 8; i++) l.Push(End::kTail, big, -2);  // ~8 KB
  EXPECT_EQ(l.NodeCount(), 1u);
  l.Push(End::kTail, big, -2);
  EXPECT_EQ(l.NodeCount(), 2u);
  // An element larger than the node limit gets a node of its own.
  l.Push(End::kHead, std::string(10000, 'y'), -2);
  EXPECT_EQ(l.NodeCount(), 3u);
  EXPECT_EQ(l.At(0).size(), 10000u);
  EXPECT_EQ(l.Size(), 10u);
}

TEST(ListValue, LargeValuesUseMultiByteLengths) {
  ListValue l;
  std::string v(300000, 'z');
  v[123456] = 'q';
  l.Push(End::kTail, v, -2);
  l.Push(End::kTail, "t", -2);
  EXPECT_EQ(l.At(0), v);
  EXPECT_EQ(l.At(1), "t");
}

TEST(ListValue, SetInsertEraseAgainstModel) {
  std::mt19937 rng(42);
  ListValue l;
  std::deque<std::string> model;
  for (int step = 0; step < 20000; step++) {
    int op = static_cast<int>(rng() % 7);
    std::string v = std::to_string(rng() % 50) + std::string(rng() % 20, 'v');
    size_t n = model.size();
    switch (op) {
      case 0: l.Push(End::kHead, v, 16); model.push_front(v); break;
      case 1: l.Push(End::kTail, v, 16); model.push_back(v); break;
      case 2:
        if (n) { EXPECT_EQ(l.Pop(End::kHead), model.front()); model.pop_front(); }
        break;
      case 3:
        if (n) { size_t i = rng() % n; l.Set(i, v, 16); model[i] = v; }
        break;
      case 4: {
        size_t i = rng() % (n + 1);
        l.InsertAt(i, v, 16);
        model.insert(model.begin() + static_cast<long>(i), v);
        break;
      }
      case 5:
        if (n) {
          size_t s = rng() % n, c = rng() % 5;
          l.EraseRange(s, c, 16);
          model.erase(model.begin() + static_cast<long>(s),
                      model.begin() + static_cast<long>(std::min(n, s + c)));
        }
        break;
      case 6:
        if (n) { size_t i = rng() % n; EXPECT_EQ(l.At(i), model[i]); }
        break;
    }
    ASSERT_EQ(l.Size(), model.size());
  }
  EXPECT_EQ(All(l), std::vector<std::string>(model.begin(), model.end()));
  EXPECT_GT(l.NodeCount(), 1u);
}

// Restores the 1 GB default when a test that lowered the plain threshold ends.
struct PlainThresholdScope {
  explicit PlainThresholdScope(size_t bytes) { SetPlainThreshold(bytes); }
  ~PlainThresholdScope() { SetPlainThreshold(size_t{1} << 30); }
};

TEST(ListValue, PlainElementsLiveInNodesOfTheirOwn) {
  PlainThresholdScope plain(8);
  const std::string big(20, 'B');
  ListValue l;
  for (auto s : {"a", "b", "c"}) l.Push(End::kTail, s, 16);
  EXPECT_EQ(l.NodeCount(), 1u);
  l.Push(End::kTail, big, 16);  // not packed with its neighbours
  for (auto s : {"d", "e"}) l.Push(End::kTail, s, 16);
  EXPECT_EQ(l.NodeCount(), 3u);
  l.Set(1, big, 16);  // an LSET in the middle of a node splits it around the element
  EXPECT_EQ(l.NodeCount(), 5u);
  EXPECT_EQ(All(l), (std::vector<std::string>{"a", big, "c", big, "d", "e"}));
  l.InsertAt(5, big, 16);  // LINSERT likewise
  EXPECT_EQ(l.NodeCount(), 7u);
  l.Set(1, "small", 16);  // no longer plain: packed with a neighbour again
  EXPECT_EQ(l.NodeCount(), 6u);
  l.EraseRange(3, 1, 16);
  EXPECT_EQ(All(l), (std::vector<std::string>{"a", "small", "c", "d", big, "e"}));
}

TEST(ListValue, PlainElementsAgainstModel) {
  PlainThresholdScope plain(12);
  std::mt19937 rng(7);
  ListValue l;
  std::deque<std::string> model;
  for (int step = 0; step < 20000; step++) {
    std::string v = std::to_string(rng() % 50) + std::string(rng() % 24, 'v');
    size_t n = model.size();
    switch (rng() % 6) {
      case 0: l.Push(End::kHead, v, -1); model.push_front(v); break;
      case 1: l.Push(End::kTail, v, 4); model.push_back(v); break;
      case 2:
        if (n) { EXPECT_EQ(l.Pop(End::kTail), model.back()); model.pop_back(); }
        break;
      case 3:
        if (n) { size_t i = rng() % n; l.Set(i, v, 4); model[i] = v; }
        break;
      case 4: {
        size_t i = rng() % (n + 1);
        l.InsertAt(i, v, 4);
        model.insert(model.begin() + static_cast<long>(i), v);
        break;
      }
      case 5:
        if (n) {
          size_t s = rng() % n, c = rng() % 4;
          l.EraseRange(s, c, 4);
          model.erase(model.begin() + static_cast<long>(s),
                      model.begin() + static_cast<long>(std::min(n, s + c)));
        }
        break;
    }
    ASSERT_EQ(l.Size(), model.size());
  }
  EXPECT_EQ(All(l), std::vector<std::string>(model.begin(), model.end()));
}

TEST(ListValue, RemoveFromHeadTailAndAll) {
  auto make = [] {
    ListValue l;
    for (auto s : {"a", "x", "b", "x", "c", "x"}) l.Push(End::kTail, s, 2);
    return l;
  };
  ListValue l = make();
  EXPECT_EQ(l.Remove("x", 2, 2), 2u);
  EXPECT_EQ(All(l), (std::vector<std::string>{"a", "b", "c", "x"}));
  l = make();
  EXPECT_EQ(l.Remove("x", -2, 2), 2u);
  EXPECT_EQ(All(l), (std::vector<std::string>{"a", "x", "b", "c"}));
  l = make();
  EXPECT_EQ(l.Remove("x", 0, 2), 3u);
  EXPECT_EQ(All(l), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(l.Remove("nope", 0, 2), 0u);
}

TEST(ListValue, ReverseIterationGivesIndexes) {
  ListValue l;
  for (int i = 0; i < 100; i++) l.Push(End::kTail, std::to_string(i), 8);
  int expect = 99;
  l.ForEachReverse([&](std::string_view v, size_t i) {
    EXPECT_EQ(v, std::to_string(expect));
    EXPECT_EQ(i, static_cast<size_t>(expect));
    expect--;
    return true;
  });
  EXPECT_EQ(expect, -1);
}

TEST(ListValue, CloneIsDeep) {
  ListValue l;
  for (int i = 0; i < 50; i++) l.Push(End::kTail, std::to_string(i), 8);
  ListValue c = l.Clone();
  l.Set(0, "changed", 8);
  EXPECT_EQ(c.At(0), "0");
  EXPECT_EQ(All(c).size(), 50u);
  EXPECT_STREQ(c.Encoding(), "quicklist");
}

TEST(ListValue, RangeStopsEarlyAndClamps) {
  ListValue l;
  for (int i = 0; i < 10; i++) l.Push(End::kTail, std::to_string(i), 3);
  std::vector<std::string> got;
  l.ForRange(2, 5, [&](std::string_view v) {
    got.emplace_back(v);
    return true;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"2", "3", "4", "5"}));
  got.clear();
  l.ForRange(8, 100, [&](std::string_view v) {
    got.emplace_back(v);
    return true;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"8", "9"}));
}

}  // namespace
}  // namespace ferrite::mod::lists
