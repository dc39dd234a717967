// The replication stream's encoder and parser, and the backlog ring (no host).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "host/replication/backlog.h"
#include "host/replication/repl_stream.h"

namespace ferrite::host::repl {
namespace {

std::string Encode(std::vector<std::string> args) {
  std::vector<ferrite_slice> v;
  for (auto& a : args) v.push_back({a.data(), a.size()});
  std::string out;
  AppendCommand(&out, static_cast<int>(v.size()), v.data());
  return out;
}

TEST(ReplStream, CasEpochCarrierRoundTrips) {
  std::string enc;
  AppendCasEpochCarrier(&enc, 4242);
  EXPECT_EQ(enc, Encode({"PUBLISH", "__ferrite__:casepoch", "4242"}));
  uint64_t e = 0;
  std::vector<std::string_view> v{"publish", "__ferrite__:casepoch", "4242"};
  EXPECT_TRUE(ParseCasEpochCarrier(v, &e));
  EXPECT_EQ(e, 4242u);
  for (std::vector<std::string_view> bad :
       {std::vector<std::string_view>{"PUBLISH", "__ferrite__:casepoch", ""},
        {"PUBLISH", "__ferrite__:casepoch", "12a"},
        {"PUBLISH", "__ferrite__:casepoch", "-1"},
        {"PUBLISH", "__ferrite__:casepoch", "99999999999999999999"},
        {"PUBLISH", "__ferrite__:mcflags", "1"},
        {"SET", "__ferrite__:casepoch", "1"},
        {"PUBLISH", "__ferrite__:casepoch"}})
    EXPECT_FALSE(ParseCasEpochCarrier(bad, &e)) << bad.size();
}

// memcached's stale mark: MC.DELETE k STALE travels as a PUBLISH a Redis replica
// delivers to nobody and a Ferrite replica's link turns back into the command.
TEST(ReplStream, StaleCarrierRoundTrips) {
  std::vector<std::string> cmd{"MC.DELETE", "k 1", "STALE"};
  std::vector<ferrite_slice> v;
  for (auto& a : cmd) v.push_back({a.data(), a.size()});
  std::string out;
  ASSERT_TRUE(RewriteForReplicas(3, v.data(), &out));
  EXPECT_EQ(out, Encode({"PUBLISH", "__ferrite__:mcstale", "k 1"}));
  std::string_view key;
  std::vector<std::string_view> p{"publish", "__ferrite__:mcstale", "k 1"};
  ASSERT_TRUE(ParseStaleCarrier(p, &key));
  EXPECT_EQ(key, "k 1");
  for (std::vector<std::string_view> bad :
       {std::vector<std::string_view>{"PUBLISH", "__ferrite__:mcstale", ""},
        {"PUBLISH", "__ferrite__:mcflags", "k"},
        {"SET", "__ferrite__:mcstale", "k"},
        {"PUBLISH", "__ferrite__:mcstale"}})
    EXPECT_FALSE(ParseStaleCarrier(bad, &key)) << bad.size();
  out.clear();
  v.pop_back();  // a plain MC.DELETE is not rewritten
  EXPECT_FALSE(RewriteForReplicas(2, v.data(), &out));
}

// Hash field TTL commands travel inside a pcall script (a redis-server 7.0 replica
// ignores them without an error), split into chunks Lua's unpack() can take; a
// Ferrite replica's link gets the command back.
TEST(ReplStream, FieldTtlCarrierRoundTripsInChunks) {
  const std::string script(kFieldTtlScript);
  std::vector<std::string> cmd{"HPEXPIREAT", "h", "1700000000000", "FIELDS", "2501"};
  for (int i = 0; i < 2501; i++) cmd.push_back("f" + std::to_string(i));
  std::vector<ferrite_slice> v;
  for (auto& a : cmd) v.push_back({a.data(), a.size()});
  std::string out;
  ASSERT_TRUE(RewriteForReplicas(static_cast<int>(v.size()), v.data(), &out));
  std::string want;
  for (int first = 0; first < 2501; first += kFieldTtlChunk) {
    int m = std::min(kFieldTtlChunk, 2501 - first);
    std::vector<std::string> e{"EVAL", script, "1", "h", "HPEXPIREAT", "1700000000000",
                               "FIELDS", std::to_string(m)};
    for (int i = 0; i < m; i++) e.push_back("f" + std::to_string(first + i));
    want += Encode(e);
  }
  EXPECT_EQ(out, want);

  std::vector<std::string_view> eval{"eval", kFieldTtlScript, "1", "h", "HPERSIST", "FIELDS",
                                     "1", "a"};
  std::vector<std::string_view> back;
  ASSERT_TRUE(ParseFieldTtlCarrier(eval, &back));
  EXPECT_EQ(back, (std::vector<std::string_view>{"HPERSIST", "h", "FIELDS", "1", "a"}));
  for (std::vector<std::string_view> bad :
       {std::vector<std::string_view>{"EVAL", "return 1", "1", "h", "HPERSIST"},
        {"EVAL", kFieldTtlScript, "2", "h", "HPERSIST"},
        {"EVALSHA", kFieldTtlScript, "1", "h", "HPERSIST"},
        {"EVAL", kFieldTtlScript, "1", "h"}})
    EXPECT_FALSE(ParseFieldTtlCarrier(bad, &back)) << bad[0] << bad[2];
  // HPERSIST is carried the same way; other hash commands go out as they are.
  std::vector<std::string> persist{"HPERSIST", "h", "FIELDS", "1", "a"};
  v.clear();
  for (auto& a : persist) v.push_back({a.data(), a.size()});
  out.clear();
  ASSERT_TRUE(RewriteForReplicas(5, v.data(), &out));
  EXPECT_EQ(out, Encode({"EVAL", script, "1", "h", "HPERSIST", "FIELDS", "1", "a"}));
  std::vector<std::string> hdel{"HDEL", "h", "a"};
  v.clear();
  for (auto& a : hdel) v.push_back({a.data(), a.size()});
  out.clear();
  EXPECT_FALSE(RewriteForReplicas(3, v.data(), &out));
}

TEST(ReplStream, EncodesMultibulk) {
  EXPECT_EQ(Encode({"SET", "k", ""}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
  EXPECT_EQ(Encode({std::string(12, 'x')}), "*1\r\n$12\r\n" + std::string(12, 'x') + "\r\n");
}

TEST(ReplStream, ParsesEveryCommandSplitAtEveryByte) {
  std::string stream = Encode({"SELECT", "3"}) + "\n" + Encode({"SET", "a\r\nb", "v"}) +
                       Encode({"PING"}) + Encode({"DEL", std::string(300, 'k')});
  for (size_t cut = 0; cut <= stream.size(); cut++) {
    CommandReader r;
    std::vector<std::string_view> argv;
    std::vector<std::vector<std::string>> got;
    std::string have = stream.substr(0, cut);
    size_t pos = 0;
    auto drain = [&] {
      for (;;) {
        size_t used = 0;
        auto st = r.Next(have.data() + pos, have.size() - pos, &argv, &used);
        if (st != CommandReader::Status::kCommand) {
          ASSERT_EQ(st, CommandReader::Status::kNeedMore);
          return;
        }
        ASSERT_GT(used, 0u);
        pos += used;
        if (!argv.empty()) got.emplace_back(argv.begin(), argv.end());
      }
    };
    drain();
    have += stream.substr(cut);
    drain();
    ASSERT_EQ(pos, stream.size()) << "cut " << cut;
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[1][1], "a\r\nb");
    EXPECT_EQ(got[3][1].size(), 300u);
  }
}

TEST(ReplStream, RejectsCorruptInput) {
  const char* bad[] = {"+OK\r\n", "*2\r\n$3\r\nSET\r\n:1\r\n", "*1\r\n$3\r\nabcX\r\n",
                       "*-5\r\n", "*1\r\n$-1\r\n", "*x\r\n", "*1\r\n$99999999999\r\n",
                       "\rX"};
  for (const char* b : bad) {
    CommandReader r;
    std::vector<std::string_view> argv;
    size_t used = 0;
    EXPECT_EQ(r.Next(b, strlen(b), &argv, &used), CommandReader::Status::kError) << b;
    EXPECT_FALSE(r.error().empty());
  }
}

TEST(ReplStream, HugeClaimedLengthNeedsMoreWithoutAllocating) {
  CommandReader r;
  std::vector<std::string_view> argv;
  size_t used = 0;
  std::string s = "*1\r\n$536870912\r\nab";
  EXPECT_EQ(r.Next(s.data(), s.size(), &argv, &used), CommandReader::Status::kNeedMore);
}

TEST(Backlog, OffsetsAndWrap) {
  Backlog b(8, 100);  // next byte is offset 101
  EXPECT_EQ(b.first_offset(), 101);
  EXPECT_EQ(b.histlen(), 0);
  std::string out;
  EXPECT_TRUE(b.CopyFrom(101, &out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(b.CopyFrom(102, &out));
  b.Append("abcde");
  EXPECT_EQ(b.end_offset(), 105);
  EXPECT_TRUE(b.CopyFrom(103, &out));
  EXPECT_EQ(out, "cde");
  b.Append("fghij");  // wraps: holds the last 8 bytes "cdefghij"
  EXPECT_EQ(b.histlen(), 8);
  EXPECT_EQ(b.first_offset(), 103);
  EXPECT_FALSE(b.CopyFrom(102, &out));  // overwritten: a full resync, never wrong bytes
  EXPECT_TRUE(b.CopyFrom(103, &out));
  EXPECT_EQ(out, "cdefghij");
  EXPECT_TRUE(b.CopyFrom(110, &out));
  EXPECT_EQ(out, "j");
  EXPECT_TRUE(b.CopyFrom(111, &out));
  EXPECT_EQ(out, "");
  b.Append(std::string(20, 'z') + "12345678");  // longer than the ring
  EXPECT_TRUE(b.CopyFrom(b.first_offset(), &out));
  EXPECT_EQ(out, "12345678");
  EXPECT_EQ(b.end_offset(), 138);
}

TEST(Backlog, ResizeKeepsNewestBytes) {
  Backlog b(8, 0);
  b.Append("abcdefgh");
  b.Resize(4);
  std::string out;
  EXPECT_EQ(b.first_offset(), 5);
  EXPECT_TRUE(b.CopyFrom(5, &out));
  EXPECT_EQ(out, "efgh");
  b.Resize(16);
  b.Append("ij");
  EXPECT_TRUE(b.CopyFrom(5, &out));
  EXPECT_EQ(out, "efghij");
  EXPECT_EQ(b.end_offset(), 10);
}

}  // namespace
}  // namespace ferrite::host::repl
