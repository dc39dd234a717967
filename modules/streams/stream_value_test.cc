// Data-structure tests for the stream value: listpack encoding, node layout, ranges,
// deletes, trims, group counters. No host.
#include "stream_value.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferrite::mod::streams {
namespace {

std::vector<std::string> Ids(const Stream& s, StreamID a = {}, StreamID b = StreamID::Max(),
                             bool rev = false) {
  std::vector<std::string> out;
  s.Range(a, b, rev, [&](const EntryRef& e) {
    out.push_back(FormatID(e.id()));
    return true;
  });
  return out;
}

StreamID Add(Stream* s, uint64_t ms, uint64_t seq, std::vector<std::string_view> fv,
             NodeLimits lim = {}) {
  StreamID id{ms, seq}, out;
  EXPECT_EQ(s->Append(fv, &id, true, 0, lim, &out), Stream::AddStatus::kOk);
  return out;
}

TEST(Listpack, IntegerAndStringEncodingsRoundTrip) {
  Listpack lp;
  std::vector<int64_t> ints{0, 127, 128, -1, 4095, -4096, 4096, 32767, -32768, 8388607,
                            -8388608, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
  for (int64_t v : ints) lp.AppendInt(v);
  std::string s63(63, 'a'), s64(64, 'b'), s4095(4095, 'c'), s4096(4096, 'd');
  for (auto* s : {&s63, &s64, &s4095, &s4096}) lp.AppendString(*s);
  lp.AppendString("007");  // not canonical: stays a string
  lp.AppendString("-12");  // canonical: an integer
  ASSERT_EQ(Listpack::Validate(lp.bytes()), static_cast<int64_t>(ints.size() + 6));
  size_t off = lp.First();
  LpElem e;
  for (int64_t v : ints) {
    off = lp.Read(off, &e);
    ASSERT_TRUE(e.is_int);
    EXPECT_EQ(e.ival, v);
  }
  for (auto* s : {&s63, &s64, &s4095, &s4096}) {
    off = lp.Read(off, &e);
    EXPECT_FALSE(e.is_int);
    EXPECT_EQ(e.sval, *s);
  }
  off = lp.Read(off, &e);
  EXPECT_EQ(e.Str(), "007");
  EXPECT_FALSE(e.is_int);
  off = lp.Read(off, &e);
  EXPECT_TRUE(e.is_int);
  EXPECT_EQ(e.ival, -12);
  EXPECT_EQ(off, 0u);
}

TEST(Listpack, ReplaceIntChangesSizeAndStaysValid) {
  Listpack lp;
  lp.AppendInt(127);
  lp.AppendString("x");
  lp.ReplaceInt(lp.First(), 128);  // 1-byte -> 2-byte encoding
  EXPECT_EQ(Listpack::Validate(lp.bytes()), 2);
  EXPECT_EQ(lp.IntAt(lp.First()), 128);
}

TEST(Listpack, ValidateRejectsCorruption) {
  Listpack lp;
  lp.AppendString("hello");
  lp.AppendInt(300);
  std::string b = lp.bytes();
  ASSERT_GT(Listpack::Validate(b), 0);
  for (size_t i = 0; i < b.size(); i++) {
    std::string c = b;
    c[i] ^= 0x40;
    (void)Listpack::Validate(c);  // must not crash or read out of bounds
  }
  EXPECT_EQ(Listpack::Validate(b.substr(0, b.size() - 1)), -1);
  std::string bad = b;
  bad[bad.size() - 2] ^= 1;  // the last element's back-length
  EXPECT_EQ(Listpack::Validate(bad), -1);
}

TEST(StreamValue, AppendUsesMasterFieldsAndNewNodesAtLimits) {
  Stream s;
  NodeLimits lim{4096, 3};
  for (uint64_t i = 1; i <= 7; i++) Add(&s, i, 0, {"f", "v", "g", "w"}, lim);
  EXPECT_EQ(s.length, 7u);
  EXPECT_EQ(s.nodes.size(), 3u);  // 3 + 3 + 1
  NodeLayout l;
  ASSERT_TRUE(Stream::ParseNode(s.nodes.begin()->second, s.nodes.begin()->first, &l, true));
  EXPECT_EQ(l.count, 3);
  for (auto& e : l.entries) EXPECT_TRUE(e.flags & kFlagSameFields);
  Add(&s, 8, 0, {"other", "x"}, lim);
  NodeLayout last;
  ASSERT_TRUE(Stream::ParseNode(s.nodes.rbegin()->second, s.nodes.rbegin()->first, &last, true));
  EXPECT_FALSE(last.entries.back().flags & kFlagSameFields);
  std::vector<std::string> fv;
  s.Range({8, 0}, {8, 0}, false, [&](const EntryRef& e) {
    e.ForEachField([&](const LpElem& f, const LpElem& v) {
      fv.push_back(f.Str());
      fv.push_back(v.Str());
    });
    return true;
  });
  EXPECT_EQ(fv, (std::vector<std::string>{"other", "x"}));
}

TEST(StreamValue, IdsMustGrowAndAutoIdsFollowTheClock) {
  Stream s;
  Add(&s, 5, 5, {"a", "1"});
  StreamID id{5, 5}, out;
  EXPECT_EQ(s.Append({"a", "1"}, &id, true, 0, {}, &out), Stream::AddStatus::kIdTooSmall);
  StreamID partial{5, 0};
  ASSERT_EQ(s.Append({"a", "1"}, &partial, false, 0, {}, &out), Stream::AddStatus::kOk);
  EXPECT_EQ(out, (StreamID{5, 6}));
  ASSERT_EQ(s.Append({"a", "1"}, nullptr, false, 3, {}, &out), Stream::AddStatus::kOk);
  EXPECT_EQ(out, (StreamID{5, 7}));  // clock behind the top ID: sequence moves on
  ASSERT_EQ(s.Append({"a", "1"}, nullptr, false, 9, {}, &out), Stream::AddStatus::kOk);
  EXPECT_EQ(out, (StreamID{9, 0}));
}

TEST(StreamValue, RangeBothWaysAcrossNodesAndTombstones) {
  Stream s;
  NodeLimits lim{4096, 2};
  for (uint64_t i = 1; i <= 6; i++) Add(&s, i, 0, {"f", "v"}, lim);
  EXPECT_TRUE(s.Delete({3, 0}));
  EXPECT_FALSE(s.Delete({3, 0}));
  EXPECT_EQ(Ids(s), (std::vector<std::string>{"1-0", "2-0", "4-0", "5-0", "6-0"}));
  EXPECT_EQ(Ids(s, {2, 0}, {5, 0}, true),
            (std::vector<std::string>{"5-0", "4-0", "2-0"}));
  EXPECT_TRUE(s.Delete({4, 0}));  // the node's last live entry: the node goes
  EXPECT_EQ(s.nodes.size(), 2u);
  EXPECT_EQ(s.length, 4u);
  EXPECT_EQ(s.EdgeID(false, true), (StreamID{6, 0}));
  EXPECT_EQ(s.EdgeID(true, true), (StreamID{1, 0}));
}

TEST(StreamValue, TrimExactAndApproximate) {
  Stream s;
  NodeLimits lim{4096, 10};
  for (uint64_t i = 1; i <= 25; i++) Add(&s, i, 0, {"f", "v"}, lim);
  TrimArgs approx{TrimStrategy::kMaxLen, true, 0, 12, {}};
  EXPECT_EQ(s.Trim(approx), 10);  // whole nodes only: 25 -> 15
  EXPECT_EQ(s.length, 15u);
  TrimArgs exact{TrimStrategy::kMaxLen, false, 0, 12, {}};
  EXPECT_EQ(s.Trim(exact), 3);
  EXPECT_EQ(Ids(s).front(), "14-0");
  EXPECT_EQ(s.first_id, (StreamID{14, 0}));
  TrimArgs minid{TrimStrategy::kMinId, false, 0, 0, {20, 0}};
  EXPECT_EQ(s.Trim(minid), 6);
  EXPECT_EQ(Ids(s).front(), "20-0");
}

TEST(StreamValue, LagAndDistanceFollowRedis) {
  Stream s;
  for (uint64_t i = 1; i <= 5; i++) Add(&s, i, 0, {"f", "v"});
  Group* g = s.CreateGroup("g", {0, 0}, kInvalidEntriesRead);
  int64_t lag;
  ASSERT_TRUE(s.Lag(*g, &lag));
  EXPECT_EQ(lag, 5);
  g->last_id = {3, 0};
  g->entries_read = 3;
  s.Delete({4, 0});
  s.max_deleted = {4, 0};
  EXPECT_FALSE(s.Lag(*g, &lag));  // a tombstone after the group's position
  g->last_id = {5, 0};  // at the top: the counter is derived again
  g->entries_read = kInvalidEntriesRead;
  ASSERT_TRUE(s.Lag(*g, &lag));
  EXPECT_EQ(lag, 0);
}

TEST(StreamValue, CloneKeepsGroupsAndOwners) {
  Stream s;
  Add(&s, 1, 0, {"f", "v"});
  Group* g = s.CreateGroup("g", {1, 0}, 1);
  Consumer* c = g->CreateConsumer("alice", 10);
  g->pel[{1, 0}] = Nack{10, 2, c};
  c->pel.insert({1, 0});
  auto copy = s.Clone();
  Group* g2 = copy->FindGroup("g");
  ASSERT_NE(g2, nullptr);
  Consumer* c2 = g2->FindConsumer("alice");
  ASSERT_NE(c2, nullptr);
  EXPECT_NE(c2, c);
  EXPECT_EQ(g2->pel.at({1, 0}).consumer, c2);
  EXPECT_EQ(g2->pel.at({1, 0}).delivery_count, 2u);
}

TEST(StreamId, ParseFollowsRedisQuirks) {
  StreamID id;
  bool seq_given = true;
  EXPECT_TRUE(ParseID("5", &id, 7, IdParse::kStrict));
  EXPECT_EQ(id, (StreamID{5, 7}));
  EXPECT_TRUE(ParseID("5-*", &id, 0, IdParse::kStrict, &seq_given));
  EXPECT_FALSE(seq_given);
  EXPECT_FALSE(ParseID("5-*", &id, 0, IdParse::kStrict));  // only where XADD allows it
  EXPECT_FALSE(ParseID("-", &id, 0, IdParse::kStrict));
  EXPECT_TRUE(ParseID("-", &id, 0, IdParse::kRange));
  EXPECT_TRUE(ParseID("+", &id, 0, IdParse::kRange));
  EXPECT_EQ(id, StreamID::Max());
  EXPECT_TRUE(ParseID("007-01", &id, 0, IdParse::kStrict));  // strtoull's leniency
  EXPECT_EQ(id, (StreamID{7, 1}));
  EXPECT_FALSE(ParseID("-1", &id, 0, IdParse::kStrict));
  EXPECT_FALSE(ParseID("1-2-3", &id, 0, IdParse::kStrict));
  EXPECT_FALSE(ParseID("", &id, 0, IdParse::kStrict));
  EXPECT_FALSE(ParseID("18446744073709551616", &id, 0, IdParse::kStrict));
}

}  // namespace
}  // namespace ferrite::mod::streams
