// Family tests of the hyperloglog module through the in-process harness (hyperloglog.so
// with strings.so, keys.so and lists.so). Expected replies are redis-server 7.0.15's.
#include <memory>
#include <string>
#include <vector>

#include "hyperloglog_internal.h"
#include "tests/harness/harness.h"

namespace ferrite::mod::hll {
namespace {

using test::Harness;
using test::HarnessOptions;
using test::IsBulk;
using test::IsError;
using test::IsInt;
using test::IsOk;
using test::IsSimple;
using ::testing::ElementsAre;
using Cmd = std::vector<std::string>;

const char* const kNotHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const char* const kInvalid = "INVALIDOBJ Corrupted HLL object detected";

HarnessOptions Opts() {
  HarnessOptions o;
  o.plugins = {"hyperloglog", "strings", "keys", "lists"};
  o.config = {{"server.notify_keyspace_events", "KEA"}};
  return o;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(Hll, Arity) {
  Harness h(Opts());
  for (const auto& spec : HllCommandTable()) {
    const std::string err = "ERR wrong number of arguments for '" + Lower(spec.name) + "' command";
    const int need = spec.arity > 0 ? spec.arity : -spec.arity;
    std::vector<std::string> too_few = {spec.name};
    for (int i = 1; i < need - 1; i++) too_few.push_back("x");
    if (need > 1) {
      EXPECT_THAT(h.Run(too_few), IsError(err)) << spec.name;
    }
    if (spec.arity > 0) {
      std::vector<std::string> too_many = {spec.name};
      for (int i = 1; i < need + 1; i++) too_many.push_back("1");
      EXPECT_THAT(h.Run(too_many), IsError(err)) << spec.name;
    }
  }
}

TEST(Hll, AddCountMerge) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"PFCOUNT", "h"}), IsInt(0));
  EXPECT_THAT(h.Run({"PFADD", "h"}), IsInt(1));  // creates the key
  EXPECT_THAT(h.Run({"PFADD", "h"}), IsInt(0));
  EXPECT_THAT(h.Run({"PFADD", "h", "a", "b", "c"}), IsInt(1));
  EXPECT_THAT(h.Run({"PFADD", "h", "a", "b"}), IsInt(0));
  EXPECT_THAT(h.Run({"GET", "h"}),
              IsBulk(std::string("HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80`\xf3\x80P\xb1\x84K\xfb\x80" "BZ",
                                 27)));
  EXPECT_THAT(h.Run({"PFCOUNT", "h"}), IsInt(3));
  // The refreshed cache is stored in the header.
  EXPECT_THAT(h.Run({"GETRANGE", "h", "8", "15"}), IsBulk(std::string("\x03\0\0\0\0\0\0\0", 8)));
  EXPECT_THAT(h.Run({"PFADD", "g", "c", "d"}), IsInt(1));
  EXPECT_THAT(h.Run({"PFCOUNT", "h", "g", "nokey"}), IsInt(4));
  EXPECT_THAT(h.Run({"PFMERGE", "m", "h", "g"}), IsOk());
  EXPECT_THAT(h.Run({"PFCOUNT", "m"}), IsInt(4));
  EXPECT_THAT(h.Run({"PFMERGE", "empty"}), IsOk());
  EXPECT_THAT(h.Run({"PFCOUNT", "empty"}), IsInt(0));
  EXPECT_THAT(h.Run({"OBJECT", "ENCODING", "empty"}), IsBulk("raw"));
}

TEST(Hll, DenseAfterSparseLimitAndDebug) {
  Harness h(Opts());
  ASSERT_THAT(h.Run({"CONFIG", "SET", "hll-sparse-max-bytes", "30"}), IsOk());
  h.Run({"PFADD", "h", "a", "b", "c"});
  EXPECT_THAT(h.Run({"PFDEBUG", "ENCODING", "h"}), IsSimple("sparse"));
  h.Run({"PFADD", "h", "d", "e", "f", "g"});
  EXPECT_THAT(h.Run({"PFDEBUG", "ENCODING", "h"}), IsSimple("dense"));
  EXPECT_THAT(h.Run({"STRLEN", "h"}), IsInt(12304));
  EXPECT_THAT(h.Run({"PFCOUNT", "h"}), IsInt(7));
  EXPECT_THAT(h.Run({"PFDEBUG", "DECODE", "h"}), IsError("ERR HLL encoding is not sparse"));
  h.Run({"PFADD", "s", "a"});
  EXPECT_THAT(h.Run({"PFDEBUG", "TODENSE", "s"}), IsInt(1));
  EXPECT_THAT(h.Run({"PFDEBUG", "TODENSE", "s"}), IsInt(0));
  test::Reply regs = h.Run({"PFDEBUG", "GETREG", "s"});
  ASSERT_EQ(regs.elems.size(), 16384u);
  EXPECT_THAT(h.Run({"PFDEBUG", "GETREG", "nokey"}),
              IsError("ERR The specified key does not exist"));
  EXPECT_THAT(h.Run({"PFDEBUG", "FOO", "s"}), IsError("ERR Unknown PFDEBUG subcommand 'FOO'"));
}

TEST(Hll, WrongTypeAndCorruption) {
  Harness h(Opts());
  ASSERT_THAT(h.Run({"RPUSH", "l", "x"}), IsInt(1));
  ASSERT_THAT(h.Run({"SET", "s", "not an hll"}), IsOk());
  const char* kWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";
  for (Cmd c : std::vector<Cmd>{{"PFADD", "l", "a"}, {"PFCOUNT", "l"}, {"PFCOUNT", "h", "l"},
                                {"PFMERGE", "l"}, {"PFMERGE", "d", "l"}, {"PFDEBUG", "ENCODING", "l"}})
    EXPECT_THAT(h.Run(c), IsError(kWrongType)) << c[0];
  for (Cmd c : std::vector<Cmd>{{"PFADD", "s", "a"}, {"PFCOUNT", "s"}, {"PFCOUNT", "x", "s"},
                                {"PFMERGE", "d", "s"}})
    EXPECT_THAT(h.Run(c), IsError(kNotHll)) << c[0];
  EXPECT_THAT(h.Run({"EXISTS", "d"}), IsInt(0));
  // A sparse body that covers too few registers.
  h.Run({"PFADD", "c", "a", "b", "c"});
  ASSERT_THAT(h.Run({"SETRANGE", "c", "16", std::string("\x7f\x00", 2)}), IsInt(27));
  EXPECT_THAT(h.Run({"PFCOUNT", "c"}), IsError(kInvalid));
  EXPECT_THAT(h.Run({"PFCOUNT", "c", "c"}), IsError(kInvalid));
  EXPECT_THAT(h.Run({"PFMERGE", "d", "c"}), IsError(kInvalid));
  EXPECT_THAT(h.Run({"PFDEBUG", "TODENSE", "c"}), IsError(kInvalid));
}

TEST(Hll, EventsAndPropagation) {
  Harness h(Opts());
  auto rec = std::make_unique<test::PropagationRecorder>(h);
  auto ev = std::make_unique<test::EventRecorder>(h, ~0u);
  h.Run({"PFADD", "h", "a"});
  h.Run({"PFADD", "h", "a"});  // no register raised: nothing
  h.Run({"PFCOUNT", "h"});     // refreshes the cache: propagated
  h.Run({"PFCOUNT", "h"});     // cached: nothing
  h.Run({"PFCOUNT", "h", "nokey"});
  h.Run({"PFMERGE", "m", "h"});
  h.Run({"PFDEBUG", "ENCODING", "m"});
  h.Run({"PFDEBUG", "TODENSE", "m"});
  std::vector<Cmd> cmds;
  for (auto& c : rec->commands())
    if (c.argv[0] != "SELECT") cmds.push_back(c.argv);
  std::vector<std::string> events;
  for (auto& e : ev->events()) events.push_back(e.event + ":" + e.key);
  rec.reset();
  ev.reset();
  EXPECT_THAT(cmds, ElementsAre(Cmd{"PFADD", "h", "a"}, Cmd{"PFCOUNT", "h"},
                                Cmd{"PFMERGE", "m", "h"}, Cmd{"PFDEBUG", "TODENSE", "m"}));
  EXPECT_THAT(events, ElementsAre("pfadd:h", "pfadd:m"));
}

TEST(Hll, SelfTest) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"PFSELFTEST"}), IsOk());
}

}  // namespace
}  // namespace ferrite::mod::hll
