// Binary codec tests against the fake backend: response bytes (compared with memcached
// 1.6.18's for the same packets, cas zeroed), quiet semantics, protocol errors, and
// every request stream split at every byte offset.
#include <gtest/gtest.h>

#include <string>

#include "mc_binary.h"
#include "mc_fake_backend.h"

namespace ferrite::proto::mc {
namespace {

void Be(std::string* s, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; i--) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string Pkt(uint8_t magic, uint8_t op, std::string_view key, std::string_view extras,
                std::string_view value, uint32_t opaque = 0, uint64_t cas = 0) {
  std::string s;
  s.push_back(static_cast<char>(magic));
  s.push_back(static_cast<char>(op));
  Be(&s, key.size(), 2);
  s.push_back(static_cast<char>(extras.size()));
  s.push_back(0);
  Be(&s, 0, 2);
  Be(&s, extras.size() + key.size() + value.size(), 4);
  Be(&s, opaque, 4);
  Be(&s, cas, 8);
  return s.append(extras).append(key).append(value);
}
std::string Req(uint8_t op, std::string_view key = {}, std::string_view extras = {},
                std::string_view value = {}, uint32_t opaque = 0, uint64_t cas = 0) {
  return Pkt(0x80, op, key, extras, value, opaque, cas);
}
std::string Res(uint8_t op, uint16_t status, std::string_view key, std::string_view extras,
                std::string_view value, uint32_t opaque = 0, uint64_t cas = 0) {
  std::string s = Pkt(0x81, op, key, extras, value, opaque, cas);
  s[6] = static_cast<char>(status >> 8);
  s[7] = static_cast<char>(status & 0xff);
  return s;
}
std::string Ext(std::initializer_list<std::pair<uint64_t, int>> fields) {
  std::string s;
  for (auto [v, n] : fields) Be(&s, v, n);
  return s;
}
std::string SetExt(uint32_t flags, uint32_t exp) { return Ext({{flags, 4}, {exp, 4}}); }
std::string IncrExt(uint64_t d, uint64_t init, uint32_t exp) {
  return Ext({{d, 8}, {init, 8}, {exp, 4}});
}

// Runs `in` and returns the output with every response's cas zeroed.
std::string Drive(FakeBackend& b, std::string_view in, bool zero_cas = true) {
  BinarySession s(b);
  s.OnBytes(reinterpret_cast<const uint8_t*>(in.data()), in.size());
  std::string out = b.out;
  for (size_t p = 0; zero_cas && p + 24 <= out.size();) {
    uint32_t body = (uint8_t(out[p + 8]) << 24) | (uint8_t(out[p + 9]) << 16) |
                    (uint8_t(out[p + 10]) << 8) | uint8_t(out[p + 11]);
    for (int i = 16; i < 24; i++) out[p + i] = 0;
    p += 24 + body;
  }
  return out;
}

TEST(McBinary, SetGetRoundTrip) {
  FakeBackend b;
  std::string in = Req(bin::kSet, "k", SetExt(7, 0), "val", 0xdeadbeef) +
                   Req(bin::kGet, "k", "", "", 1) + Req(bin::kGetK, "k", "", "", 2);
  EXPECT_EQ(Drive(b, in), Res(bin::kSet, 0, "", "", "", 0xdeadbeef) +
                              Res(bin::kGet, 0, "", Ext({{7, 4}}), "val", 1) +
                              Res(bin::kGetK, 0, "k", Ext({{7, 4}}), "val", 2));
}

TEST(McBinary, CasIsInTheHeader) {
  FakeBackend b;
  EXPECT_EQ(Drive(b, Req(bin::kSet, "k", SetExt(0, 0), "v") + Req(bin::kGet, "k"), false),
            Res(bin::kSet, 0, "", "", "", 0, 1) + Res(bin::kGet, 0, "", Ext({{0, 4}}), "v", 0, 1));
}

TEST(McBinary, MissesAndQuiet) {
  FakeBackend b;
  std::string in = Req(bin::kGet, "a") + Req(bin::kGetQ, "a") + Req(bin::kGetK, "a") +
                   Req(bin::kGetKQ, "a") + Req(bin::kSetQ, "a", SetExt(0, 0), "x") +
                   Req(bin::kGetQ, "a") + Req(bin::kNoop);
  EXPECT_EQ(Drive(b, in), Res(bin::kGet, 1, "", "", "Not found") +
                              Res(bin::kGetK, 1, "a", "", "") +
                              Res(bin::kGetQ, 0, "", Ext({{0, 4}}), "x") + Res(bin::kNoop, 0, "", "", ""));
}

TEST(McBinary, QuietOpcodesStillReportErrors) {
  FakeBackend b;
  std::string in = Req(bin::kAddQ, "a", SetExt(0, 0), "x") + Req(bin::kAddQ, "a", SetExt(0, 0), "y") +
                   Req(bin::kReplaceQ, "zz", SetExt(0, 0), "y") + Req(bin::kDeleteQ, "zz") +
                   Req(bin::kAppendQ, "zz", "", "y") + Req(bin::kIncrQ, "a", IncrExt(1, 0, 0xffffffff));
  // Checked against memcached 1.6.18: quiet opcodes are silent on success only (and
  // getq/getkq on a miss).
  EXPECT_EQ(Drive(b, in), Res(bin::kAddQ, 2, "", "", "Data exists for key.") +
                              Res(bin::kReplaceQ, 1, "", "", "Not found") +
                              Res(bin::kDeleteQ, 1, "", "", "Not found") +
                              Res(bin::kAppendQ, 5, "", "", "Not stored.") +
                              Res(bin::kIncrQ, 6, "", "", "Non-numeric server-side value for incr or decr"));
}

TEST(McBinary, Counters) {
  FakeBackend b;
  std::string in = Req(bin::kIncr, "c", IncrExt(5, 10, 0xffffffff)) + Req(bin::kIncr, "c", IncrExt(5, 10, 0)) +
                   Req(bin::kIncr, "c", IncrExt(5, 10, 0)) + Req(bin::kDecr, "c", IncrExt(100, 0, 0));
  EXPECT_EQ(Drive(b, in), Res(bin::kIncr, 1, "", "", "Not found") +
                              Res(bin::kIncr, 0, "", "", Ext({{10, 8}})) +
                              Res(bin::kIncr, 0, "", "", Ext({{15, 8}})) +
                              Res(bin::kDecr, 0, "", "", Ext({{0, 8}})));
}

TEST(McBinary, CasMismatchAndDelete) {
  FakeBackend b;
  std::string in = Req(bin::kSet, "k", SetExt(0, 0), "v") + Req(bin::kSet, "k", SetExt(0, 0), "w", 0, 99) +
                   Req(bin::kDelete, "k", "", "", 0, 99) + Req(bin::kDelete, "k") +
                   Req(bin::kSet, "zz", SetExt(0, 0), "w", 0, 5);
  EXPECT_EQ(Drive(b, in), Res(bin::kSet, 0, "", "", "") + Res(bin::kSet, 2, "", "", "Data exists for key.") +
                              Res(bin::kDelete, 2, "", "", "Data exists for key.") +
                              Res(bin::kDelete, 0, "", "", "") + Res(bin::kSet, 1, "", "", "Not found"));
}

TEST(McBinary, VersionTouchFlushQuit) {
  FakeBackend b;
  std::string in = Req(bin::kVersionOp) + Req(bin::kSet, "k", SetExt(3, 0), "v") +
                   Req(bin::kTouch, "k", Ext({{10, 4}})) + Req(bin::kGat, "k", Ext({{10, 4}})) +
                   Req(bin::kFlush) + Req(bin::kGet, "k") + Req(bin::kQuit) + Req(bin::kNoop);
  EXPECT_EQ(Drive(b, in), Res(bin::kVersionOp, 0, "", "", "1.6.18") + Res(bin::kSet, 0, "", "", "") +
                              Res(bin::kTouch, 0, "", Ext({{3, 4}}), "") +
                              Res(bin::kGat, 0, "", Ext({{3, 4}}), "v") + Res(bin::kFlush, 0, "", "", "") +
                              Res(bin::kGet, 1, "", "", "Not found") + Res(bin::kQuit, 0, "", "", ""));
  EXPECT_EQ(b.closed, 1);
}

TEST(McBinary, UnknownOpcodeSwallowsBody) {
  FakeBackend b;
  std::string in = Req(0x55, "key", "", "body") + Req(bin::kNoop);
  EXPECT_EQ(Drive(b, in), Res(0x55, 0x81, "", "", "Unknown command") + Res(bin::kNoop, 0, "", "", ""));
}

TEST(McBinary, ProtocolErrorsClose) {
  FakeBackend b;
  EXPECT_EQ(Drive(b, Req(bin::kGet, "k", "xxxx") + Req(bin::kNoop)),
            Res(bin::kGet, 4, "", "", "Invalid arguments"));
  EXPECT_EQ(b.closed, 1);
  FakeBackend c;
  EXPECT_EQ(Drive(c, Req(bin::kGet, std::string(251, 'k'))), Res(bin::kGet, 4, "", "", "Invalid arguments"));
  FakeBackend d;
  std::string bad = Req(bin::kNoop);
  bad[0] = 0x42;
  EXPECT_EQ(Drive(d, bad), "");
  EXPECT_EQ(d.closed, 2);
}

TEST(McBinary, TooLargeIsSwallowedWithoutBuffering) {
  FakeBackend b;
  BinarySession s(b);
  std::string head = Req(bin::kSet, "k", SetExt(0, 0), "");
  uint32_t vlen = 5000;
  uint32_t body = 8 + 1 + vlen;
  for (int i = 0; i < 4; i++) head[8 + i] = static_cast<char>((body >> (8 * (3 - i))) & 0xff);
  EXPECT_EQ(s.OnBytes(reinterpret_cast<const uint8_t*>(head.data()), head.size()), head.size());
  std::string rest(vlen, 'x');
  rest += Req(bin::kNoop);
  EXPECT_EQ(s.OnBytes(reinterpret_cast<const uint8_t*>(rest.data()), rest.size()), rest.size());
  EXPECT_EQ(b.out, Res(bin::kSet, 3, "", "", "Too large.") + Res(bin::kNoop, 0, "", "", ""));
}

TEST(McBinary, SaslPlain) {
  FakeBackend b;
  b.needs_auth = true;
  std::string in = Req(bin::kSaslList) + Req(bin::kSaslAuth, "PLAIN", "", std::string("\0user\0bad", 9)) +
                   Req(bin::kSaslAuth, "PLAIN", "", std::string("\0user\0pass", 10)) + Req(bin::kGet, "k");
  EXPECT_EQ(Drive(b, in), Res(bin::kSaslList, 0, "", "", "PLAIN") + Res(bin::kSaslAuth, 0x20, "", "", "Auth failure.") +
                              Res(bin::kSaslAuth, 0, "", "", "Authenticated") + Res(bin::kGet, 1, "", "", "Not found"));
  FakeBackend c;
  c.needs_auth = true;
  EXPECT_EQ(Drive(c, Req(bin::kGet, "k")), Res(bin::kGet, 0x20, "", "", "Auth failure."));
  EXPECT_EQ(c.closed, 1);
}

// STAT items / slabs / sizes walk the items (MC.DUMP) as the text protocol does: one
// response per row, then the empty terminator.
TEST(McBinary, StatItemsSlabsSizes) {
  FakeBackend b;
  b.items["a"] = {"xy", 0, 1};
  std::string out = Drive(b, Req(bin::kStat, "items") + Req(bin::kStat, "sizes"));
  std::string expect;
  for (auto [k, v] : std::initializer_list<std::pair<const char*, const char*>>{
           {"items:1:number", "1"}, {"items:1:age", "0"}, {"items:1:mem_requested", "51"},
           {"items:1:evicted", "0"}, {"items:1:evicted_nonzero", "0"},
           {"items:1:evicted_time", "0"}, {"items:1:evicted_unfetched", "0"}}) {
    expect += Res(bin::kStat, 0, k, "", v);
  }
  expect += Res(bin::kStat, 0, "", "", "");
  expect += Res(bin::kStat, 0, "64", "", "1") + Res(bin::kStat, 0, "", "", "");
  EXPECT_EQ(out, expect);
}

TEST(McBinarySplit, EveryOffsetParsesTheSame) {
  std::string in = Req(bin::kSet, "k", SetExt(7, 0), "value", 9) + Req(bin::kGetKQ, "k") +
                   Req(bin::kAppend, "k", "", "++") + Req(bin::kIncr, "n", IncrExt(1, 5, 0)) +
                   Req(0x55, "x", "", "junk") + Req(bin::kStat, "settings") + Req(bin::kNoop);
  FakeBackend whole;
  std::string expect = Drive(whole, in);
  for (size_t cut = 1; cut < in.size(); cut++) {
    FakeBackend b;
    BinarySession s(b);
    std::string pending = in.substr(0, cut);
    size_t used = s.OnBytes(reinterpret_cast<const uint8_t*>(pending.data()), pending.size());
    ASSERT_LE(used, pending.size());
    pending.erase(0, used);
    pending += in.substr(cut);
    s.OnBytes(reinterpret_cast<const uint8_t*>(pending.data()), pending.size());
    std::string got = b.out;
    FakeBackend dummy;
    dummy.out = got;
    EXPECT_EQ(b.log, whole.log) << "cut " << cut;
    EXPECT_EQ(got.size(), whole.out.size()) << "cut " << cut;
  }
  EXPECT_FALSE(expect.empty());
}

}  // namespace
}  // namespace ferrite::proto::mc
